import type { Registry } from 'prom-client';
import { joinOutcomes } from '../common/joinOutcomes.ts';
import { gauge, histogram, WAIT_BUCKETS } from '../common/metrics.ts';
import type { ClientSocket } from './SocketSession.ts';

/** Messages after which the server knows media flows for the participant. */
const MEDIA_MESSAGES = new Set(['produce', 'consume']);

/**
 * The push node's metrics: sockets, participants by kind on this node, join outcomes, and how
 * long joining took, from the join token's issue (the HTTP join) to the seat, and to the first
 * media the server sees (the participant's first producer or consumer). Reconnects with a
 * session token are outcomes but not latencies: they did not start at an HTTP join.
 */
export class PushMetrics {
  readonly #joins;
  readonly #seated;
  readonly #firstMedia;
  readonly #withMedia = new WeakSet<ClientSocket>();

  constructor(registry: Registry, read: { sockets: () => number; participantsByKind: () => Map<string, number> }) {
    gauge(registry, {
      name: 'convene_push_sockets',
      help: 'socket.io connections open on this push node',
      collect() {
        this.set(read.sockets());
      },
    });
    gauge(registry, {
      name: 'convene_push_participants',
      help: 'Participants seated through a socket of this push node, by kind (browser, bot)',
      labelNames: ['kind'] as const,
      collect() {
        this.reset();
        for (const kind of ['browser', 'bot']) this.set({ kind }, 0);
        for (const [kind, n] of read.participantsByKind()) this.set({ kind }, n);
      },
    });
    this.#joins = joinOutcomes(registry);
    this.#joins.inc({ stage: 'seat', code: 'ok' }, 0);
    this.#seated = histogram(registry, {
      name: 'convene_join_seated_seconds',
      help: 'From the HTTP join (join token issued) to the seat taken on a socket',
      buckets: WAIT_BUCKETS,
    });
    this.#firstMedia = histogram(registry, {
      name: 'convene_join_first_media_seconds',
      help: "From the HTTP join (join token issued) to the participant's first producer or consumer on a media node",
      buckets: WAIT_BUCKETS,
    });
  }

  /** The outcome of a message on `socket`: `code` is 'ok' (with the answer) or the error code answered. */
  outcome(socket: ClientSocket, event: string, code: string, answer?: unknown): void {
    if (event === 'join') {
      this.#joins.inc({ stage: 'seat', code });
      const issued = socket.data.claims.ims;
      if (code === 'ok' && issued !== undefined) this.#seated.observe(Math.max(0, Date.now() - issued) / 1000);
      // A join that brought its consumers (`consume: true`) is the participant's first media.
      const consumers = (answer as { consumers?: unknown[] } | undefined)?.consumers;
      if (code === 'ok' && consumers !== undefined && consumers.length > 0) this.#firstMediaOf(socket);
      return;
    }
    if (code === 'ok' && MEDIA_MESSAGES.has(event)) this.#firstMediaOf(socket);
  }

  #firstMediaOf(socket: ClientSocket): void {
    if (this.#withMedia.has(socket)) return;
    this.#withMedia.add(socket);
    const issued = socket.data.claims.ims;
    if (issued !== undefined) this.#firstMedia.observe(Math.max(0, Date.now() - issued) / 1000);
  }
}
