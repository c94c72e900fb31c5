import { z } from 'zod';

/**
 * The records that messages and events carry. They are zod schemas so that the types, the
 * docs tables and any runtime check come from one definition.
 */

export const id = z.string().min(1).max(128);
/** mediasoup's own objects (RTP capabilities and parameters, DTLS and ICE parameters): mediasoup validates them. */
export const mediasoupObject = z.record(z.string(), z.unknown());

export const MEDIA_SOURCES = ['mic', 'camera', 'screen', 'screen-audio'] as const;
export const mediaSource = z.enum(MEDIA_SOURCES);
export type MediaSource = z.infer<typeof mediaSource>;

/** Reactions by name, not by glyph, so that every client draws its own and no text is smuggled through. */
export const REACTIONS = ['thumbs_up', 'clap', 'laugh', 'heart', 'party', 'surprised'] as const;
export const reaction = z.enum(REACTIONS);
export type Reaction = z.infer<typeof reaction>;

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

/**
 * A STUN or TURN server for the client's ICE agent, as RTCIceServer has it. The join answer
 * carries them; a TURN server's `username` (`expiry:participantId`) and `credential` are
 * time-limited, derived from the TURN REST shared secret.
 */
export const iceServer = z.object({
  urls: z.array(z.string()),
  username: z.string().optional(),
  credential: z.string().optional(),
});
export type IceServer = z.infer<typeof iceServer>;

export const participantInfo = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  grants: grantsSchema,
  kind: z.enum(['browser', 'bot', 'phone']),
  /** `reconnecting` while the seat is held during the grace period. */
  connection: z.enum(['connected', 'reconnecting']),
  joinedAt: z.number(),
  /** When the hand went up (ms since the epoch); absent or null while it is down. Oldest first is the queue order. */
  handRaisedAt: z.number().nullable().optional(),
});
export type ParticipantInfo = z.infer<typeof participantInfo>;

export const producerInfo = z.object({
  id: z.string(),
  participantId: z.string(),
  kind: z.enum(['audio', 'video']),
  source: mediaSource,
  paused: z.boolean(),
});
export type ProducerInfo = z.infer<typeof producerInfo>;

export const chatMessage = z.object({
  id: z.string(),
  participantId: z.string(),
  name: z.string(),
  text: z.string(),
  at: z.number(),
});
export type ChatMessage = z.infer<typeof chatMessage>;

export const FILE_STATUSES = ['uploaded', 'converting', 'ready', 'partial', 'failed'] as const;
export type FileStatus = (typeof FILE_STATUSES)[number];

export const fileInfo = z.object({
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
export type FileInfo = z.infer<typeof fileInfo>;

export const presentation = z.object({
  fileId: z.string(),
  page: z.number(),
  pageCount: z.number(),
  presenterId: z.string(),
});
export type Presentation = z.infer<typeof presentation>;

/** Video codecs a meeting can publish with, in the order `auto` prefers them. */
export const VIDEO_CODECS = ['vp8', 'h264', 'vp9'] as const;
export const videoCodec = z.enum(VIDEO_CODECS);
export type VideoCodec = z.infer<typeof videoCodec>;
/** A meeting's codec setting: one codec for everyone, or `auto` (the server picks one all can decode). */
export const videoCodecSetting = z.enum(['auto', ...VIDEO_CODECS]);
export type VideoCodecSetting = z.infer<typeof videoCodecSetting>;

export const meetingSummary = z.object({
  id: z.string(),
  title: z.string(),
  locked: z.boolean(),
  maxParticipants: z.number(),
  /** The codec setting; absent from servers before codec policy (read as `auto`). */
  videoCodec: videoCodecSetting.optional(),
});
export type MeetingSummary = z.infer<typeof meetingSummary>;
