import type { types as ms } from 'mediasoup-client';
import type { ChatMessage, ClientMessage, ClientMessageName, ClientResults, FileInfo, IceServer, JoinResult, MediaSource, MeetingSummary, ParticipantInfo, Presentation, ProducerInfo, ServerEvents, VideoCodec } from '@convene/protocol';
import type { FetchLike } from './platform.ts';

/**
 * A media track as mediasoup-client types it: the platform's `MediaStreamTrack` (the DOM's in a
 * browser, @roamhq/wrtc's in Node, react-native-webrtc's in React Native). The SDK itself is
 * compiled without the DOM lib, so it names the track through mediasoup-client.
 */
export type MediaTrack = ms.Consumer['track'];

export interface RemoteTrack {
  consumerId: string;
  producerId: string;
  participantId: string;
  source: MediaSource;
  kind: 'audio' | 'video';
  track: MediaTrack;
  consumer: ms.Consumer;
}

/** Sends one protocol message and resolves with its answer (see {@link Signalling.request}). */
export type Requester = <N extends ClientMessageName>(name: N, payload: ClientMessage<N>) => Promise<ClientResults[N]>;

/** Why an ICE restart was asked: the transport's state, the host's network, or a resumed seat. */
export type IceRestartReason = 'disconnected' | 'failed' | 'network' | 'resumed';

export interface IceRestart {
  transportId: string;
  direction: 'send' | 'recv';
  reason: IceRestartReason;
}

export type ClientEvents = {
  joined: [JoinResult];
  participantJoined: [ParticipantInfo];
  participantUpdated: [ParticipantInfo];
  participantLeft: [{ participantId: string; reason: string }];
  track: [RemoteTrack];
  trackEnded: [RemoteTrack];
  producerUpdated: [ProducerInfo];
  activeSpeaker: [string | null];
  chatMessage: [ChatMessage];
  meetingUpdated: [MeetingSummary];
  presentation: [Presentation | null];
  fileUpdated: [FileInfo, { deleted: boolean }];
  moderation: [ServerEvents['moderation']];
  /** Someone else reacted (your own reactions are not echoed). */
  reaction: [ServerEvents['reaction']];
  /** The meeting's video codec changed; the SDK is publishing its video again with it. */
  videoCodecChanged: [VideoCodec];
  /** The connection dropped; the SDK is trying to get the seat back. */
  reconnecting: [];
  /**
   * ICE was restarted on a transport, keeping it: after a network change (`network`), ICE
   * `disconnected` for a moment or `failed`, or a resumed seat (`resumed`).
   */
  iceRestart: [IceRestart];
  /** The seat is back; `rebuilt` says whether media transports had to be made anew. */
  reconnected: [{ rebuilt: boolean }];
  /** The session is over: left, removed, ended or the seat was lost. */
  closed: [{ reason: string }];
  error: [Error];
};

export interface JoinOptions {
  baseUrl: string;
  meetingId: string;
  name: string;
  password?: string;
  hostKey?: string;
  /**
   * mediasoup-client handler: detected in browsers; 'Chrome111' for @roamhq/wrtc in Node
   * (`NODE_HANDLER` of `@convene/sdk/node`), 'ReactNative106' (Unified Plan) for react-native-webrtc.
   */
  handlerName?: ms.BuiltinHandlerName;
  kind?: 'browser' | 'bot';
  /** Subscribe to every remote producer automatically (default true). */
  autoSubscribe?: boolean;
  /**
   * false: join audio-only. The server then admits this device whatever video it decodes, it
   * does not count in the meeting's codec choice, and the SDK subscribes to no video.
   */
  receiveVideo?: boolean;
  /**
   * Tell the server this device decodes only these video codecs (default: all the device and
   * the router share). For devices known to decode less than they claim, and for tests.
   */
  videoCodecs?: VideoCodec[];
  /**
   * Whether this client means to publish (default true): its send transport then comes with the
   * join answer rather than costing a round trip at the first publish. A listener sets false.
   */
  willPublish?: boolean;
  requestTimeoutMs?: number;
  /** The fetch to use for HTTP calls (default: the global one). */
  fetch?: FetchLike;
  /**
   * Push nodes to connect to, in order of preference (default: `baseUrl`). When a connection
   * is lost, each reconnection attempt tries the next one, so a dead push node is skipped.
   */
  signalingUrls?: string[];
  /** STUN/TURN servers for the media transports (default: those of the join answer). */
  iceServers?: IceServer[];
  /** `'relay'` sends media only through TURN (to hide the client's addresses, or to test TURN); default `'all'`. */
  iceTransportPolicy?: 'all' | 'relay';
}
