import type { Registry } from 'prom-client';
import { BackgroundLoop } from '../common/BackgroundLoop.ts';
import type { Logger } from '../common/logger.ts';
import type { SeatedReader } from '../meeting/contract.ts';
import type { MediaNode } from './MediaNode.ts';

/**
 * Checks what this media node holds against the store, the source of truth for meetings and
 * seats. A room whose meeting is gone (Redis came back empty, or the record expired) is closed;
 * a participant whose seat is gone has its media closed. Nothing is done on a failed read: an
 * unreachable store says nothing about what exists. A seat must be missing on two runs in a
 * row, since a joining participant is registered here just before its seat is written.
 */
export class MediaReconciler {
  readonly #loop: BackgroundLoop;
  #suspects = new Set<string>();

  private readonly node: MediaNode;
  private readonly repo: SeatedReader;
  private readonly logger: Logger;
  constructor(node: MediaNode, repo: SeatedReader, logger: Logger, options: { intervalMs?: number; metrics?: Registry } = {}) {
    this.node = node;
    this.repo = repo;
    this.logger = logger;
    this.#loop = new BackgroundLoop({ name: 'media-reconcile', intervalMs: options.intervalMs ?? 3000, logger, metrics: options.metrics }, () => this.reconcile());
  }

  start(): void {
    this.#loop.start();
  }

  /** Checks now (the store is back); never rejects. */
  runNow(): Promise<void> {
    return this.#loop.runNow();
  }

  stop(): void {
    this.#loop.stop();
  }

  async reconcile(): Promise<void> {
    const suspects = new Set<string>();
    for (const { meetingId, participantIds } of this.node.holdings()) {
      if ((await this.repo.getMeeting(meetingId)) === null) {
        this.logger.warn({ meetingId, participants: participantIds.length }, 'meeting is gone from the store; closing its media here');
        await this.node.closeMeeting({ meetingId });
        continue;
      }
      const seated = await this.repo.seatedIds(meetingId);
      for (const participantId of participantIds) {
        if (seated.has(participantId)) continue;
        const key = `${meetingId}/${participantId}`;
        if (!this.#suspects.has(key)) {
          suspects.add(key);
          continue;
        }
        this.logger.warn({ meetingId, participantId }, 'seat is gone from the store; closing its media here');
        await this.node.closeParticipant({ meetingId, participantId });
      }
    }
    this.#suspects = suspects;
  }
}
