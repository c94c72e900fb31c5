import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { MeetingEvents } from './MeetingEvents.ts';
import type { MeetingService } from './MeetingService.ts';
import type { LeaveReason, SeatLedger } from './SeatLedger.ts';

/**
 * How seats end or go on hold: a socket closing without leaving (the grace period starts), the
 * grace period running out, a leave, a removal.
 */
export class SeatDepartures {
  private readonly ledger: SeatLedger;
  private readonly meetings: MeetingService;
  private readonly events: MeetingEvents;
  private readonly options: { readonly reconnectGraceMs: number };
  private readonly logger: Logger;
  constructor(ledger: SeatLedger, meetings: MeetingService, events: MeetingEvents, options: { readonly reconnectGraceMs: number }, logger: Logger) {
    this.ledger = ledger;
    this.meetings = meetings;
    this.events = events;
    this.options = options;
    this.logger = logger;
  }

  /** A socket closed without leaving: hold the seat. Ignored if another socket holds it now. */
  async disconnected(meetingId: string, participantId: string, socketId: string): Promise<void> {
    const repo = this.ledger.repo;
    const held = await this.ledger.admit(
      meetingId,
      async (_meeting, record) => {
        if (!record || record.socketId !== socketId) return false;
        await repo.putParticipant({ ...record, connection: 'reconnecting', disconnectedAt: Date.now(), pushNodeId: undefined }, record);
        await repo.markReconnecting(meetingId, participantId, true);
        return true;
      },
      participantId,
      { allowEnded: true },
    );
    if (held) this.logger.info({ meetingId, participantId }, 'participant disconnected; holding the seat');
  }

  /** Releases seats whose grace period is over. Returns how many were released. */
  async releaseExpired(now = Date.now()): Promise<number> {
    const repo = this.ledger.repo;
    let released = 0;
    for (const { meetingId, participantId } of await repo.reconnecting()) {
      const expired = await this.ledger
        .admit(
          meetingId,
          async (_meeting, record) => {
            if (record?.connection !== 'reconnecting') {
              await repo.markReconnecting(meetingId, participantId, false);
              return null;
            }
            if (now - (record.disconnectedAt ?? now) < this.options.reconnectGraceMs) return null;
            return (await repo.removeParticipant(meetingId, participantId)) ? record : null;
          },
          participantId,
          { allowEnded: true },
        )
        .catch(async (error: unknown) => {
          // Its meeting has expired with it: nothing to release, only the marker to drop.
          if (error instanceof AppError && error.code === 'meeting_not_found') await repo.markReconnecting(meetingId, participantId, false);
          return null;
        });
      if (expired) {
        await this.ledger.release(expired, 'timeout');
        released++;
      }
    }
    return released;
  }

  /** Idempotent: leaving twice, or a seat already released, is not an error. */
  async leave(meetingId: string, participantId: string, reason: LeaveReason): Promise<void> {
    const record = await this.ledger.vacate(meetingId, participantId);
    if (record) await this.ledger.release(record, reason);
  }

  /**
   * Removal is a ban for the meeting's life: the participant id is kept as removed and the
   * seat's tokens revoked, so only a new join token (a new participant) gets back in. With
   * `ban`, the address the removed participant's token was issued to gets no new token either.
   */
  async remove(meetingId: string, participantId: string, by: string | null, options: { ban?: boolean } = {}): Promise<void> {
    const repo = this.ledger.repo;
    await this.meetings.get(meetingId);
    const record = await this.ledger.admit(
      meetingId,
      async (_meeting, current) => {
        if (!current) return null;
        await repo.markRemoved(meetingId, participantId);
        if (options.ban && current.origin) await repo.banOrigin(meetingId, current.origin);
        return (await repo.removeParticipant(meetingId, participantId)) ? current : null;
      },
      participantId,
      { allowEnded: true },
    );
    if (!record) throw new AppError('participant_not_found', `participant ${participantId} is not in the meeting`);
    for (const token of record.tokens ?? []) await repo.revokeToken(meetingId, token.jti, token.expiresAt);
    this.logger.info({ meetingId, participantId, by, ban: options.ban === true }, 'participant removed');
    await this.events.publish(meetingId, { event: 'moderation', payload: { action: 'remove', by }, to: participantId });
    await this.ledger.release(record, 'removed');
  }
}
