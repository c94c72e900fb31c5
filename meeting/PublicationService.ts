import { AppError } from '../common/errors.ts';
import type { ProducerInfo } from '../protocol/src/index.ts';
import type { PublishInput, Publications } from './contract.ts';
import type { MediaClient } from '../media/contract.ts';
import type { MeetingEvents } from './MeetingEvents.ts';
import type { MeetingRepository } from './MeetingRepository.ts';
import type { ParticipantRecord } from './records.ts';

/** What each participant publishes: the producers others can subscribe to. */
export class PublicationService implements Publications {
  private readonly repo: MeetingRepository;
  private readonly events: MeetingEvents;
  private readonly media: MediaClient;
  constructor(
    repo: MeetingRepository,
    events: MeetingEvents,
    media: MediaClient,
  ) {
    this.repo = repo;
    this.events = events;
    this.media = media;
  }

  async publish(
    who: ParticipantRecord,
    input: PublishInput,
  ): Promise<ProducerInfo> {
    const allowed =
      input.source === 'mic' ? who.grants.publishAudio : input.source === 'camera' ? who.grants.publishVideo : who.grants.publishScreen;
    if (!allowed) throw new AppError('forbidden', `you may not publish ${input.source}`);
    if ((input.source === 'mic' || input.source === 'screen-audio') !== (input.kind === 'audio')) {
      throw new AppError('bad_request', `source ${input.source} cannot carry ${input.kind}`);
    }
    const { producerId } = await this.media.call(this.#node(who), 'produce', { meetingId: who.meetingId, participantId: who.id, ...input });
    const producer: ProducerInfo = { id: producerId, participantId: who.id, kind: input.kind, source: input.source, paused: input.paused ?? false };
    await this.repo.putProducer(who.meetingId, producer);
    await this.events.publish(who.meetingId, { event: 'producerAdded', payload: { producer }, except: who.id });
    return producer;
  }

  async close(who: ParticipantRecord, producerId: string): Promise<void> {
    const producer = await this.#own(who, producerId);
    await this.media.call(this.#node(who), 'closeProducer', { meetingId: who.meetingId, participantId: who.id, producerId }).catch(() => undefined);
    await this.repo.removeProducer(who.meetingId, producer.id);
    await this.events.publish(who.meetingId, { event: 'producerClosed', payload: { producerId, participantId: who.id } });
  }

  /** A transport the client abandoned: its producers leave with it, announced like any close. */
  async closeTransport(who: ParticipantRecord, transportId: string): Promise<void> {
    const { producerIds } = await this.media.call(this.#node(who), 'closeTransport', { meetingId: who.meetingId, participantId: who.id, transportId });
    for (const producerId of producerIds) {
      if (!(await this.repo.removeProducer(who.meetingId, producerId))) continue;
      await this.events.publish(who.meetingId, { event: 'producerClosed', payload: { producerId, participantId: who.id } });
    }
  }

  async setPaused(who: ParticipantRecord, producerId: string, paused: boolean): Promise<void> {
    const producer = await this.#own(who, producerId);
    await this.media.call(this.#node(who), paused ? 'pauseProducer' : 'resumeProducer', { meetingId: who.meetingId, participantId: who.id, producerId });
    const updated = { ...producer, paused };
    await this.repo.putProducer(who.meetingId, updated);
    await this.events.publish(who.meetingId, { event: 'producerUpdated', payload: { producer: updated } });
  }

  async #own(who: ParticipantRecord, producerId: string): Promise<ProducerInfo> {
    const producer = await this.repo.getProducer(who.meetingId, producerId);
    if (!producer || producer.participantId !== who.id) throw new AppError('not_found', `producer ${producerId} is not yours`);
    return producer;
  }

  #node(who: ParticipantRecord): string {
    if (!who.mediaNodeId) throw new AppError('unavailable', 'you have no media node yet; join first');
    return who.mediaNodeId;
  }
}
