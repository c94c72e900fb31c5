import type { EventBus } from '../common/bus/EventBus.ts';
import type { MeetingEvent } from '../protocol/src/index.ts';
import { meetingChannel, type MeetingEventSink } from './contract.ts';

export { meetingChannel } from './contract.ts';

/** Publishes client-facing events; push nodes with sockets in the meeting deliver them. */
export class MeetingEvents implements MeetingEventSink {
  private readonly bus: EventBus;
  constructor(bus: EventBus) {
    this.bus = bus;
  }

  publish(meetingId: string, event: MeetingEvent): Promise<void> {
    return this.bus.publish(meetingChannel(meetingId), event);
  }
}
