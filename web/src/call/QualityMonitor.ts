import { signal } from '@preact/signals';
import type { ConveneClient } from '../session.ts';
import { grade, type InboundCounters, type Quality, worst } from './quality.ts';

/** Each remote person's connection quality, graded from inbound RTP stats every few seconds. */
export class QualityMonitor {
  readonly byParticipant = signal<ReadonlyMap<string, Quality>>(new Map());
  readonly #client: ConveneClient;
  readonly #last = new Map<string, InboundCounters>();
  readonly #timer: ReturnType<typeof setInterval>;
  #busy = false;

  constructor(client: ConveneClient, everyMs = 3000) {
    this.#client = client;
    this.#timer = setInterval(() => {
      if (this.#busy) return;
      this.#busy = true;
      this.#poll()
        .catch(() => undefined) // stats of a consumer closing meanwhile: next round
        .finally(() => {
          this.#busy = false;
        });
    }, everyMs);
  }

  async #poll(): Promise<void> {
    const grades = new Map<string, Quality>();
    const seen = new Set<string>();
    for (const remote of this.#client.remoteTracks.values()) {
      if (remote.consumer.closed) continue;
      seen.add(remote.consumerId);
      const report = await remote.consumer.getStats();
      const now: InboundCounters = { packetsReceived: 0, packetsLost: 0, jitter: 0 };
      report.forEach((s: Record<string, unknown>) => {
        if (s.type !== 'inbound-rtp') return;
        now.packetsReceived += Number(s.packetsReceived ?? 0);
        now.packetsLost += Number(s.packetsLost ?? 0);
        now.jitter = Math.max(now.jitter, Number(s.jitter ?? 0));
      });
      const before = this.#last.get(remote.consumerId);
      this.#last.set(remote.consumerId, now);
      if (before) {
        const q = worst(grades.get(remote.participantId), grade(before, now));
        if (q) grades.set(remote.participantId, q);
      }
    }
    for (const id of this.#last.keys()) if (!seen.has(id)) this.#last.delete(id);
    this.byParticipant.value = grades;
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
