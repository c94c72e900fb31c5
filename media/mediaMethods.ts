/** The `MediaNode` methods other processes may call; the list the internal route accepts. */
export const MEDIA_METHODS = [
  'getRouterRtpCapabilities',
  'registerParticipant',
  'createWebRtcTransport',
  'connectTransport',
  'restartIce',
  'createPlainTransport',
  'connectPlainTransport',
  'closeTransport',
  'createPhoneLeg',
  'produce',
  'closeProducer',
  'pauseProducer',
  'resumeProducer',
  'consume',
  'resumeConsumer',
  'pauseConsumer',
  'setConsumerPreferredLayers',
  'closeParticipant',
  'closeMeeting',
  'openPipe',
  'pipeProducer',
] as const;

export type MediaMethodName = (typeof MEDIA_METHODS)[number];
