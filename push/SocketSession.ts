import type { Socket } from 'socket.io';
import type { Logger } from '../common/logger.ts';
import type { Presentations } from '../files/contract.ts';
import type { MediaClient } from '../media/contract.ts';
import type { MeetingApi, ParticipantRecord, TokenClaims } from '../meeting/contract.ts';
import type { IceServer } from '../protocol/src/index.ts';
import type { MeetingFanout } from './MeetingFanout.ts';

/** What a connection carries: the identity from its token, set once by the auth middleware. */
export interface SocketData {
  claims: TokenClaims;
  joined: boolean;
  leaving: boolean;
  /** What the client said it is on joining (metrics count participants by it). */
  kind?: 'browser' | 'bot';
}

export type ClientSocket = Socket<Record<string, (...args: unknown[]) => void>, Record<string, (...args: unknown[]) => void>, Record<string, never>, SocketData>;

export interface HandlerContext {
  socket: ClientSocket;
  claims: TokenClaims;
  services: MeetingApi;
  /** Media calls, addressed to the caller's media node. */
  media: MediaClient;
  presentations: Presentations;
  fanout: MeetingFanout;
  logger: Logger;
  /** This push node, recorded on the seat so that its loss can be noticed. */
  nodeId: string;
  /** The caller's seat, fresh from the store; throws if it has not joined. */
  seat(): Promise<ParticipantRecord>;
  /**
   * The caller's seat and the media node it is on; throws `unavailable` when it has none (its
   * node was lost and the client has not rejoined yet).
   */
  mediaSeat(): Promise<{ seat: ParticipantRecord; mediaNodeId: string }>;
  /** Identity for media calls, always from the token. */
  who: { meetingId: string; participantId: string };
  /**
   * STUN and TURN servers with a TURN credential signed now, for answers that may need one
   * (a rejoin, an ICE restart): the join's credential runs out after TURN_TTL_SECONDS. Empty
   * when no TURN or STUN server is configured.
   */
  iceServers(): IceServer[];
}
