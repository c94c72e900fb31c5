import { chat } from './chat.js';
import { closeProducer } from './closeProducer.js';
import { connectTransport } from './connectTransport.js';
import { consume } from './consume.js';
import { createTransport } from './createTransport.js';
import { getRouterRtpCapabilities } from './getRouterRtpCapabilities.js';
import type { HandlerTable } from './Handler.js';
import { join } from './join.js';
import { leave } from './leave.js';
import { moderate } from './moderate.js';
import { pauseConsumer } from './pauseConsumer.js';
import { pauseProducer } from './pauseProducer.js';
import { presentPage } from './presentPage.js';
import { presentStart } from './presentStart.js';
import { presentStop } from './presentStop.js';
import { produce } from './produce.js';
import { restartIce } from './restartIce.js';
import { resumeConsumer } from './resumeConsumer.js';
import { resumeProducer } from './resumeProducer.js';
import { setConsumerPreferredLayers } from './setConsumerPreferredLayers.js';

export const handlers: HandlerTable = {
  getRouterRtpCapabilities,
  join,
  createTransport,
  connectTransport,
  restartIce,
  produce,
  closeProducer,
  pauseProducer,
  resumeProducer,
  consume,
  resumeConsumer,
  pauseConsumer,
  setConsumerPreferredLayers,
  chat,
  moderate,
  presentStart,
  presentPage,
  presentStop,
  leave,
};
