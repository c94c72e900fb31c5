import type { types } from 'mediasoup';
import { AppError } from '../common/errors.ts';
import type { MediaAppData, ParticipantLimits } from './roomTypes.ts';
import type { RouterSlot } from './RouterSlot.ts';

/** One participant's mediasoup objects on this node, and the per-participant rules on them. */
export class ParticipantMedia {
  readonly transports = new Map<string, types.Transport<MediaAppData>>();
  readonly producers = new Map<string, types.Producer<MediaAppData>>();
  readonly consumers = new Map<string, types.Consumer<MediaAppData>>();
  rtpCapabilities?: types.RtpCapabilities;
  /** Objects being created: counted against the limits so that concurrent requests cannot overshoot them. */
  readonly #creating: Record<keyof ParticipantLimits, number> = { transports: 0, producers: 0, consumers: 0 };
  /** Consumes in flight, per producer: a second waits for the first, so the rule of `consumeOnce` holds for concurrent requests. */
  readonly #consuming = new Map<string, Promise<unknown>>();

  readonly participantId: string;
  readonly slot: RouterSlot;
  constructor(participantId: string, slot: RouterSlot) {
    this.participantId = participantId;
    this.slot = slot;
  }

  transport(id: string): types.Transport<MediaAppData> {
    const transport = this.transports.get(id);
    if (!transport) throw new AppError('not_found', `transport ${id} is not yours or no longer exists`);
    return transport;
  }

  producer(id: string): types.Producer<MediaAppData> {
    const producer = this.producers.get(id);
    if (!producer) throw new AppError('not_found', `producer ${id} is not yours or no longer exists`);
    return producer;
  }

  consumer(id: string): types.Consumer<MediaAppData> {
    const consumer = this.consumers.get(id);
    if (!consumer) throw new AppError('not_found', `consumer ${id} is not yours or no longer exists`);
    return consumer;
  }

  /**
   * Creates one more object of a kind unless the participant already holds `max`; `create`
   * must add it to its map before resolving.
   */
  async withinLimit<T>(kind: keyof ParticipantLimits, max: number, create: () => Promise<T>): Promise<T> {
    if (this[kind].size + this.#creating[kind] >= max) {
      throw new AppError('limit_reached', `a participant may hold at most ${max} ${kind} on a media node`, { limit: kind, max });
    }
    this.#creating[kind]++;
    try {
      return await create();
    } finally {
      this.#creating[kind]--;
    }
  }

  /**
   * One consumer per producer. A consume of a producer already consumed on the same transport
   * answers the consumer it has: the client may have lost the first answer in a network drop
   * and asks again, and must get what the node holds rather than an error. A consumer on
   * another transport (the client rebuilt its receive transport) is replaced, so the count
   * stays one. `create` must add the consumer to `consumers` before resolving.
   */
  async consumeOnce(
    producerId: string,
    transport: types.Transport<MediaAppData>,
    create: () => Promise<types.Consumer<MediaAppData>>,
  ): Promise<types.Consumer<MediaAppData>> {
    for (let pending = this.#consuming.get(producerId); pending; pending = this.#consuming.get(producerId)) {
      await pending.catch(() => undefined);
    }
    for (const consumer of this.consumers.values()) {
      if (consumer.producerId !== producerId || consumer.closed) continue;
      if (consumer.appData.transportId === transport.id) return consumer;
      consumer.close();
    }
    const work = create();
    this.#consuming.set(producerId, work);
    try {
      return await work;
    } finally {
      this.#consuming.delete(producerId);
    }
  }

  /** The given transport if it can receive, else the participant's WebRTC recv transport. */
  receivingTransport(id?: string): types.Transport<MediaAppData> {
    if (id !== undefined) {
      const transport = this.transport(id);
      if (transport.appData.direction === 'send') throw new AppError('bad_request', 'cannot consume on a send transport');
      return transport;
    }
    for (const transport of this.transports.values()) if (transport.appData.direction === 'recv' && !transport.closed) return transport;
    throw new AppError('bad_request', 'create a recv transport before consuming');
  }

  close(): void {
    for (const transport of this.transports.values()) transport.close();
    this.transports.clear();
    this.producers.clear();
    this.consumers.clear();
  }
}
