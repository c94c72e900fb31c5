import type { types } from 'mediasoup';
import type { Registry } from 'prom-client';
import { detach } from '../common/detach.ts';
import type { Logger } from '../common/logger.ts';
import { counter, gauge, histogram } from '../common/metrics.ts';
import type { MixerStats } from './PhoneLegs.ts';
import type { PooledWorker, WorkerPool } from './WorkerPool.ts';

/** What the metrics read from the node. */
export interface MeteredNode {
  readonly participantCount: number;
  readonly roomCount: number;
  mixerStats(): Promise<MixerStats | null>;
}

export interface MediaMetricsOptions {
  /** How often consumers' stats and workers' CPU are sampled. */
  sampleMs?: number;
  /** The most consumers asked for stats in one round; the next round goes on where this one stopped. */
  consumersPerRound?: number;
  /** Consumers the node takes at most (placement stops sending participants past it). */
  maxConsumers?: number;
}

/**
 * The media node's metrics: per-worker load and CPU, worker deaths, piped producers, and
 * per-consumer loss, RTT and bitrate sampled from mediasoup's getStats. Sampling is bounded:
 * every `sampleMs` at most `consumersPerRound` consumers are asked, in turn, so a full node
 * costs the same as a busy one and every consumer is sampled eventually.
 */
export class MediaMetrics {
  readonly #consumers = new Set<types.Consumer>();
  readonly #pipedProducers = new Map<number, number>();
  readonly #cpu = new Map<number, { ratio: number; usedMs: number; at: number }>();
  #cursor = 0;
  #timer?: NodeJS.Timeout;
  #mixerSeen = { lateTicks: 0, droppedTicks: 0 };
  readonly #observed = new WeakSet<types.Worker>();

  readonly #loss;
  readonly #rtt;
  readonly #bitrate;
  readonly #late;

