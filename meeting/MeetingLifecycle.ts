import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { MediaClient } from '../media/contract.ts';
import { withAdmission } from './admission.ts';
import type { MeetingEvents } from './MeetingEvents.ts';
import type { MeetingRepository } from './MeetingRepository.ts';
import type { MeetingRecord } from './records.ts';
import type { SeatService } from './SeatService.ts';

export interface MeetingLifecycleOptions {
  /** A meeting nobody has been in for this long ends. */
  idleEndMs: number;
  /** How long an ended meeting's record stays readable. */
  endedRetentionMs: number;
  lockWaitMs: number;
}

/** An end whose winding-up was interrupted (a crash, a busy seat) is finished after this. */
const RESUME_ENDING_AFTER_MS = 60_000;

/**
 * How a meeting ends, by a host or by idling, and what it gives back when it does. The end is
 * marked under the admission lock, so from then on no seat can be taken and the seats listed
 * afterwards are all there are; each is then released (under the same lock, one at a time),
 * the media closed and the meeting's state handed back.
 */
export class MeetingLifecycle {
  private readonly repo: MeetingRepository;
  private readonly seats: SeatService;
  private readonly events: MeetingEvents;
  private readonly media: MediaClient;
  private readonly options: MeetingLifecycleOptions;
  private readonly logger: Logger;
  constructor(
    repo: MeetingRepository,
    seats: SeatService,
    events: MeetingEvents,
    media: MediaClient,
    options: MeetingLifecycleOptions,
    logger: Logger,
  ) {
    this.repo = repo;
    this.seats = seats;
    this.events = events;
    this.media = media;
    this.options = options;
    this.logger = logger;
  }

  /** A host (or the API key) ends the meeting. Throws `meeting_not_found`, `meeting_ended`, `busy`. */
  async end(meetingId: string, by: string | null): Promise<void> {
    const meeting = await withAdmission(this.repo.store, meetingId, async () => {
      const current = await this.repo.getMeeting(meetingId);
      if (!current) throw new AppError('meeting_not_found', `meeting ${meetingId} does not exist`);
      if (current.endedAt !== undefined) throw new AppError('meeting_ended', `meeting ${meetingId} has ended`);
      return this.#markEnded(meetingId);
    }, this.options.lockWaitMs);
    await this.#windUp(meeting, by, 'ended');
  }

  /**
   * Ends live meetings nobody has been in for `idleEndMs`, and finishes ends that were
   * interrupted. The meeting role's cleaner runs it, under its lease. Returns how many ended.
   */
  async endIdle(now = Date.now()): Promise<number> {
    let ended = 0;
    for (const meetingId of await this.repo.liveMeetingIds()) {
      try {
        const meeting = await this.repo.getMeeting(meetingId);
        if (!meeting) {
          await this.repo.forgetLive(meetingId);
          continue;
        }
        if (meeting.endedAt !== undefined) {
          if (now - meeting.endedAt >= RESUME_ENDING_AFTER_MS) await this.#windUp(meeting, null, 'resumed');
          continue;
        }
        if (now - (meeting.emptySince ?? meeting.createdAt) < this.options.idleEndMs) continue;
        // Checked again under the lock: someone may be joining right now.
        const idle = await withAdmission(this.repo.store, meetingId, async () => {
          const current = await this.repo.getMeeting(meetingId);
          if (!current || current.endedAt !== undefined) return null;
          if (now - (current.emptySince ?? current.createdAt) < this.options.idleEndMs) return null;
          if ((await this.repo.participantCount(meetingId)) > 0) return null;
          return this.#markEnded(meetingId);
        }, this.options.lockWaitMs);
        if (!idle) continue;
        await this.#windUp(idle, null, 'idle');
        ended++;
      } catch (error) {
        this.logger.warn({ meetingId, err: error }, 'could not end an idle meeting; trying again on the next sweep');
      }
    }
    return ended;
  }

  async #markEnded(meetingId: string): Promise<MeetingRecord> {
    const ended = await this.repo.updateMeeting(meetingId, (m) => (m.endedAt === undefined ? { ...m, endedAt: Date.now() } : null));
    if (!ended) throw new AppError('meeting_not_found', `meeting ${meetingId} does not exist`);
    return ended;
  }

  /**
   * Releases every seat, closes the media and gives the state back. Idempotent, so that an
   * interrupted end can be finished by the cleaner: the meeting leaves `meetings:live` only
   * once every seat is released.
   */
  async #windUp(meeting: MeetingRecord, by: string | null, how: 'ended' | 'idle' | 'resumed'): Promise<void> {
    const meetingId = meeting.id;
    if (how !== 'resumed') await this.events.publish(meetingId, { event: 'moderation', payload: { action: 'end', by } });
    const nodes = new Set<string>();
    for (const participant of await this.repo.listParticipants(meetingId)) {
      if (participant.mediaNodeId) nodes.add(participant.mediaNodeId);
      await this.seats.leave(meetingId, participant.id, 'ended');
    }
    if (meeting.mediaNodeId) nodes.add(meeting.mediaNodeId);
    for (const nodeId of nodes) await this.media.call(nodeId, 'closeMeeting', { meetingId }).catch(() => undefined);
    await this.repo.markEnded(meeting, this.options.endedRetentionMs);
    this.logger.info({ meetingId, how }, 'meeting ended');
  }
}
