import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import { withLock } from '../common/state/lock.ts';
import { withAdmission } from './admission.ts';
import type { JoinResult, ServerEvents } from '../protocol/src/index.ts';
import type { MediaClient } from '../media/contract.ts';
import { checkAccess } from './AccessGuard.ts';
import type { MeetingEvents } from './MeetingEvents.ts';
import type { MeetingRepository } from './MeetingRepository.ts';
import { type MeetingService, summary } from './MeetingService.ts';
import type { MediaPlacement } from './placement/MediaPlacement.ts';
import { publicParticipant, type ParticipantRecord } from './records.ts';
import type { TokenClaims, TokenService } from './tokens.ts';

export interface SeatServiceOptions {
  reconnectGraceMs: number;
  sessionTokenTtlS: number;
  /** How long a seat change waits for the admission lock before answering `busy`. */
  lockWaitMs: number;
}

type LeaveReason = ServerEvents['participantLeft']['reason'];

/** Tokens remembered per seat for revocation: the join token and the latest session tokens. */
const TOKENS_PER_SEAT = 8;

/** Media errors after which another node should be tried. */
const TRY_ANOTHER_NODE = new Set(['node_full', 'node_draining', 'unavailable', 'timeout']);

/**
 * Seats: who is in a meeting, and where their media and socket live. A seat outlives its socket
 * for the grace period, so a client that drops and comes back keeps its place and the others
 * never see it leave. Every change to a seat happens under the meeting's admission lock
 * (`admission.ts`), so a join, a leave, a removal, a disconnect and the cleaner cannot interleave.
 */
