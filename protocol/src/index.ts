import { z } from 'zod';
import { messageText } from './text.ts';

/**
 * The client protocol: every socket.io message a client may send, with its payload schema, and
 * every event the server pushes. Native, WeChat and browser clients implement exactly this;
 * docs/architecture.md describes it in prose. mediasoup's own objects (RTP capabilities and
 * parameters, DTLS and ICE parameters) pass through as objects that mediasoup validates.
 */

const id = z.string().min(1).max(128);
const mediasoupObject = z.record(z.string(), z.unknown());

export const MEDIA_SOURCES = ['mic', 'camera', 'screen', 'screen-audio'] as const;
export const mediaSource = z.enum(MEDIA_SOURCES);
export type MediaSource = z.infer<typeof mediaSource>;

export const ROLES = ['host', 'guest'] as const;
export type Role = (typeof ROLES)[number];

export const grantsSchema = z.object({
  publishAudio: z.boolean(),
  publishVideo: z.boolean(),
  publishScreen: z.boolean(),
  moderate: z.boolean(),
  /** Upload decks and present them; absent in tokens issued before it existed. */
  present: z.boolean().optional(),
});
export type Grants = z.infer<typeof grantsSchema>;

export interface ParticipantInfo {
  id: string;
  name: string;
  role: Role;
  grants: Grants;
  kind: 'browser' | 'bot' | 'phone';
  /** `reconnecting` while the seat is held during the grace period. */
  connection: 'connected' | 'reconnecting';
  joinedAt: number;
}

export interface ProducerInfo {
  id: string;
  participantId: string;
  kind: 'audio' | 'video';
  source: MediaSource;
  paused: boolean;
}

export interface ChatMessage {
  id: string;
  participantId: string;
  name: string;
  text: string;
  at: number;
}

export const FILE_STATUSES = ['uploaded', 'converting', 'ready', 'partial', 'failed'] as const;
export type FileStatus = (typeof FILE_STATUSES)[number];

/** A meeting's file as clients see it (events and the HTTP API): the one definition of it. */
export const fileInfoSchema = z.object({
  id: z.string(),
  meetingId: z.string(),
  name: z.string(),
  type: z.string(),
  size: z.number(),
  sha256: z.string(),
  status: z.enum(FILE_STATUSES),
  /** Page images available, 1-based page numbers. */
  pages: z.array(z.number()),
  /** Pages the document has but that could not be converted. */
  missingPages: z.array(z.number()),
  pageCount: z.number(),
  progress: z.number(),
  error: z.string().optional(),
  uploadedBy: z.string().nullable(),
  /** The files node that converted it last. */
  convertedBy: z.string().optional(),
  createdAt: z.number(),
});
export type FileInfo = z.infer<typeof fileInfoSchema>;

export interface Presentation {
  fileId: string;
  page: number;
  pageCount: number;
  presenterId: string;
}

export interface MeetingSummary {
  id: string;
  title: string;
  locked: boolean;
  maxParticipants: number;
}

/** Client → server messages. Each is acknowledged with an {@link Ack}. */
export const clientMessages = {
  getRouterRtpCapabilities: z.object({}).strict(),
  join: z.object({ rtpCapabilities: mediasoupObject, kind: z.enum(['browser', 'bot']).optional() }).strict(),
  createTransport: z.object({ direction: z.enum(['send', 'recv']) }).strict(),
  connectTransport: z.object({ transportId: id, dtlsParameters: mediasoupObject }).strict(),
  restartIce: z.object({ transportId: id }).strict(),
  /** Frees a transport the client no longer uses (it counts against the per-participant limit). */
  closeTransport: z.object({ transportId: id }).strict(),
  produce: z
    .object({
      transportId: id,
      kind: z.enum(['audio', 'video']),
      rtpParameters: mediasoupObject,
      source: mediaSource,
      paused: z.boolean().optional(),
    })
    .strict(),
  closeProducer: z.object({ producerId: id }).strict(),
  pauseProducer: z.object({ producerId: id }).strict(),
  resumeProducer: z.object({ producerId: id }).strict(),
  consume: z.object({ producerId: id }).strict(),
  resumeConsumer: z.object({ consumerId: id }).strict(),
  pauseConsumer: z.object({ consumerId: id }).strict(),
  setConsumerPreferredLayers: z
    .object({ consumerId: id, spatialLayer: z.number().int().min(0).max(2), temporalLayer: z.number().int().min(0).max(2).optional() })
    .strict(),
  chat: z.object({ text: messageText() }).strict(),
  moderate: z.discriminatedUnion('action', [
    z.object({ action: z.literal('mute'), participantId: id, source: mediaSource.optional() }).strict(),
    /** Removal lasts for the meeting; `ban` also refuses new join tokens to the removed participant's address. */
    z.object({ action: z.literal('remove'), participantId: id, ban: z.boolean().optional() }).strict(),
    z.object({ action: z.literal('lock'), locked: z.boolean() }).strict(),
    z.object({ action: z.literal('end') }).strict(),
  ]),
  presentStart: z.object({ fileId: id, page: z.number().int().min(1).optional() }).strict(),
  presentPage: z.object({ page: z.number().int().min(1).max(10_000) }).strict(),
  presentStop: z.object({}).strict(),
  leave: z.object({}).strict(),
} as const;

