import { z } from 'zod';
import type { NodeRecord } from '../common/NodeRegistry.ts';
import { type ConsumerOptions, mediaSource, type TransportOptions } from '../protocol/src/index.ts';

/**
 * The media tier as other tiers see it: the RPC between processes (`MediaApi`, its parameter
 * schemas and version), the client that calls it, and what a media node reports in the registry.
 * The media node implements `MediaApi`; nothing here depends on how (mediasoup, rooms, pipes).
 */

/**
 * Sent as `x-media-api-version` with every call. A node accepts this version and the one before
 * it, so a rolling upgrade never has two neighbours that cannot talk. Raise it when a change
 * would be misread by the previous version (a removed or retyped field, a new required one);
 * a new optional field does not need it: unknown fields are stripped, not refused.
 */
export const MEDIA_API_VERSION = 2;
export const MEDIA_API_VERSION_HEADER = 'x-media-api-version';
/** Versions a node answers: the current one and the previous (version 1 sent no header). */
export const ACCEPTED_MEDIA_API_VERSIONS: readonly number[] = [MEDIA_API_VERSION - 1, MEDIA_API_VERSION];

const id = z.string().min(1).max(128);
/** mediasoup's own objects (RTP capabilities and parameters, DTLS parameters): mediasoup validates them. */
const mediasoupObject = z.record(z.string(), z.unknown());
const port = z.number().int().min(1).max(65535);
const address = z.object({ ip: z.string().min(1).max(64), port });
/** Identity comes from the caller's verified token, never from client input. */
const who = { meetingId: id, participantId: id };

/**
 * One schema per method: its parameters. The method list, the parameter types and the server's
 * validation all come from here. Objects are not strict, so a caller one version ahead may add
 * optional fields.
 */
export const mediaParams = {
  getRouterRtpCapabilities: z.object({ meetingId: id }),
  /** Seats a participant's media; refused (`node_draining`, `node_full`) for newcomers. Idempotent. */
  registerParticipant: z.object({ ...who, rtpCapabilities: mediasoupObject }),
  createWebRtcTransport: z.object({ ...who, direction: z.enum(['send', 'recv']) }),
  connectTransport: z.object({ ...who, transportId: id, dtlsParameters: mediasoupObject }),
  restartIce: z.object({ ...who, transportId: id }),
  /** Plain RTP for peers without WebRTC; with `comedia` the peer's address is learnt from its first packet. */
  createPlainTransport: z.object({ ...who, comedia: z.boolean().optional() }),
  connectPlainTransport: z.object({ ...who, transportId: id, ip: z.string().min(1).max(64), port }),
  /** Idempotent; answers the producers that went with the transport. */
  closeTransport: z.object({ ...who, transportId: id }),
  /** A telephone leg: the caller's voice in, a mix-minus out to `sendTo` in `codec`. */
  createPhoneLeg: z.object({ ...who, codec: z.enum(['PCMU', 'PCMA', 'opus']), sendTo: address, peer: address.optional() }),
  produce: z.object({
    ...who,
    transportId: id,
    kind: z.enum(['audio', 'video']),
    rtpParameters: mediasoupObject,
    source: mediaSource,
    paused: z.boolean().optional(),
  }),
  closeProducer: z.object({ ...who, producerId: id }),
  pauseProducer: z.object({ ...who, producerId: id }),
  resumeProducer: z.object({ ...who, producerId: id }),
  /** `producerNodeId`: the node the producer lives on, piped here first when it is another. */
  consume: z.object({ ...who, producerId: id, producerNodeId: id.optional(), transportId: id.optional(), paused: z.boolean().optional() }),
  resumeConsumer: z.object({ ...who, consumerId: id }),
  pauseConsumer: z.object({ ...who, consumerId: id }),
  setConsumerPreferredLayers: z.object({
    ...who,
    consumerId: id,
    spatialLayer: z.number().int().min(0).max(2),
    temporalLayer: z.number().int().min(0).max(2).optional(),
  }),
  /** Idempotent. */
  closeParticipant: z.object(who),
  closeMeeting: z.object({ meetingId: id }),
  /** Between media nodes: a pipe transport here, connected to the caller's one. */
  openPipe: z.object({ meetingId: id, pipeId: id, peerNodeId: id, ip: z.string().min(1).max(64), port }),
  /** Between media nodes: one of this node's producers sent down an export pipe. */
  pipeProducer: z.object({ meetingId: id, pipeId: id, producerId: id }),
} as const;

export type MediaMethodName = keyof typeof mediaParams;
export type MediaParams<M extends MediaMethodName> = z.infer<(typeof mediaParams)[M]>;
export const MEDIA_METHODS = Object.keys(mediaParams) as MediaMethodName[];

export function isMediaMethod(name: string): name is MediaMethodName {
  return Object.hasOwn(mediaParams, name);
}

type Empty = Record<string, never>;

/** What each method answers. JSON only: it crosses processes as it is. */
export interface MediaResults {
  getRouterRtpCapabilities: { rtpCapabilities: Record<string, unknown> };
  registerParticipant: { activeSpeakerId: string | null };
  createWebRtcTransport: TransportOptions;
  connectTransport: Empty;
  restartIce: { iceParameters: unknown };
  createPlainTransport: { id: string; ip: string; port: number };
  connectPlainTransport: Empty;
  closeTransport: { producerIds: string[] };
  createPhoneLeg: { transportId: string; ip: string; port: number; payloadType: number; mixFrom: { port: number } };
  produce: { producerId: string };
  closeProducer: Empty;
  pauseProducer: Empty;
  resumeProducer: Empty;
  consume: ConsumerOptions;
  resumeConsumer: Empty;
  pauseConsumer: Empty;
  setConsumerPreferredLayers: Empty;
  closeParticipant: Empty;
  closeMeeting: Empty;
  openPipe: { ip: string; port: number };
  pipeProducer: { kind: 'audio' | 'video'; rtpParameters: unknown; paused: boolean; participantId: string; source: z.infer<typeof mediaSource> };
}

export type MediaResult<M extends MediaMethodName> = MediaResults[M];

/** The media node's API, one method per schema. The node implements it; callers use {@link MediaClient}. */
export type MediaApi = { [M in MediaMethodName]: (params: MediaParams<M>) => Promise<MediaResults[M]> };

/** A media node living in this process, as the client and the wiring see it. */
export interface LocalMediaNode extends MediaApi {
  readonly nodeId: string;
}

/**
 * How the other tiers reach a media node. Calls are addressed to a node, carry a deadline, and
 * are safe to retry: each call has a request id that the node answers once. Errors arrive as
 * `AppError` with the node's code, detail and details.
 */
export interface MediaClient {
  call<M extends MediaMethodName>(nodeId: string, method: M, params: MediaParams<M>): Promise<MediaResults[M]>;
}

/** What a media node reports with its heartbeat; placement reads it. */
export interface MediaLoad {
  workers: number;
  rooms: number;
  routers: number;
  transports: number;
  producers: number;
  consumers: number;
  /** Consumers the node accepts in all. */
  maxConsumers: number;
  /** Process CPU use over the last heartbeat, 0..1 per core summed. */
  cpu: number;
}

export type MediaNodeRecord = NodeRecord<MediaLoad>;

/** The registry kind media nodes heartbeat under. */
export const MEDIA_NODE_KIND = 'media';
