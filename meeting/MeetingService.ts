import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { AppError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { ChatMessage, Grants, MediaSource, MeetingSummary, Role } from '../protocol/src/index.ts';
import type { MediaClient } from '../media/contract.ts';
import type { CreateMeetingInput, IssuedJoinToken, JoinTokenRequest, MeetingChange, Meetings, MeetingView } from './contract.ts';
import type { MeetingEvents } from './MeetingEvents.ts';
import type { MeetingRepository } from './MeetingRepository.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import type { MeetingRecord, ParticipantRecord } from './records.ts';
import type { TokenService } from './tokens.ts';
import { VideoCodecPolicy } from './VideoCodecPolicy.ts';

export interface MeetingServiceOptions {
  publicUrl: string;
  joinTokenTtlS: number;
  chatMaxLength: number;
  /** How long an ended meeting's state is kept for late readers. */
  endedRetentionMs: number;
}

export type { CreateMeetingInput, MeetingView } from './contract.ts';

export const GRANTS: Record<Role, Grants> = {
  host: { publishAudio: true, publishVideo: true, publishScreen: true, moderate: true, present: true },
  guest: { publishAudio: true, publishVideo: true, publishScreen: true, moderate: false, present: true },
};

/** Meeting lifecycle, admission and host actions. Holds no state of its own. */
export class MeetingService implements Meetings {
  private readonly repo: MeetingRepository;
  private readonly events: MeetingEvents;
  private readonly media: MediaClient;
  private readonly tokens: TokenService;
  private readonly options: MeetingServiceOptions;
  private readonly logger: Logger;
  /** The meeting's video codec; seats consult it on joining and leaving. */
  readonly codecs: VideoCodecPolicy;
  constructor(
    repo: MeetingRepository,
    events: MeetingEvents,
    media: MediaClient,
    tokens: TokenService,
    options: MeetingServiceOptions,
    logger: Logger,
  ) {
    this.repo = repo;
    this.events = events;
    this.media = media;
    this.tokens = tokens;
    this.options = options;
    this.logger = logger;
    this.codecs = new VideoCodecPolicy(repo, events, logger);
  }

  async create(input: CreateMeetingInput): Promise<MeetingView & { hostKey: string; hostJoinUrl: string }> {
    const id = randomBytes(6).toString('base64url').replace(/[-_]/g, 'x');
    const pin = await this.#claimPin(id);
    const meeting: MeetingRecord = {
      id,
      title: input.title ?? 'Meeting',
      pin,
      passwordHash: input.password ? await hashPassword(input.password) : undefined,
      hostKey: randomBytes(18).toString('base64url'),
      settings: { maxParticipants: input.maxParticipants ?? 100, locked: input.locked ?? false, videoCodec: input.videoCodec ?? 'auto' },
      createdAt: Date.now(),
    };
    if (!(await this.repo.createMeeting(meeting))) throw new AppError('conflict', 'meeting id collision; try again');
    this.logger.info({ meetingId: id }, 'meeting created');
    const view = await this.view(meeting);
    return { ...view, hostKey: meeting.hostKey, hostJoinUrl: `${view.joinUrl}?hostKey=${encodeURIComponent(meeting.hostKey)}` };
  }

  /** Throws `meeting_not_found`, or `meeting_ended` unless `allowEnded`. */
  async get(id: string, options: { allowEnded?: boolean } = {}): Promise<MeetingRecord> {
    const meeting = await this.repo.getMeeting(id);
    if (!meeting) throw new AppError('meeting_not_found', `meeting ${id} does not exist`);
    if (meeting.endedAt !== undefined && !options.allowEnded) throw new AppError('meeting_ended', `meeting ${id} has ended`);
    return meeting;
  }

  async view(meeting: MeetingRecord): Promise<MeetingView> {
    const participants = await this.repo.listParticipants(meeting.id);
    return {
      ...summary(meeting),
      pin: meeting.pin,
      joinUrl: `${this.options.publicUrl}/m/${meeting.id}`,
      requiresPassword: meeting.passwordHash !== undefined,
      createdAt: meeting.createdAt,
      endedAt: meeting.endedAt ?? null,
      participantCount: participants.length,
    };
  }

  async update(id: string, change: MeetingChange): Promise<MeetingRecord> {
    await this.get(id);
    const updated = await this.repo.updateMeeting(id, (m) => ({
      ...m,
      title: change.title ?? m.title,
      settings: {
        locked: change.locked ?? m.settings.locked,
        maxParticipants: change.maxParticipants ?? m.settings.maxParticipants,
        videoCodec: change.videoCodec ?? m.settings.videoCodec ?? 'auto',
      },
    }));
    if (!updated) throw new AppError('meeting_not_found', `meeting ${id} does not exist`);
    await this.events.publish(id, { event: 'meetingUpdated', payload: { meeting: summary(updated) } });
    // A set codec applies at once to those publishing; seats that cannot decode it keep their
    // place (they were admitted) and receive no video until it changes back.
    if (change.videoCodec !== undefined) return { ...updated, videoCodec: await this.codecs.reconcile(id) };
    return updated;
  }

  /**
   * Admission for a would-be participant: checks the meeting is open, the password or host
   * key, and capacity, then signs a join token. The seat itself is taken on the socket.
   */
  async issueJoinToken(
    id: string,
    input: JoinTokenRequest,
  ): Promise<IssuedJoinToken> {
    const meeting = await this.get(id);
    const isHost = input.asHost === true || (input.hostKey !== undefined && input.hostKey === meeting.hostKey);
    if (input.hostKey !== undefined && !isHost) throw new AppError('forbidden', 'the host key is not valid for this meeting');
    const origin = input.clientAddress === undefined ? undefined : this.tokens.fingerprint(input.clientAddress);
    // The API key (a server acting for its user) is not bound by a ban on an address.
    if (origin !== undefined && input.asHost !== true && (await this.repo.isOriginBanned(id, origin))) {
      throw new AppError('banned', 'a host removed you from this meeting and does not let you back in');
    }
    if (!isHost) {
      if (meeting.settings.locked) throw new AppError('meeting_locked', 'the meeting is locked; ask the host to unlock it');
      if (meeting.passwordHash) {
        if (!input.password) throw new AppError('wrong_password', 'this meeting needs a password');
        if (!(await verifyPassword(input.password, meeting.passwordHash))) throw new AppError('wrong_password', 'the password is wrong');
      }
    }
    const participants = await this.repo.listParticipants(id);
    if (participants.length >= meeting.settings.maxParticipants) throw new AppError('meeting_full', 'the meeting is full');
    const role: Role = isHost ? 'host' : 'guest';
    const participantId = `p_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const grants = GRANTS[role];
    const { token, expiresAt } = await this.tokens.sign(
      { sub: participantId, mid: id, name: input.name, role, grants, typ: 'join', org: origin },
      this.options.joinTokenTtlS,
    );
    return { token, participantId, meetingId: id, role, grants, expiresAt };
  }

  async mute(meetingId: string, participantId: string, source: MediaSource | undefined, by: string | null): Promise<void> {
    await this.get(meetingId);
    const target = await this.#participant(meetingId, participantId);
    const producers = (await this.repo.listProducers(meetingId)).filter(
      (p) => p.participantId === participantId && (source === undefined ? p.kind === 'audio' : p.source === source),
    );
    for (const producer of producers) {
      if (target.mediaNodeId) {
        await this.media.call(target.mediaNodeId, 'pauseProducer', { meetingId, participantId, producerId: producer.id }).catch(() => undefined);
      }
      const paused = { ...producer, paused: true };
      await this.repo.putProducer(meetingId, paused);
      await this.events.publish(meetingId, { event: 'producerUpdated', payload: { producer: paused } });
    }
    await this.events.publish(meetingId, { event: 'moderation', payload: { action: 'mute', source: source ?? 'mic', by }, to: participantId });
  }

  async postChat(meetingId: string, from: { id: string; name: string }, text: string): Promise<ChatMessage> {
    if (text.length > this.options.chatMaxLength) {
      throw new AppError('message_too_long', `chat messages are limited to ${this.options.chatMaxLength} characters`);
    }
    const message: ChatMessage = { id: randomUUID(), participantId: from.id, name: from.name, text, at: Date.now() };
    await this.repo.appendChat(meetingId, message);
    await this.events.publish(meetingId, { event: 'chatMessage', payload: { message }, except: from.id });
    return message;
  }

  async #participant(meetingId: string, participantId: string): Promise<ParticipantRecord> {
    const participant = await this.repo.getParticipant(meetingId, participantId);
    if (!participant) throw new AppError('participant_not_found', `participant ${participantId} is not in the meeting`);
    return participant;
  }

  async #claimPin(meetingId: string): Promise<string> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const pin = String(randomInt(100_000_000, 1_000_000_000));
      if (await this.repo.claimPin(pin, meetingId)) return pin;
    }
    throw new AppError('unavailable', 'could not allocate a meeting PIN');
  }
}

export function summary(meeting: MeetingRecord): MeetingSummary {
  return {
    id: meeting.id,
    title: meeting.title,
    locked: meeting.settings.locked,
    maxParticipants: meeting.settings.maxParticipants,
    videoCodec: meeting.settings.videoCodec ?? 'auto',
  };
}
