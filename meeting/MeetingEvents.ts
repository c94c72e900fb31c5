import type { EventBus } from '../common/bus/EventBus.js';
import type { MeetingEvent } from '../common/protocol.js';

export const meetingChannel = (meetingId: string) => `meeting:${meetingId}`;

/** Publishes client-facing events; push nodes with sockets in the meeting deliver them. */
export class MeetingEvents {
  constructor(private readonly bus: EventBus) {}

  publish(meetingId: string, event: MeetingEvent): Promise<void> {
    return this.bus.publish(meetingChannel(meetingId), event);
  }
}
