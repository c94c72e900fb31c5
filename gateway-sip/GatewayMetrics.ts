import type { Registry } from 'prom-client';
import { counter, gauge } from '../common/metrics.ts';

/** What the transaction layer reports: the final answer to each INVITE, ours or theirs. */
export interface InviteObserver {
  inviteAnswered(direction: 'in' | 'out', status: number): void;
}

/**
 * The gateway's metrics: calls by direction and outcome (the SIP status of the INVITE's final
 * answer: 200 answered, 404 no such meeting, 486 busy, 408 no answer...) and legs open now
 * (ringing, in the IVR or in a meeting).
 */
export class GatewayMetrics implements InviteObserver {
  readonly #calls;

  constructor(registry: Registry, activeLegs: () => number) {
    gauge(registry, {
      name: 'convene_sip_active_legs',
      help: 'Telephone legs open on this gateway: ringing, in the PIN prompt or in a meeting',
      collect() {
        this.set(activeLegs());
      },
    });
    this.#calls = counter(registry, {
      name: 'convene_sip_calls_total',
      help: 'Calls by direction (in: dial-in, out: dial-out) and outcome, the SIP status code of the final answer to the INVITE',
      labelNames: ['direction', 'outcome'] as const,
    });
    this.#calls.inc({ direction: 'in', outcome: '200' }, 0);
  }

  inviteAnswered(direction: 'in' | 'out', status: number): void {
    this.#calls.inc({ direction, outcome: String(status) });
  }
}
