/**
 * Consumer capacity benchmark: how many audio consumers one media process (one mediasoup
 * worker) serves at under 1% loss, and how many two such processes serve together.
 *
 *   node loadtest/consumer-capacity.ts
 *
 * Needs Redis on 127.0.0.1:6379 (REDIS_URL to change it, 127.0.0.1 only): the media processes
 * run in distributed mode (`--role media`, ports 3401/3402, UDP 48000-48900 and 49000-49900),
 * each with one worker, under a fresh key prefix that is deleted at the end. Plain-RTP bots
 * (loadtest/rtp-bots.ts: a sender, and a receiver per media process, as child processes)
 * publish a few Opus-sized streams per media process and receive every consumer on
 * 127.0.0.1, counting loss from RTP sequence numbers (and packets over 200 ms late).
 * Consumers go up in steps until a step loses more than 1%.
 * Prints a table per case and writes the `## Consumer capacity` section of
 * docs/performance.md. Every child process is stopped at the end, or killed by the watchdog.
 *
 * The parts are in loadtest/consumer-capacity/: config, the processes it starts (processes,
 * Bots), the media API through the typed media client (BenchMedia) and the seats the media
 * nodes check (BenchSeats), setting up a case (setup, runCase), measuring (measure) and
 * reporting (format, section).
 *
 * Options (environment): CAPACITY_STEPS (comma-separated totals), CAPACITY_HOLD_MS,
 * CAPACITY_PRODUCERS (speakers per process), CAPACITY_CASES ("1,2"), CAPACITY_NO_DOC=1
 * (print only), CAPACITY_DEBUG=1 (per-window details).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Redis } from 'ioredis';
import { CASES, DOC, LOSS_LIMIT, PREFIX, REDIS_URL, WATCHDOG_MS } from './consumer-capacity/config.ts';
import { ratioOf, table } from './consumer-capacity/format.ts';
import type { CaseResult } from './consumer-capacity/measure.ts';
import { killChildren } from './consumer-capacity/processes.ts';
import { runCase } from './consumer-capacity/runCase.ts';
import { section } from './consumer-capacity/section.ts';
import { writeSection } from './report.ts';

async function deleteKeys(prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000, retryStrategy: () => null });
  try {
    await redis.connect();
    let deleted = 0;
    let cursor = '0';
    for (let i = 0; i < 10_000; i++) {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) deleted += await redis.del(...keys);
      cursor = nextCursor;
      if (cursor === '0') break;
    }
    return deleted;
  } finally {
    redis.disconnect();
  }
}

async function main(): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(HELP);
    return 0;
  }
  if (!/^redis:\/\/127\.0\.0\.1(:\d+)?(\/|$)/.test(REDIS_URL)) throw new Error(`REDIS_URL must point at 127.0.0.1, got ${REDIS_URL}`);
  const shared = { prefix: PREFIX, secret: randomBytes(24).toString('hex') };
  const results: CaseResult[] = [];
  try {
    for (const processes of CASES) {
      console.log(`\n${processes} media process${processes > 1 ? 'es' : ''}:`);
      const result = await runCase(processes, shared);
      results.push(result);
      console.log(`\n${table(result)}\n\ncapacity: ${result.capacity} consumers (${result.stoppedBecause})`);
    }
  } finally {
    const deleted = await deleteKeys(shared.prefix).catch((error: unknown) => {
      console.error(`could not delete the Redis keys under ${shared.prefix}: ${String(error)}`);
      return 0;
    });
    console.log(`deleted ${deleted} Redis keys under ${shared.prefix}`);
  }
  const ratio = ratioOf(results);
  console.log(`\nratio 2 : 1 = ${ratio === undefined ? 'n/a' : `${ratio.toFixed(2)}×`} (goal ≥ 1.8×)`);
  if (results.some((r) => r.capacity === 0)) throw new Error('a case served no step under the loss limit');
  if (process.env.CAPACITY_NO_DOC !== '1') {
    writeSection('Consumer capacity', section(results));
    console.log(`wrote the "Consumer capacity" section of ${path.relative(process.cwd(), DOC)}`);
  }
  return 0;
}

/** Kills every child at once, then gives the Redis keys at most 2 s to go, and exits. */
function abort(code: number): void {
  killChildren();
  const exit = setTimeout(() => process.exit(code), 2000);
  void deleteKeys(PREFIX)
    .catch(() => 0)
    .finally(() => {
      clearTimeout(exit);
      process.exit(code);
    });
}

const HELP = `usage: node loadtest/consumer-capacity.ts

How many audio consumers one and two media processes serve under ${LOSS_LIMIT * 100}% loss.
Needs Redis on 127.0.0.1 (REDIS_URL). Environment: CAPACITY_STEPS, CAPACITY_HOLD_MS,
CAPACITY_PRODUCERS, CAPACITY_CASES, CAPACITY_NO_DOC=1, CAPACITY_DEBUG=1 (see the file's header).`;

const watchdog = setTimeout(() => {
  console.error(`consumer-capacity: still running after ${WATCHDOG_MS / 1000} s, giving up`);
  abort(2);
}, WATCHDOG_MS);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`consumer-capacity: ${signal}, stopping`);
    abort(130);
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    abort(1);
  },
);
