/**
 * `@convene/sdk`: the Convene client for browsers, Node (through `@convene/sdk/node`, on
 * @roamhq/wrtc) and React Native (react-native-webrtc's `registerGlobals()` first, then
 * `handlerName: 'ReactNative106'`, mediasoup-client's Unified Plan handler for it).
 */
export { ConveneClient } from './ConveneClient.ts';
export { ConveneError } from './ConveneError.ts';
export { Emitter } from './Emitter.ts';
export type { IceRestart, IceRestartReason } from './IceRecovery.ts';
export type { LocalPublication, PublishOptions } from './MediaSession.ts';
export type { BlobLike, FetchLike, FileReference, FormDataLike, RequestInitLike, ResponseLike } from './platform.ts';
export type { ClientEvents, JoinOptions, MediaTrack, RemoteTrack } from './types.ts';
export { PROTOCOL_VERSION } from '@convene/protocol/version';
export type {
  ChatMessage,
  ClientMessage,
  ClientMessageName,
  ClientResults,
  FileInfo,
  Grants,
  JoinResult,
  MediaSource,
  MeetingSummary,
  ParticipantInfo,
  Presentation,
  ProducerInfo,
  Reaction,
  Role,
  ServerEvents,
  VideoCodec,
  VideoCodecSetting,
} from '@convene/protocol';
