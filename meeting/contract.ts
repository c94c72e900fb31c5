import { z } from 'zod';
import {
  type ChatMessage,
  type Grants,
  grantsSchema,
  type JoinResult,
  type MediaSource,
  type MeetingEvent,
  type MeetingSummary,
  type ParticipantInfo,
  type Presentation,
  type ProducerInfo,
  type Reaction,
  type Role,
  ROLES,
  type ServerEvents,
  type VideoCodec,
  type VideoCodecSetting,
} from '../protocol/src/index.ts';

/**
 * The meeting tier as other tiers see it: the records they read, the token claims, the bus
 * channel of a meeting's events, and the interfaces of the services they call. The meeting
 * services implement these; api, push, files, gateway-sip and media depend only on this file.
 */

/** The bus channel of a meeting's client events; push nodes and gateways subscribe to it. */
export const meetingChannel = (meetingId: string) => `meeting:${meetingId}`;

export const claimsSchema = z.object({
  sub: z.string().min(1),
  mid: z.string().min(1),
  name: z.string(),
  role: z.enum(ROLES),
  grants: grantsSchema,
  typ: z.enum(['join', 'session']),
  /** The token's own id, for revocation. Set by `sign`; absent only in tokens from before it existed. */
  jti: z.string().optional(),
  /** Expiry in seconds since the epoch, as signed; read back by `verify`. */
  exp: z.number().optional(),
  /** A keyed fingerprint of the address that asked for the join token, for bans; never the address itself. */
  org: z.string().optional(),
  /** Join tokens only: when it was issued, in milliseconds since the epoch; join latency is measured from it. */
  ims: z.number().optional(),
});

/** What a verified join or session token says about its holder. */
export type TokenClaims = z.infer<typeof claimsSchema>;

export interface MeetingSettings {
  maxParticipants: number;
  locked: boolean;
  /** Absent in meetings created before codec policy: read as `auto`. */
  videoCodec?: VideoCodecSetting;
}

export interface MeetingRecord {
  id: string;
  title: string;
  /** Numeric PIN for phone callers. */
  pin: string;
  /** scrypt hash; absent when the meeting has no password. */
  passwordHash?: string;
  /** Whoever holds it joins as host (the creator hands it to hosts out of band). */
  hostKey: string;
  settings: MeetingSettings;
  createdAt: number;
  endedAt?: number;
  /** When the last participant left; with `createdAt` before anyone came, what idle expiry counts from. */
  emptySince?: number;
  /** The media node that hosts the meeting's router. */
  mediaNodeId?: string;
  /** The codec video is published with now (VideoCodecPolicy); absent until the first join decides it. */
  videoCodec?: VideoCodec;
}

export interface ParticipantRecord extends ParticipantInfo {
  meetingId: string;
  /** The socket that currently holds the seat; a disconnect from another socket is stale. */
  socketId?: string;
  disconnectedAt?: number;
  /** The media node that hosts this participant's transports; unset while it needs a new one. */
  mediaNodeId?: string;
  /** The push node that holds its socket. */
  pushNodeId?: string;
  /** Fingerprint of the address its join token was issued to (see TokenService.fingerprint). */
  origin?: string;
  /** Tokens issued for this seat (join, then a session token per join), revoked on removal. */
  tokens?: Array<{ jti: string; expiresAt: number }>;
  /** The video codecs its device can decode; absent for audio-only seats (and seats from before codec policy), which the `auto` choice ignores. */
  videoCodecs?: VideoCodec[];
}

/** What a client joins with: its device's capabilities, what it is, and whether it receives video. */
export interface JoinInput {
  rtpCapabilities: Record<string, unknown>;
  kind?: 'browser' | 'bot' | 'phone';
  /** false: audio-only, admitted whatever its device decodes (phones always are). */
  receiveVideo?: boolean;
}

/** The fields of a seat that clients may see. */
export function publicParticipant(record: ParticipantRecord): ParticipantInfo {
  const { id, name, role, grants, kind, connection, joinedAt, handRaisedAt } = record;
  return { id, name, role, grants, kind, connection, joinedAt, handRaisedAt: handRaisedAt ?? null };
}

export type LeaveReason = ServerEvents['participantLeft']['reason'];

export interface CreateMeetingInput {
  title?: string;
  password?: string;
  maxParticipants?: number;
  locked?: boolean;
  videoCodec?: VideoCodecSetting;
}

export interface MeetingView extends MeetingSummary {
  pin: string;
  joinUrl: string;
  requiresPassword: boolean;
  createdAt: number;
  endedAt: number | null;
  participantCount: number;
}

export type MeetingChange = { title?: string; locked?: boolean; maxParticipants?: number; videoCodec?: VideoCodecSetting };

export interface JoinTokenRequest {
  name: string;
  password?: string;
  hostKey?: string;
  asHost?: boolean;
  clientAddress?: string;
}

