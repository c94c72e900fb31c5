import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import { withLock } from '../common/state/lock.ts';
import type { MediaClient } from '../media/contract.ts';
import type { JoinResult } from '../protocol/src/index.ts';
import { checkAccess } from './AccessGuard.ts';
import type { MeetingEvents } from './MeetingEvents.ts';
import { type MeetingService, summary } from './MeetingService.ts';
import type { MediaPlacement } from './placement/MediaPlacement.ts';
import { type JoinInput, type ParticipantRecord, publicParticipant } from './records.ts';
import type { SeatLedger } from './SeatLedger.ts';
import type { TokenClaims, TokenService } from './tokens.ts';

/** Tokens remembered per seat for revocation: the join token and the latest session tokens. */
const TOKENS_PER_SEAT = 8;

/** Media errors after which another node should be tried. */
const TRY_ANOTHER_NODE = new Set(['node_full', 'node_draining', 'unavailable', 'timeout']);

/**
 * Taking a seat, or retaking a held one: the seat under the admission lock, then a media node
 * that will take the participant (trying others when one is full, draining or gone), then the
 * announcement and the state the client starts from.
 */
export class SeatJoins {
  private readonly ledger: SeatLedger;
  private readonly meetings: MeetingService;
  private readonly events: MeetingEvents;
  private readonly media: MediaClient;
  private readonly placement: MediaPlacement;
  private readonly tokens: TokenService;
  private readonly sessionTokenTtlS: number;
  private readonly logger: Logger;
  constructor(
    ledger: SeatLedger,
    meetings: MeetingService,
    events: MeetingEvents,
    media: MediaClient,
    placement: MediaPlacement,
    tokens: TokenService,
    sessionTokenTtlS: number,
    logger: Logger,
  ) {
    this.ledger = ledger;
    this.meetings = meetings;
    this.events = events;
    this.media = media;
    this.placement = placement;
    this.tokens = tokens;
    this.sessionTokenTtlS = sessionTokenTtlS;
    this.logger = logger;
  }

  /** The meeting's primary media node, placed once under a lock, moved only if it died. */
  async mediaNodeFor(meetingId: string): Promise<string> {
    const meeting = await this.meetings.get(meetingId);
    if (meeting.mediaNodeId && (await this.placement.isAlive(meeting.mediaNodeId))) return meeting.mediaNodeId;
    return withLock(this.ledger.repo.store, `placement:${meetingId}`, async () => {
      const current = await this.meetings.get(meetingId);
      if (current.mediaNodeId && (await this.placement.isAlive(current.mediaNodeId))) return current.mediaNodeId;
      const nodeId = await this.placement.pick(meetingId);
      await this.ledger.repo.updateMeeting(meetingId, (m) => ({ ...m, mediaNodeId: nodeId }));
      this.logger.info({ meetingId, mediaNodeId: nodeId, previous: current.mediaNodeId }, 'meeting placed on media node');
      return nodeId;
    });
  }

  /**
   * The capabilities of the meeting's router, placing the meeting first if needed. Every router
   * of a meeting is made from the same codec list, so these hold wherever the participant is seated.
   */
  async routerRtpCapabilities(meetingId: string): Promise<Record<string, unknown>> {
    const nodeId = await this.mediaNodeFor(meetingId);
    const { rtpCapabilities } = await this.media.call(nodeId, 'getRouterRtpCapabilities', { meetingId });
    return rtpCapabilities;
  }

  /**
   * Takes or retakes the seat; `previousSocketId` is a socket that held it and must be closed,
   * `mediaNodeId` the node the participant's media is on now.
   */
  async join(
    claims: TokenClaims,
    socketId: string,
    input: JoinInput,
    pushNodeId?: string,
  ): Promise<{ result: JoinResult; previousSocketId?: string; mediaNodeId: string }> {
    const meetingId = claims.mid;
    const participantId = claims.sub;
    const primary = await this.mediaNodeFor(meetingId);
    let previousSocketId: string | undefined;
    // Signed before the seat is taken so that the seat records it, to be revoked on removal.
    const session = await this.tokens.sign({ ...claims, typ: 'session' }, this.sessionTokenTtlS);
    const issued = (previous: ParticipantRecord['tokens'] = []) => [...previous, { jti: session.jti, expiresAt: session.expiresAt }].slice(-TOKENS_PER_SEAT);
    const { record, resumed } = await this.ledger.admit(meetingId, async (meeting, existing) => {
      // Under the admission lock: a removal that finished before this cannot be undone by it.
      await checkAccess(this.ledger.repo, claims);
      // Refused before the seat is taken: a device that could receive no video in this meeting.
      const videoCodecs = this.meetings.codecs.admit(meeting, input);
      if (existing) {
        if (existing.socketId !== socketId) previousSocketId = existing.socketId;
        const record: ParticipantRecord = {
          ...existing,
          connection: 'connected',
          socketId,
          pushNodeId,
          disconnectedAt: undefined,
          tokens: issued(existing.tokens),
          videoCodecs,
        };
        await this.ledger.repo.putParticipant(record, existing);
        await this.ledger.repo.markReconnecting(meetingId, participantId, false);
        return { record, resumed: true };
      }
      if (claims.typ === 'session') throw new AppError('participant_not_found', 'your seat was released; join the meeting again');
      if (meeting.settings.locked && claims.role !== 'host') throw new AppError('meeting_locked', 'the meeting is locked');
      const count = (await this.ledger.repo.listParticipants(meetingId)).length;
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
        videoCodecs,
      };
      await this.ledger.repo.putParticipant(record);
      return { record, resumed: false };
    }, participantId);

    let placed: { nodeId: string; activeSpeakerId: string | null };
    try {
      placed = await this.#placeMedia(meetingId, participantId, input.rtpCapabilities, [record.mediaNodeId, primary]);
    } catch (error) {
      // Give back the seat this join took, unless another socket has retaken it meanwhile.
      if (!resumed) {
        await this.ledger.vacate(meetingId, participantId, socketId).catch((rollback: unknown) => {
          this.logger.warn({ meetingId, participantId, err: rollback }, 'could not give back the seat of a failed join; its grace period will');
        });
      }
      throw error;
    }
    if (placed.nodeId !== record.mediaNodeId) {
      await this.ledger.admit(meetingId, async (_meeting, current) => {
        if (current) await this.ledger.repo.putParticipant({ ...current, mediaNodeId: placed.nodeId }, current);
      }, participantId);
      record.mediaNodeId = placed.nodeId;
    }

    // After the seat is taken, so that the choice counts this device; announced to publishers if it changed.
    const videoCodec = await this.meetings.codecs.reconcile(meetingId);
    if (!resumed) {
      await this.events.publish(meetingId, { event: 'participantJoined', payload: { participant: publicParticipant(record) }, except: participantId });
      this.logger.info({ meetingId, participantId, mediaNodeId: placed.nodeId }, 'participant joined');
    } else {
      this.logger.info({ meetingId, participantId, mediaNodeId: placed.nodeId }, 'participant resumed its seat');
    }
    const [meeting, participants, producers, chat, presentation] = await Promise.all([
      this.meetings.get(meetingId),
      this.ledger.repo.listParticipants(meetingId),
      this.ledger.repo.listProducers(meetingId),
      this.ledger.repo.chatHistory(meetingId),
      this.ledger.repo.presentation(meetingId),
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
      videoCodec,
    };
    return { result, previousSocketId, mediaNodeId: placed.nodeId };
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
}
