import { chat } from './chat.ts';
import { closeProducer } from './closeProducer.ts';
import { closeTransport } from './closeTransport.ts';
import { connectTransport } from './connectTransport.ts';
import { consume } from './consume.ts';
import { createTransport } from './createTransport.ts';
import { getRouterRtpCapabilities } from './getRouterRtpCapabilities.ts';
import type { HandlerTable } from './Handler.ts';
import { join } from './join.ts';
import { leave } from './leave.ts';
import { moderate } from './moderate.ts';
import { pauseConsumer } from './pauseConsumer.ts';
import { pauseProducer } from './pauseProducer.ts';
import { presentPage } from './presentPage.ts';
import { presentStart } from './presentStart.ts';
import { presentStop } from './presentStop.ts';
import { produce } from './produce.ts';
import { raiseHand } from './raiseHand.ts';
import { react } from './react.ts';
import { restartIce } from './restartIce.ts';
import { resumeConsumer } from './resumeConsumer.ts';
import { resumeProducer } from './resumeProducer.ts';
import { setConsumerPreferredLayers } from './setConsumerPreferredLayers.ts';

export const handlers: HandlerTable = {
  getRouterRtpCapabilities,
  join,
  createTransport,
  connectTransport,
  restartIce,
  closeTransport,
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
  raiseHand,
  react,
  presentStart,
  presentPage,
  presentStop,
  leave,
};
