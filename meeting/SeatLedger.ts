import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { MediaClient } from '../media/contract.ts';
import type { ServerEvents } from '../protocol/src/index.ts';
import { withAdmission } from './admission.ts';
import type { MeetingEvents } from './MeetingEvents.ts';
import type { MeetingRepository } from './MeetingRepository.ts';
import type { MeetingService } from './MeetingService.ts';
import type { ParticipantRecord } from './records.ts';

export type LeaveReason = ServerEvents['participantLeft']['reason'];

export type SeatChange<T> = (meeting: Awaited<ReturnType<MeetingService['get']>>, participant: ParticipantRecord | null) => Promise<T>;

/**
 * What every seat change shares: running it on the current seat under the meeting's admission
 * lock (`admission.ts`), freeing a seat so that only one caller gets its record, and announcing
 * a departure once (media closed, producers closed, `participantLeft`). The joining, leaving and
 * lost-node services are built on it, so none of them can change a seat outside the lock.
 */
export class SeatLedger {
  readonly repo: MeetingRepository;
  private readonly meetings: MeetingService;
  private readonly events: MeetingEvents;
  private readonly media: MediaClient;
  private readonly lockWaitMs: number;
  private readonly logger: Logger;
  constructor(repo: MeetingRepository, meetings: MeetingService, events: MeetingEvents, media: MediaClient, lockWaitMs: number, logger: Logger) {
    this.repo = repo;
    this.meetings = meetings;
    this.events = events;
    this.media = media;
    this.lockWaitMs = lockWaitMs;
    this.logger = logger;
  }

  /** Runs `fn` on the current seat under the meeting's admission lock. */
  async admit<T>(meetingId: string, fn: SeatChange<T>, participantId: string, options: { allowEnded?: boolean } = {}): Promise<T> {
    return withAdmission(
      this.repo.store,
      meetingId,
      async () => {
        const meeting = await this.meetings.get(meetingId, options);
        return fn(meeting, await this.repo.getParticipant(meetingId, participantId));
      },
      this.lockWaitMs,
    );
  }

  /**
   * Frees the seat under the admission lock and returns what it held; null when it was already
   * free, held by another socket than `holder`, or its meeting is gone. Only the caller whose
   * delete succeeds gets the record, so a departure is announced once.
   */
  async vacate(meetingId: string, participantId: string, holder?: string): Promise<ParticipantRecord | null> {
    return this.admit(
      meetingId,
      async (_meeting, record) => {
        if (!record || (holder !== undefined && record.socketId !== holder)) return null;
        return (await this.repo.removeParticipant(meetingId, participantId)) ? record : null;
      },
      participantId,
      { allowEnded: true },
    ).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'meeting_not_found') return null;
      throw error;
    });
  }

  /** After a seat was freed: its media, its producers, and the announcement. */
  async release(record: ParticipantRecord, reason: LeaveReason): Promise<void> {
    const { meetingId, id: participantId } = record;
    if (record.mediaNodeId) {
      await this.media.call(record.mediaNodeId, 'closeParticipant', { meetingId, participantId }).catch((error: unknown) => {
        this.logger.warn({ meetingId, participantId, err: error }, 'could not close participant media');
      });
    }
    await this.closeProducersOf(record);
    await this.events.publish(meetingId, { event: 'participantLeft', payload: { participantId, reason } });
    this.logger.info({ meetingId, participantId, reason }, 'participant left');
    // Who is left may all decode a codec preferred to the current one (the H264-only device left).
    await this.meetings.codecs.reconcile(meetingId).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'meeting_not_found') return;
      this.logger.warn({ meetingId, err: error }, 'could not re-choose the video codec after a departure');
    });
  }

  async closeProducersOf(record: ParticipantRecord): Promise<void> {
    for (const producer of await this.repo.listProducers(record.meetingId)) {
      if (producer.participantId !== record.id) continue;
      await this.repo.removeProducer(record.meetingId, producer.id);
      await this.events.publish(record.meetingId, { event: 'producerClosed', payload: { producerId: producer.id, participantId: record.id } });
    }
  }
}
