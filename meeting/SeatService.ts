import { AppError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { withLock } from '../common/state/lock.js';
import type { JoinResult, ServerEvents } from '../common/protocol.js';
import type { MediaClient } from '../media/MediaClient.js';
import type { MeetingEvents } from './MeetingEvents.js';
import type { MeetingRepository } from './MeetingRepository.js';
import { type MeetingService, summary } from './MeetingService.js';
import { publicParticipant, type ParticipantRecord } from './records.js';
import type { TokenClaims, TokenService } from './tokens.js';

export interface SeatServiceOptions {
  reconnectGraceMs: number;
  sessionTokenTtlS: number;
  endedRetentionMs: number;
}

type LeaveReason = ServerEvents['participantLeft']['reason'];

/**
 * Seats: who is in a meeting. A seat outlives its socket for the grace period, so a client
 * that drops and comes back keeps its place and the others never see it leave.
 */
export class SeatService {
  constructor(
    private readonly repo: MeetingRepository,
    private readonly meetings: MeetingService,
    private readonly events: MeetingEvents,
    private readonly media: MediaClient,
    private readonly tokens: TokenService,
    private readonly options: SeatServiceOptions,
    private readonly logger: Logger,
  ) {}

  /** The node that hosts the meeting's media, placed once under a lock. */
  async mediaNodeFor(meetingId: string): Promise<string> {
    const meeting = await this.meetings.get(meetingId);
    if (meeting.mediaNodeId) return meeting.mediaNodeId;
    return withLock(this.repo.store, `placement:${meetingId}`, async () => {
      const current = await this.meetings.get(meetingId);
      if (current.mediaNodeId) return current.mediaNodeId;
      const nodeId = await this.media.pickNode(meetingId);
      await this.repo.updateMeeting(meetingId, (m) => ({ ...m, mediaNodeId: nodeId }));
      this.logger.info({ meetingId, mediaNodeId: nodeId }, 'meeting placed on media node');
      return nodeId;
    });
  }

  async join(claims: TokenClaims, socketId: string, input: { rtpCapabilities: unknown; kind?: 'browser' | 'bot' }): Promise<JoinResult> {
    const meetingId = claims.mid;
    const participantId = claims.sub;
    const mediaNodeId = await this.mediaNodeFor(meetingId);
    const { record, resumed } = await withLock(this.repo.store, `admit:${meetingId}`, async () => {
      const meeting = await this.meetings.get(meetingId);
      const existing = await this.repo.getParticipant(meetingId, participantId);
      if (existing) {
        const record: ParticipantRecord = { ...existing, connection: 'connected', socketId, disconnectedAt: undefined, mediaNodeId };
        await this.repo.putParticipant(record);
        await this.repo.markReconnecting(meetingId, participantId, false);
        return { record, resumed: true };
      }
      if (claims.typ === 'session') throw new AppError('participant_not_found', 'your seat was released; join the meeting again');
      if (meeting.settings.locked && claims.role !== 'host') throw new AppError('meeting_locked', 'the meeting is locked');
      const count = (await this.repo.listParticipants(meetingId)).length;
      if (count >= meeting.settings.maxParticipants) throw new AppError('meeting_full', 'the meeting is full');
      const record: ParticipantRecord = {
        id: participantId,
        meetingId,
        name: claims.name,
        role: claims.role,
        grants: claims.grants,
        kind: input.kind ?? 'browser',
        connection: 'connected',
        joinedAt: Date.now(),
        socketId,
        mediaNodeId,
      };
      await this.repo.putParticipant(record);
      return { record, resumed: false };
    });
    const { activeSpeakerId } = await this.media.call(mediaNodeId, 'registerParticipant', {
      meetingId,
      participantId,
      rtpCapabilities: input.rtpCapabilities,
    });
    if (!resumed) {
      await this.events.publish(meetingId, { event: 'participantJoined', payload: { participant: publicParticipant(record) }, except: participantId });
      this.logger.info({ meetingId, participantId }, 'participant joined');
    } else {
      this.logger.info({ meetingId, participantId }, 'participant resumed its seat');
    }
    const [meeting, participants, producers, chat] = await Promise.all([
      this.meetings.get(meetingId),
      this.repo.listParticipants(meetingId),
      this.repo.listProducers(meetingId),
      this.repo.chatHistory(meetingId),
    ]);
    const { token: sessionToken } = await this.tokens.sign({ ...claims, typ: 'session' }, this.options.sessionTokenTtlS);
    return {
      self: publicParticipant(record),
      meeting: summary(meeting),
      participants: participants.filter((p) => p.id !== participantId).map(publicParticipant),
      producers: producers.filter((p) => p.participantId !== participantId || resumed),
      chat,
      activeSpeakerId,
      resumed,
      sessionToken,
    };
  }

  /** A socket closed without leaving: hold the seat. Ignored if another socket holds it now. */
  async disconnected(meetingId: string, participantId: string, socketId: string): Promise<void> {
    const record = await this.repo.getParticipant(meetingId, participantId);
    if (!record || record.socketId !== socketId) return;
    await this.repo.putParticipant({ ...record, connection: 'reconnecting', disconnectedAt: Date.now() });
    await this.repo.markReconnecting(meetingId, participantId, true);
    this.logger.info({ meetingId, participantId }, 'participant disconnected; holding the seat');
  }

  /** Releases seats whose grace period is over. Returns how many were released. */
  async releaseExpired(now = Date.now()): Promise<number> {
    let released = 0;
    for (const { meetingId, participantId } of await this.repo.reconnecting()) {
      const record = await this.repo.getParticipant(meetingId, participantId);
      if (record?.connection !== 'reconnecting') {
        await this.repo.markReconnecting(meetingId, participantId, false);
        continue;
      }
      if (now - (record.disconnectedAt ?? now) >= this.options.reconnectGraceMs) {
        await this.leave(meetingId, participantId, 'timeout');
        released++;
      }
    }
    return released;
  }

  /** Idempotent: leaving twice, or a seat already released, is not an error. */
  async leave(meetingId: string, participantId: string, reason: LeaveReason): Promise<void> {
    const record = await this.repo.getParticipant(meetingId, participantId);
    if (!record) return;
    if (record.mediaNodeId) {
      await this.media.call(record.mediaNodeId, 'closeParticipant', { meetingId, participantId }).catch((error: unknown) => {
        this.logger.warn({ meetingId, participantId, err: error }, 'could not close participant media');
      });
    }
    for (const producer of await this.repo.listProducers(meetingId)) {
      if (producer.participantId !== participantId) continue;
      await this.repo.removeProducer(meetingId, producer.id);
      await this.events.publish(meetingId, { event: 'producerClosed', payload: { producerId: producer.id, participantId } });
    }
    if (!(await this.repo.removeParticipant(meetingId, participantId))) return;
    await this.events.publish(meetingId, { event: 'participantLeft', payload: { participantId, reason } });
    this.logger.info({ meetingId, participantId, reason }, 'participant left');
  }

  async remove(meetingId: string, participantId: string, by: string | null): Promise<void> {
    await this.meetings.get(meetingId);
    const record = await this.repo.getParticipant(meetingId, participantId);
    if (!record) throw new AppError('participant_not_found', `participant ${participantId} is not in the meeting`);
    await this.events.publish(meetingId, { event: 'moderation', payload: { action: 'remove', by }, to: participantId });
    await this.leave(meetingId, participantId, 'removed');
  }

  async end(meetingId: string, by: string | null): Promise<void> {
    const meeting = await this.meetings.get(meetingId);
    await this.repo.updateMeeting(meetingId, (m) => (m.endedAt ? null : { ...m, endedAt: Date.now() }));
    await this.events.publish(meetingId, { event: 'moderation', payload: { action: 'end', by } });
    for (const participant of await this.repo.listParticipants(meetingId)) {
      await this.leave(meetingId, participant.id, 'ended');
    }
    if (meeting.mediaNodeId) await this.media.call(meeting.mediaNodeId, 'closeMeeting', { meetingId }).catch(() => undefined);
    await this.repo.markEnded(meetingId, this.options.endedRetentionMs);
    this.logger.info({ meetingId }, 'meeting ended');
  }
}