export interface IssuedJoinToken {
  token: string;
  participantId: string;
  meetingId: string;
  role: Role;
  grants: Grants;
  expiresAt: number;
}

/** Token checks that also refuse revoked tokens and removed participants: every edge asks this. */
export interface AccessCheck {
  verify(token: string, meetingId?: string): Promise<TokenClaims>;
}

/** Whether a meeting and its seats still exist: what the reconcilers of media and push nodes compare against. */
export interface SeatedReader {
  getMeeting(meetingId: string): Promise<MeetingRecord | null>;
  seatedIds(meetingId: string): Promise<Set<string>>;
}

/** Reads of meeting state other tiers need. */
export interface MeetingState extends SeatedReader {
  getParticipant(meetingId: string, participantId: string): Promise<ParticipantRecord | null>;
  listParticipants(meetingId: string): Promise<ParticipantRecord[]>;
  getProducer(meetingId: string, producerId: string): Promise<ProducerInfo | null>;
  meetingIdForPin(pin: string): Promise<string | null>;
}

/** Where a meeting's presentation is kept; the files tier runs presenting over it. */
export interface PresentationState {
  presentation(meetingId: string): Promise<Presentation | null>;
  setPresentation(meetingId: string, presentation: Presentation | null): Promise<void>;
}

/** Publishes client-facing events on the meeting's channel. */
export interface MeetingEventSink {
  publish(meetingId: string, event: MeetingEvent): Promise<void>;
}

/** Meetings: creation, admission (join tokens), settings and host actions. */
export interface Meetings {
  create(input: CreateMeetingInput): Promise<MeetingView & { hostKey: string; hostJoinUrl: string }>;
  /** Throws `meeting_not_found`, or `meeting_ended` unless `allowEnded`. */
  get(meetingId: string, options?: { allowEnded?: boolean }): Promise<MeetingRecord>;
  view(meeting: MeetingRecord): Promise<MeetingView>;
  update(meetingId: string, change: MeetingChange): Promise<MeetingRecord>;
  issueJoinToken(meetingId: string, input: JoinTokenRequest): Promise<IssuedJoinToken>;
  mute(meetingId: string, participantId: string, source: MediaSource | undefined, by: string | null): Promise<void>;
  postChat(meetingId: string, from: { id: string; name: string }, text: string): Promise<ChatMessage>;
}

/** Seats: who is in a meeting, and where their media and connection live. */
export interface Seats {
  /** The meeting's media node, placed on first use. */
  mediaNodeFor(meetingId: string): Promise<string>;
  /** The meeting router's RTP capabilities (what a client loads its device with), placing the meeting if needed. */
  routerRtpCapabilities(meetingId: string): Promise<Record<string, unknown>>;
  /**
   * Takes or retakes the seat; `previousSocketId` is a connection that held it and must be
   * closed, `mediaNodeId` the node the participant's media is on.
   */
  join(
    claims: TokenClaims,
    socketId: string,
    input: JoinInput,
    pushNodeId?: string,
  ): Promise<{ result: JoinResult; previousSocketId?: string; mediaNodeId: string }>;
  /** The connection holding the seat dropped: the seat waits for the grace period. */
  disconnected(meetingId: string, participantId: string, socketId: string): Promise<void>;
  leave(meetingId: string, participantId: string, reason: LeaveReason): Promise<void>;
  remove(meetingId: string, participantId: string, by: string | null, options?: { ban?: boolean }): Promise<void>;
}

export interface Lifecycle {
  /** Ends the meeting for everyone; `by` is the host, or null for the API key. */
  end(meetingId: string, by: string | null): Promise<void>;
}

export interface PublishInput {
  transportId: string;
  kind: 'audio' | 'video';
  rtpParameters: Record<string, unknown>;
  source: MediaSource;
  paused?: boolean;
}

/** What each participant publishes: the producers others can subscribe to. */
export interface Publications {
  publish(who: ParticipantRecord, input: PublishInput): Promise<ProducerInfo>;
  close(who: ParticipantRecord, producerId: string): Promise<void>;
  closeTransport(who: ParticipantRecord, transportId: string): Promise<void>;
  setPaused(who: ParticipantRecord, producerId: string, paused: boolean): Promise<void>;
}

/** Raised hands and reactions. */
export interface GestureApi {
  /** Raises or lowers a hand; announced as `participantUpdated` when it changed. */
  setHand(meetingId: string, participantId: string, raised: boolean): Promise<ParticipantInfo>;
  /** Shows a reaction to everyone else; `rate_limited` past the per-participant budget. */
  react(meetingId: string, participantId: string, reaction: Reaction): Promise<{ reaction: Reaction; at: number }>;
}

/** The meeting domain as the api, push and gateway-sip tiers call it. */
export interface MeetingApi {
  repo: MeetingState;
  events: MeetingEventSink;
  access: AccessCheck;
  meetings: Meetings;
  seats: Seats;
  lifecycle: Lifecycle;
  publications: Publications;
  gestures: GestureApi;
}