export type ClientMessageName = keyof typeof clientMessages;
export type ClientMessage<N extends ClientMessageName> = z.infer<(typeof clientMessages)[N]>;

export interface TransportOptions {
  id: string;
  iceParameters: unknown;
  iceCandidates: unknown[];
  dtlsParameters: unknown;
}

export interface ConsumerOptions {
  id: string;
  producerId: string;
  participantId: string;
  kind: 'audio' | 'video';
  source: MediaSource;
  rtpParameters: unknown;
  type: string;
  producerPaused: boolean;
}

export interface JoinResult {
  self: ParticipantInfo;
  meeting: MeetingSummary;
  participants: ParticipantInfo[];
  producers: ProducerInfo[];
  chat: ChatMessage[];
  activeSpeakerId: string | null;
  /** The deck being presented, on its current page, so a late joiner lands there. */
  presentation: Presentation | null;
  /** True when this connection took over a seat held during the grace period. */
  resumed: boolean;
  /** Use this token, not the join token, to reconnect: it lives as long as the seat. */
  sessionToken: string;
}

/** What each client message answers with, on success. */
export interface ClientResults {
  getRouterRtpCapabilities: { rtpCapabilities: unknown };
  join: JoinResult;
  createTransport: TransportOptions;
  connectTransport: Record<string, never>;
  restartIce: { iceParameters: unknown };
  closeTransport: Record<string, never>;
  produce: { producerId: string };
  closeProducer: Record<string, never>;
  pauseProducer: Record<string, never>;
  resumeProducer: Record<string, never>;
  consume: ConsumerOptions;
  resumeConsumer: Record<string, never>;
  pauseConsumer: Record<string, never>;
  setConsumerPreferredLayers: Record<string, never>;
  chat: { message: ChatMessage };
  moderate: Record<string, never>;
  presentStart: { presentation: Presentation };
  presentPage: { presentation: Presentation };
  presentStop: Record<string, never>;
  leave: Record<string, never>;
}

export type Ack<T> = { ok: true; data: T } | { ok: false; error: { code: string; message: string; details?: unknown } };

/** Server → client events. */
export interface ServerEvents {
  participantJoined: { participant: ParticipantInfo };
  participantUpdated: { participant: ParticipantInfo };
  participantLeft: { participantId: string; reason: 'left' | 'timeout' | 'removed' | 'ended' };
  producerAdded: { producer: ProducerInfo };
  producerUpdated: { producer: ProducerInfo };
  producerClosed: { producerId: string; participantId: string };
  consumerClosed: { consumerId: string; producerId: string };
  activeSpeaker: { participantId: string | null };
  chatMessage: { message: ChatMessage };
  meetingUpdated: { meeting: MeetingSummary };
  /** A moderator acted on you (muted your source, removed you) or on the meeting (ended it). */
  moderation: { action: 'mute' | 'remove' | 'end'; source?: MediaSource; by: string | null };
  /** A file of the meeting changed: uploaded, converting (with progress), ready, partial, failed, deleted. */
  fileUpdated: { file: FileInfo; deleted?: boolean };
  /** The presented deck or page changed; null when presenting stopped. */
  presentation: { presentation: Presentation | null };
  /**
   * Your media node is gone (`node_lost`): make new transports and publish again (your seat is
   * kept). `state_lost`: the shared state lost your seat; take it back (join again).
   */
  mediaReset: { reason: 'node_lost' | 'state_lost' };
  /**
   * The meeting no longer exists (`state_lost`: the shared state was lost, e.g. Redis came back
   * empty); the connection is closed after this.
   */
  meetingEnded: { reason: 'state_lost' };
  /** A message the server could not route to a handler or that had no ack function. */
  protocolError: { event: string; code: string; message: string };
}

export type ServerEventName = keyof ServerEvents;

/**
 * An event as it travels on the bus channel `meeting:<id>`; push nodes deliver it to the
 * meeting's sockets, or to one participant (`to`), skipping `except`.
 */
export type MeetingEvent = {
  [N in ServerEventName]: { event: N; payload: ServerEvents[N]; to?: string; except?: string };
}[ServerEventName];
