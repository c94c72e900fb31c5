import type { Server } from 'socket.io';
import type { EventBus, Unsubscribe } from '../common/bus/EventBus.ts';
import type { Logger } from '../common/logger.ts';
import type { MeetingEvent } from '../protocol/src/index.ts';
import { meetingChannel } from '../meeting/contract.ts';

export const meetingRoom = (meetingId: string) => `m:${meetingId}`;
export const participantRoom = (participantId: string) => `p:${participantId}`;

/**
 * Delivers meeting events to this node's sockets. A push node subscribes only to meetings it
 * has sockets in, so per-meeting traffic reaches only the nodes that need it (the Redis
 * adapter alone would send every packet to every node).
 */
export class MeetingFanout {
  readonly #subscriptions = new Map<string, { count: number; off: Promise<Unsubscribe> }>();

  private readonly io: Server;
  private readonly bus: EventBus;
  private readonly logger: Logger;
  private readonly onEvent: (meetingId: string, event: MeetingEvent) => void;
  constructor(
    io: Server,
    bus: EventBus,
    logger: Logger,
    onEvent: (meetingId: string, event: MeetingEvent) => void = () => undefined,
  ) {
    this.io = io;
    this.bus = bus;
    this.logger = logger;
    this.onEvent = onEvent;
  }

  /**
   * A failed subscribe (the bus is down) is forgotten at once, so the next join tries again;
   * everyone waiting on it gets the error, and none of them holds a count to detach.
   */
  async attach(meetingId: string): Promise<void> {
    const existing = this.#subscriptions.get(meetingId);
    if (existing) {
      existing.count++;
      await existing.off;
      return;
    }
    const off = this.bus.subscribe(meetingChannel(meetingId), (message) => this.#deliver(meetingId, message as MeetingEvent));
    const entry = { count: 1, off };
    this.#subscriptions.set(meetingId, entry);
    try {
      await off;
    } catch (error) {
      if (this.#subscriptions.get(meetingId) === entry) this.#subscriptions.delete(meetingId);
      throw error;
    }
  }

  /** Meetings this node holds sockets of (for reconciliation against the store). */
  meetings(): string[] {
    return [...this.#subscriptions.keys()];
  }

  async detach(meetingId: string): Promise<void> {
    const entry = this.#subscriptions.get(meetingId);
    if (!entry) return;
    entry.count--;
    if (entry.count > 0) return;
    this.#subscriptions.delete(meetingId);
    await (await entry.off)();
  }

  #deliver(meetingId: string, event: MeetingEvent): void {
    let target = event.to ? this.io.local.to(participantRoom(event.to)) : this.io.local.to(meetingRoom(meetingId));
    if (event.except) target = target.except(participantRoom(event.except));
    target.emit(event.event, event.payload);
    try {
      this.onEvent(meetingId, event);
    } catch (error) {
      this.logger.error({ err: error, meetingId }, 'meeting event hook failed');
    }
  }
}