  private readonly pool: WorkerPool;
  private readonly node: MeteredNode;
  private readonly logger: Logger;
  private readonly options: Required<Omit<MediaMetricsOptions, 'maxConsumers'>>;
  constructor(pool: WorkerPool, node: MeteredNode, registry: Registry, logger: Logger, options: MediaMetricsOptions = {}) {
    this.pool = pool;
    this.node = node;
    this.logger = logger;
    this.options = { sampleMs: options.sampleMs ?? 10_000, consumersPerRound: options.consumersPerRound ?? 200 };
    const metrics = this;

    gauge(registry, {
      name: 'convene_media_workers',
      help: 'Live mediasoup workers on this media node',
      collect() {
        this.set(pool.size);
      },
    });
    for (const field of ['routers', 'transports', 'producers', 'consumers'] as const) {
      gauge(registry, {
        name: `convene_media_${field}`,
        help: `mediasoup ${field} open on this media node, by worker (index)`,
        labelNames: ['worker'] as const,
        collect() {
          this.reset();
          for (const { index, load } of pool.workers) this.set({ worker: String(index) }, load[field]);
        },
      });
    }
    gauge(registry, {
      name: 'convene_media_piped_producers',
      help: 'Producers on pipe transports of this node: media brought from another worker or another media node',
      collect() {
        let n = 0;
        for (const { index } of pool.workers) n += metrics.#pipedProducers.get(index) ?? 0;
        this.set(n);
      },
    });
    gauge(registry, {
      name: 'convene_media_worker_cpu_ratio',
      help: 'Share of one CPU core each mediasoup worker used over the last sampling interval (from worker.getResourceUsage), by worker (index)',
      labelNames: ['worker'] as const,
      collect() {
        this.reset();
        for (const { index } of pool.workers) this.set({ worker: String(index) }, metrics.#cpu.get(index)?.ratio ?? 0);
      },
    });
    gauge(registry, {
      name: 'convene_media_participants',
      help: 'Participants with media on this node (what a scale-in should move least of)',
      collect() {
        this.set(node.participantCount);
      },
    });
    const maxConsumers = options.maxConsumers;
    if (maxConsumers !== undefined) {
      gauge(registry, {
        name: 'convene_media_consumer_capacity',
        help: 'Consumers this node takes at most (MEDIA_WORKERS x MEDIA_MAX_CONSUMERS_PER_WORKER); compare with the sum of convene_media_consumers',
        collect() {
          this.set(maxConsumers);
        },
      });
    }
    gauge(registry, {
      name: 'convene_media_rooms',
      help: 'Meetings with media on this node',
      collect() {
        this.set(node.roomCount);
      },
    });
    const deaths = counter(registry, {
      name: 'convene_media_worker_deaths_total',
      help: 'mediasoup workers that died on this node (each is replaced in its slot)',
    });
    deaths.inc(0);
    pool.on('workerDied', () => deaths.inc());
    this.#loss = histogram(registry, {
      name: 'convene_media_consumer_packet_loss_ratio',
      help: "Fraction of packets lost towards the receiver, per consumer sample (RTCP receiver reports' fraction lost)",
      labelNames: ['kind'] as const,
      buckets: [0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1],
    });
    this.#rtt = histogram(registry, {
      name: 'convene_media_consumer_rtt_seconds',
      help: 'Round-trip time to the receiver, per consumer sample (only consumers whose receiver sends RTCP)',
      labelNames: ['kind'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2],
    });
    this.#bitrate = histogram(registry, {
      name: 'convene_media_consumer_bitrate_bps',
      help: 'Bitrate sent to the receiver, per consumer sample, in bits per second',
      labelNames: ['kind'] as const,
      buckets: [8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 512_000, 1_000_000, 2_000_000, 4_000_000],
    });
    this.#late = counter(registry, {
      name: 'convene_mixer_ticks_late_total',
      help: "Audio mixer ticks that ran more than one frame late (the mixer thread was starved); outcome=dropped counts frames skipped to catch up",
      labelNames: ['outcome'] as const,
    });
    this.#late.inc({ outcome: 'late' }, 0);
    this.#late.inc({ outcome: 'dropped' }, 0);

    for (const pooled of pool.workers) this.#observe(pooled);
    pool.on('workerStarted', (pooled) => this.#observe(pooled));
  }

  start(): void {
    this.#timer = setInterval(() => detach(this.logger, 'sampling media stats', this.sample()), this.options.sampleMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** One round: workers' CPU, the next consumers' stats, the mixer's counters. Exposed for tests. */
  async sample(): Promise<void> {
    await Promise.all([this.#sampleCpu(), this.#sampleConsumers(), this.#sampleMixer()]);
  }

  #observe({ index, worker }: PooledWorker): void {
    if (this.#observed.has(worker)) return;
    this.#observed.add(worker);
    this.#pipedProducers.set(index, 0);
    this.#cpu.delete(index);
    worker.observer.on('newrouter', (router) => {
      router.observer.on('newtransport', (transport) => {
        transport.observer.on('newproducer', (producer) => {
          if (transport.type !== 'pipe') return;
          this.#pipedProducers.set(index, (this.#pipedProducers.get(index) ?? 0) + 1);
          producer.observer.once('close', () => this.#pipedProducers.set(index, (this.#pipedProducers.get(index) ?? 1) - 1));
        });
        // Pipe consumers carry media to another router, not to a person: not sampled.
        if (transport.type === 'pipe') return;
        transport.observer.on('newconsumer', (consumer) => {
          this.#consumers.add(consumer);
          consumer.observer.once('close', () => this.#consumers.delete(consumer));
        });
      });
    });
  }

  async #sampleCpu(): Promise<void> {
    await Promise.all(
      this.pool.workers.map(async ({ index, worker }) => {
        const usage = await worker.getResourceUsage().catch(() => undefined);
        if (!usage) return;
        const usedMs = usage.ru_utime + usage.ru_stime;
        const now = Date.now();
        const last = this.#cpu.get(index);
        const ratio = last && now > last.at ? Math.max(0, usedMs - last.usedMs) / (now - last.at) : 0;
        this.#cpu.set(index, { ratio: Math.round(ratio * 1000) / 1000, usedMs, at: now });
      }),
    );
  }

  async #sampleConsumers(): Promise<void> {
    const all = [...this.#consumers];
    if (all.length === 0) return;
    const count = Math.min(all.length, this.options.consumersPerRound);
    const start = this.#cursor % all.length;
    this.#cursor = start + count;
    const round = Array.from({ length: count }, (_, i) => all[(start + i) % all.length]!);
    await Promise.all(
      round.map(async (consumer) => {
        if (consumer.closed || consumer.paused || consumer.producerPaused) return;
        const stats = await consumer.getStats().catch(() => []);
        for (const stream of stats) {
          if (stream.type !== 'outbound-rtp') continue;
          const labels = { kind: consumer.kind };
          this.#loss.observe(labels, stream.fractionLost / 256);
          this.#bitrate.observe(labels, stream.bitrate);
          if (stream.roundTripTime) this.#rtt.observe(labels, stream.roundTripTime / 1000);
        }
      }),
    );
  }

  async #sampleMixer(): Promise<void> {
    const stats = await Promise.race([this.node.mixerStats(), new Promise<null>((resolve) => setTimeout(() => resolve(null), 1000).unref())]);
    if (!stats) return;
    // The thread's counters start again at zero when it is restarted.
    const late = stats.lateTicks >= this.#mixerSeen.lateTicks ? stats.lateTicks - this.#mixerSeen.lateTicks : stats.lateTicks;
    const dropped = stats.droppedTicks >= this.#mixerSeen.droppedTicks ? stats.droppedTicks - this.#mixerSeen.droppedTicks : stats.droppedTicks;
    this.#late.inc({ outcome: 'late' }, late);
    this.#late.inc({ outcome: 'dropped' }, dropped);
    this.#mixerSeen = { lateTicks: stats.lateTicks, droppedTicks: stats.droppedTicks };
  }
}