export class SeatService {
  private readonly repo: MeetingRepository;
  private readonly meetings: MeetingService;
  private readonly events: MeetingEvents;
  private readonly media: MediaClient;
  private readonly placement: MediaPlacement;
  private readonly tokens: TokenService;
  private readonly options: SeatServiceOptions;
  private readonly logger: Logger;
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
    this.repo = repo;
    this.meetings = meetings;
    this.events = events;
    this.media = media;
    this.placement = placement;
    this.tokens = tokens;
    this.options = options;
    this.logger = logger;
  }

  /** The meeting's primary media node, placed once under a lock, moved only if it died. */
  async mediaNodeFor(meetingId: string): Promise<string> {
    const meeting = await this.meetings.get(meetingId);
    if (meeting.mediaNodeId && (await this.placement.isAlive(meeting.mediaNodeId))) return meeting.mediaNodeId;
    return withLock(this.repo.store, `placement:${meetingId}`, async () => {
      const current = await this.meetings.get(meetingId);
      if (current.mediaNodeId && (await this.placement.isAlive(current.mediaNodeId))) return current.mediaNodeId;
      const nodeId = await this.placement.pick(meetingId);
      await this.repo.updateMeeting(meetingId, (m) => ({ ...m, mediaNodeId: nodeId }));
      this.logger.info({ meetingId, mediaNodeId: nodeId, previous: current.mediaNodeId }, 'meeting placed on media node');
      return nodeId;
    });
  }

  /** Takes or retakes the seat; `previousSocketId` is a socket that held it and must be closed. */
  async join(
    claims: TokenClaims,
    socketId: string,
    input: { rtpCapabilities: Record<string, unknown>; kind?: 'browser' | 'bot' | 'phone' },
    pushNodeId?: string,
  ): Promise<{ result: JoinResult; previousSocketId?: string }> {
    const meetingId = claims.mid;
    const participantId = claims.sub;
    const primary = await this.mediaNodeFor(meetingId);
    let previousSocketId: string | undefined;
    // Signed before the seat is taken so that the seat records it, to be revoked on removal.
    const session = await this.tokens.sign({ ...claims, typ: 'session' }, this.options.sessionTokenTtlS);
    const issued = (previous: ParticipantRecord['tokens'] = []) => [...previous, { jti: session.jti, expiresAt: session.expiresAt }].slice(-TOKENS_PER_SEAT);
    const { record, resumed } = await this.#admit(meetingId, async (meeting, existing) => {
      // Under the admission lock: a removal that finished before this cannot be undone by it.
      await checkAccess(this.repo, claims);
      if (existing) {
        if (existing.socketId !== socketId) previousSocketId = existing.socketId;
        const record: ParticipantRecord = { ...existing, connection: 'connected', socketId, pushNodeId, disconnectedAt: undefined, tokens: issued(existing.tokens) };
        await this.repo.putParticipant(record, existing);
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
        pushNodeId,
        origin: claims.org,
        tokens: issued(claims.jti && claims.exp ? [{ jti: claims.jti, expiresAt: claims.exp * 1000 }] : []),
      };
      await this.repo.putParticipant(record);
      return { record, resumed: false };
    }, participantId);

    let placed: { nodeId: string; activeSpeakerId: string | null };
    try {
      placed = await this.#placeMedia(meetingId, participantId, input.rtpCapabilities, [record.mediaNodeId, primary]);
    } catch (error) {
      // Give back the seat this join took, unless another socket has retaken it meanwhile.
      if (!resumed) {
        await this.#vacate(meetingId, participantId, socketId).catch((rollback: unknown) => {
          this.logger.warn({ meetingId, participantId, err: rollback }, 'could not give back the seat of a failed join; its grace period will');
        });
      }
      throw error;
    }
    if (placed.nodeId !== record.mediaNodeId) {
      await this.#admit(meetingId, async (_meeting, current) => {
        if (current) await this.repo.putParticipant({ ...current, mediaNodeId: placed.nodeId }, current);
      }, participantId);
      record.mediaNodeId = placed.nodeId;
    }

    if (!resumed) {
      await this.events.publish(meetingId, { event: 'participantJoined', payload: { participant: publicParticipant(record) }, except: participantId });
      this.logger.info({ meetingId, participantId, mediaNodeId: placed.nodeId }, 'participant joined');
    } else {
      this.logger.info({ meetingId, participantId, mediaNodeId: placed.nodeId }, 'participant resumed its seat');
    }
    const [meeting, participants, producers, chat, presentation] = await Promise.all([
      this.meetings.get(meetingId),
      this.repo.listParticipants(meetingId),
      this.repo.listProducers(meetingId),
      this.repo.chatHistory(meetingId),
      this.repo.presentation(meetingId),
    ]);
    const result: JoinResult = {
      self: publicParticipant(record),
      meeting: summary(meeting),
      participants: participants.filter((p) => p.id !== participantId).map(publicParticipant),
      producers: producers.filter((p) => p.participantId !== participantId || resumed),
      chat,
      activeSpeakerId: placed.activeSpeakerId,
      presentation,
      resumed,
      sessionToken: session.token,
    };
    return { result, previousSocketId };
  }

  /** A socket closed without leaving: hold the seat. Ignored if another socket holds it now. */
  async disconnected(meetingId: string, participantId: string, socketId: string): Promise<void> {
    const held = await this.#admit(meetingId, async (_meeting, record) => {
      if (!record || record.socketId !== socketId) return false;
      await this.repo.putParticipant({ ...record, connection: 'reconnecting', disconnectedAt: Date.now(), pushNodeId: undefined }, record);
      await this.repo.markReconnecting(meetingId, participantId, true);
      return true;
    }, participantId, { allowEnded: true });
    if (held) this.logger.info({ meetingId, participantId }, 'participant disconnected; holding the seat');
  }

  /** Releases seats whose grace period is over. Returns how many were released. */
  async releaseExpired(now = Date.now()): Promise<number> {
    let released = 0;
    for (const { meetingId, participantId } of await this.repo.reconnecting()) {
      const expired = await this.#admit(meetingId, async (_meeting, record) => {
        if (record?.connection !== 'reconnecting') {
          await this.repo.markReconnecting(meetingId, participantId, false);
          return null;
        }
        if (now - (record.disconnectedAt ?? now) < this.options.reconnectGraceMs) return null;
        return (await this.repo.removeParticipant(meetingId, participantId)) ? record : null;
      }, participantId, { allowEnded: true }).catch(async (error: unknown) => {
        // Its meeting has expired with it: nothing to release, only the marker to drop.
        if (error instanceof AppError && error.code === 'meeting_not_found') await this.repo.markReconnecting(meetingId, participantId, false);
        return null;
      });
      if (expired) {
        await this.#release(expired, 'timeout');
        released++;
      }
    }
    return released;
  }

  /** Idempotent: leaving twice, or a seat already released, is not an error. */
  async leave(meetingId: string, participantId: string, reason: LeaveReason): Promise<void> {
    const record = await this.#vacate(meetingId, participantId);
    if (record) await this.#release(record, reason);
  }

  /**
   * Removal is a ban for the meeting's life: the participant id is kept as removed and the
   * seat's tokens revoked, so only a new join token (a new participant) gets back in. With
   * `ban`, the address the removed participant's token was issued to gets no new token either.
   */
  async remove(meetingId: string, participantId: string, by: string | null, options: { ban?: boolean } = {}): Promise<void> {
    await this.meetings.get(meetingId);
    const record = await this.#admit(
      meetingId,
      async (_meeting, current) => {
        if (!current) return null;
        await this.repo.markRemoved(meetingId, participantId);
        if (options.ban && current.origin) await this.repo.banOrigin(meetingId, current.origin);
        return (await this.repo.removeParticipant(meetingId, participantId)) ? current : null;
      },
      participantId,
      { allowEnded: true },
    );
    if (!record) throw new AppError('participant_not_found', `participant ${participantId} is not in the meeting`);
    for (const token of record.tokens ?? []) await this.repo.revokeToken(meetingId, token.jti, token.expiresAt);
    this.logger.info({ meetingId, participantId, by, ban: options.ban === true }, 'participant removed');
    await this.events.publish(meetingId, { event: 'moderation', payload: { action: 'remove', by }, to: participantId });
    await this.#release(record, 'removed');
  }

  /**
   * A media node is gone. Its participants keep their seats; their old producers are closed
   * for everyone, and each is told to rebuild its media (it lands on another node on rejoin).
   */
  async mediaNodeLost(nodeId: string): Promise<number> {
    let moved = 0;
    for (const { meetingId, participantId } of await this.repo.participantsOnNode('media', nodeId)) {
      const record = await this.#admit(meetingId, async (_meeting, current) => {
        if (current?.mediaNodeId !== nodeId) return null;
        await this.repo.putParticipant({ ...current, mediaNodeId: undefined }, current);
        return current;
      }, participantId, { allowEnded: true }).catch(() => null);
      if (!record) continue;
      await this.#closeProducersOf(record);
      await this.events.publish(meetingId, { event: 'mediaReset', payload: { reason: 'node_lost' }, to: participantId });
      moved++;
    }
    await this.repo.forgetNode('media', nodeId);
    if (moved > 0) this.logger.warn({ mediaNodeId: nodeId, moved }, 'media node lost; its participants were moved');
    return moved;
  }

  /** A push node is gone: its participants' seats start their grace period. */
  async pushNodeLost(nodeId: string): Promise<number> {
    let held = 0;
    for (const { meetingId, participantId } of await this.repo.participantsOnNode('push', nodeId)) {
      const changed = await this.#admit(meetingId, async (_meeting, current) => {
        if (current?.pushNodeId !== nodeId || current.connection !== 'connected') return false;
        await this.repo.putParticipant({ ...current, connection: 'reconnecting', disconnectedAt: Date.now(), pushNodeId: undefined }, current);
        await this.repo.markReconnecting(meetingId, participantId, true);
        return true;
      }, participantId, { allowEnded: true }).catch(() => false);
      if (changed) held++;
    }
    await this.repo.forgetNode('push', nodeId);
    if (held > 0) this.logger.warn({ pushNodeId: nodeId, held }, 'push node lost; holding its participants\' seats');
    return held;
  }

  /**
   * Frees the seat under the admission lock and returns what it held; null when it was already
   * free, held by another socket than `holder`, or its meeting is gone. Only the caller whose
   * delete succeeds gets the record, so a departure is announced once.
   */
  async #vacate(meetingId: string, participantId: string, holder?: string): Promise<ParticipantRecord | null> {
    return this.#admit(meetingId, async (_meeting, record) => {
      if (!record || (holder !== undefined && record.socketId !== holder)) return null;
      return (await this.repo.removeParticipant(meetingId, participantId)) ? record : null;
    }, participantId, { allowEnded: true }).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'meeting_not_found') return null;
      throw error;
    });
  }

  async #placeMedia(meetingId: string, participantId: string, rtpCapabilities: Record<string, unknown>, preferred: Array<string | undefined>): Promise<{ nodeId: string; activeSpeakerId: string | null }> {
    const tried = new Set<string>();
    const queue = [...new Set(preferred.filter((n): n is string => n !== undefined))];
    for (let attempt = 0; attempt < 6; attempt++) {
      let nodeId = queue.shift();
      if (nodeId && !(await this.placement.isAlive(nodeId))) {
        tried.add(nodeId);
        continue;
      }
      nodeId ??= await this.placement.pick(meetingId, tried);
      try {
        const { activeSpeakerId } = await this.media.call(nodeId, 'registerParticipant', { meetingId, participantId, rtpCapabilities });
        return { nodeId, activeSpeakerId };
      } catch (error) {
        if (!(error instanceof AppError) || !TRY_ANOTHER_NODE.has(error.code)) throw error;
        this.logger.info({ meetingId, participantId, mediaNodeId: nodeId, code: error.code }, 'media node refused the participant; trying another');
        tried.add(nodeId);
      }
    }
    throw new AppError('unavailable', 'no media node could take this participant');
  }

  async #closeProducersOf(record: ParticipantRecord): Promise<void> {
    for (const producer of await this.repo.listProducers(record.meetingId)) {
      if (producer.participantId !== record.id) continue;
      await this.repo.removeProducer(record.meetingId, producer.id);
      await this.events.publish(record.meetingId, { event: 'producerClosed', payload: { producerId: producer.id, participantId: record.id } });
    }
  }

  async #release(record: ParticipantRecord, reason: LeaveReason): Promise<void> {
    const { meetingId, id: participantId } = record;
    if (record.mediaNodeId) {
      await this.media.call(record.mediaNodeId, 'closeParticipant', { meetingId, participantId }).catch((error: unknown) => {
        this.logger.warn({ meetingId, participantId, err: error }, 'could not close participant media');
      });
    }
    await this.#closeProducersOf(record);
    await this.events.publish(meetingId, { event: 'participantLeft', payload: { participantId, reason } });
    this.logger.info({ meetingId, participantId, reason }, 'participant left');
  }

  /** Runs `fn` on the current seat under the meeting's admission lock. */
  async #admit<T>(
    meetingId: string,
    fn: (meeting: Awaited<ReturnType<MeetingService['get']>>, participant: ParticipantRecord | null) => Promise<T>,
    participantId: string,
    options: { allowEnded?: boolean } = {},
  ): Promise<T> {
    return withAdmission(this.repo.store, meetingId, async () => {
      const meeting = await this.meetings.get(meetingId, options);
      return fn(meeting, await this.repo.getParticipant(meetingId, participantId));
    }, this.options.lockWaitMs);
  }
}
