import type { ParticipantInfo } from '../protocol/src/index.ts';

export interface MeetingSettings {
  maxParticipants: number;
  locked: boolean;
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
}

export function publicParticipant(record: ParticipantRecord): ParticipantInfo {
  const { id, name, role, grants, kind, connection, joinedAt } = record;
  return { id, name, role, grants, kind, connection, joinedAt };
}
