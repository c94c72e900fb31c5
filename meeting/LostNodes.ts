import type { Logger } from '../common/logger.ts';
import type { MeetingEvents } from './MeetingEvents.ts';
import type { SeatLedger } from './SeatLedger.ts';

/** Moves seats off nodes that are gone (found by the NodeWatcher); the seats themselves stay. */
export class LostNodes {
  private readonly ledger: SeatLedger;
  private readonly events: MeetingEvents;
  private readonly logger: Logger;
  constructor(ledger: SeatLedger, events: MeetingEvents, logger: Logger) {
    this.ledger = ledger;
    this.events = events;
    this.logger = logger;
  }

  /**
   * A media node is gone. Its participants keep their seats; their old producers are closed
   * for everyone, and each is told to rebuild its media (it lands on another node on rejoin).
   */
  async mediaNodeLost(nodeId: string): Promise<number> {
    const repo = this.ledger.repo;
    let moved = 0;
    for (const { meetingId, participantId } of await repo.participantsOnNode('media', nodeId)) {
      const record = await this.ledger
        .admit(
          meetingId,
          async (_meeting, current) => {
            if (current?.mediaNodeId !== nodeId) return null;
            await repo.putParticipant({ ...current, mediaNodeId: undefined }, current);
            return current;
          },
          participantId,
          { allowEnded: true },
        )
        .catch(() => null);
      if (!record) continue;
      await this.ledger.closeProducersOf(record);
      await this.events.publish(meetingId, { event: 'mediaReset', payload: { reason: 'node_lost' }, to: participantId });
      moved++;
    }
    await repo.forgetNode('media', nodeId);
    if (moved > 0) this.logger.warn({ mediaNodeId: nodeId, moved }, 'media node lost; its participants were moved');
    return moved;
  }

  /** A push node is gone: its participants' seats start their grace period. */
  async pushNodeLost(nodeId: string): Promise<number> {
    const repo = this.ledger.repo;
    let held = 0;
    for (const { meetingId, participantId } of await repo.participantsOnNode('push', nodeId)) {
      const changed = await this.ledger
        .admit(
          meetingId,
          async (_meeting, current) => {
            if (current?.pushNodeId !== nodeId || current.connection !== 'connected') return false;
            await repo.putParticipant({ ...current, connection: 'reconnecting', disconnectedAt: Date.now(), pushNodeId: undefined }, current);
            await repo.markReconnecting(meetingId, participantId, true);
            return true;
          },
          participantId,
          { allowEnded: true },
        )
        .catch(() => false);
      if (changed) held++;
    }
    await repo.forgetNode('push', nodeId);
    if (held > 0) this.logger.warn({ pushNodeId: nodeId, held }, "push node lost; holding its participants' seats");
    return held;
  }
}
