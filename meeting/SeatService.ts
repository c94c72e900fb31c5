import type { Logger } from '../common/logger.ts';
import type { MediaClient } from '../media/contract.ts';
import type { JoinResult } from '../protocol/src/index.ts';
import { LostNodes } from './LostNodes.ts';
import type { MeetingEvents } from './MeetingEvents.ts';
import type { MeetingRepository } from './MeetingRepository.ts';
import type { MeetingService } from './MeetingService.ts';
import type { MediaPlacement } from './placement/MediaPlacement.ts';
import { SeatDepartures } from './SeatDepartures.ts';
import { SeatJoins } from './SeatJoins.ts';
import { type LeaveReason, SeatLedger } from './SeatLedger.ts';
import type { JoinInput } from './records.ts';
import type { TokenClaims, TokenService } from './tokens.ts';

export interface SeatServiceOptions {
  reconnectGraceMs: number;
  sessionTokenTtlS: number;
  /** How long a seat change waits for the admission lock before answering `busy`. */
  lockWaitMs: number;
}

/**
 * Seats: who is in a meeting, and where their media and socket live. A seat outlives its socket
 * for the grace period, so a client that drops and comes back keeps its place and the others
 * never see it leave. Every change to a seat happens under the meeting's admission lock
 * (`admission.ts`, through SeatLedger), so a join, a leave, a removal, a disconnect and the
 * cleaner cannot interleave. The work is done by SeatJoins (taking and retaking seats),
 * SeatDepartures (holding, releasing, leaving, removal) and LostNodes (moving seats off dead
 * nodes); this is the one face the rest of the tiers use.
 */
export class SeatService {
  readonly #joins: SeatJoins;
  readonly #departures: SeatDepartures;
  readonly #lostNodes: LostNodes;

  constructor(
    repo: MeetingRepository,
    meetings: MeetingService,
    events: MeetingEvents,
    media: MediaClient,
    placement: MediaPlacement,
    tokens: TokenService,
    options: SeatServiceOptions,
    logger: Logger,
  ) {
    const ledger = new SeatLedger(repo, meetings, events, media, options.lockWaitMs, logger);
    this.#joins = new SeatJoins(ledger, meetings, events, media, placement, tokens, options.sessionTokenTtlS, logger);
    // `options` is passed whole: the grace period is read when used (the config centre may change it).
    this.#departures = new SeatDepartures(ledger, meetings, events, options, logger);
    this.#lostNodes = new LostNodes(ledger, events, logger);
  }

  /** The meeting's primary media node, placed once under a lock, moved only if it died. */
  mediaNodeFor(meetingId: string): Promise<string> {
    return this.#joins.mediaNodeFor(meetingId);
  }

  /** The meeting router's RTP capabilities, placing the meeting first if needed. */
  routerRtpCapabilities(meetingId: string): Promise<Record<string, unknown>> {
    return this.#joins.routerRtpCapabilities(meetingId);
  }

  /** Takes or retakes the seat; `previousSocketId` is a socket that held it and must be closed. */
  join(
    claims: TokenClaims,
    socketId: string,
    input: JoinInput,
    pushNodeId?: string,
  ): Promise<{ result: JoinResult; previousSocketId?: string; mediaNodeId: string }> {
    return this.#joins.join(claims, socketId, input, pushNodeId);
  }

  /** A socket closed without leaving: hold the seat. Ignored if another socket holds it now. */
  disconnected(meetingId: string, participantId: string, socketId: string): Promise<void> {
    return this.#departures.disconnected(meetingId, participantId, socketId);
  }

  /** Releases seats whose grace period is over. Returns how many were released. */
  releaseExpired(now = Date.now()): Promise<number> {
    return this.#departures.releaseExpired(now);
  }

  /** Idempotent: leaving twice, or a seat already released, is not an error. */
  leave(meetingId: string, participantId: string, reason: LeaveReason): Promise<void> {
    return this.#departures.leave(meetingId, participantId, reason);
  }

  /** See SeatDepartures.remove: a ban for the meeting's life, optionally of the address too. */
  remove(meetingId: string, participantId: string, by: string | null, options: { ban?: boolean } = {}): Promise<void> {
    return this.#departures.remove(meetingId, participantId, by, options);
  }

  /** See LostNodes.mediaNodeLost. */
  mediaNodeLost(nodeId: string): Promise<number> {
    return this.#lostNodes.mediaNodeLost(nodeId);
  }

  /** See LostNodes.pushNodeLost. */
  pushNodeLost(nodeId: string): Promise<number> {
    return this.#lostNodes.pushNodeLost(nodeId);
  }
}
