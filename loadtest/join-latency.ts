
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createMeeting, type RunningServer, startServer } from '../test/support/server.ts';
import { type Bot, startBot } from './bot.ts';
import { machine, revision, writeSection } from './report.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DOC = path.join(ROOT, 'docs/performance.md');
// The bots load the SDK from its TypeScript sources, which the condition selects (sdk/package.json).
const COMMAND = 'node --conditions=@convene/source loadtest/join-latency.ts';
const PORT = 3300;
const SERVER_ENV = { MEDIA_PORT_BASE: '47000', MEDIA_RTC_MIN_PORT: '47010', MEDIA_RTC_MAX_PORT: '47300' };
const SINGLE_ROUNDS = 20;
const CONCURRENT_JOINS = 20;
const CONCURRENT_ROUNDS = 4;
/**
 * `POST /v1/meetings/:id/join` allows 120 calls a minute per client IP (api/routes/meetings.ts),
 * and every bot here comes from 127.0.0.1; each case gets a fresh server, and so a fresh limit.
 */
const JOINS_PER_SERVER = 120;
const RTP_TIMEOUT_MS = 20_000;
/** Nothing here should come close; if something hangs anyway, the run still ends. */
const WATCHDOG_MS = 5 * 60_000;

interface Sample {
  /** join requested → seated (HTTP join, socket, join with the receive transport) */
  seated: number;
  /** join requested → first RTP from the publisher */
  total: number;
}

interface CaseSpec {
  name: string;
  rounds: number;
  /** Bots that join at once in each round. */
  joins: number;
  /** Whether joiners publish a tone of their own. */
  publish: boolean;
}

const CASES: CaseSpec[] = [
  { name: '1 join', rounds: SINGLE_ROUNDS, joins: 1, publish: true },
  { name: `${CONCURRENT_JOINS} concurrent joins`, rounds: CONCURRENT_ROUNDS, joins: CONCURRENT_JOINS, publish: true },
  { name: `${CONCURRENT_JOINS} concurrent joins, listen-only`, rounds: CONCURRENT_ROUNDS, joins: CONCURRENT_JOINS, publish: false },
];

interface CaseResult extends CaseSpec {
  samples: Sample[];
  failures: string[];
  /** CPU the bots (this process) used, as a share of the machine, while the case ran. */
  botCpu: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Nearest-rank percentile. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

// startServer polls /healthz, so another server already on the port would be measured instead.
async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', () => reject(new Error(`port ${port} is in use; stop whatever listens there first`)));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

/** A publisher whose tone is already flowing, so the joiner's latency does not include its setup. */
async function startPublisher(baseUrl: string, meetingId: string): Promise<Bot> {
  const publisher = await startBot({ baseUrl, meetingId, name: 'publisher', toneHz: 440 });
  for (let i = 0; i < 200; i++) {
    const report = await publisher.client.transports.send?.getStats();
    for (const stats of report?.values() ?? []) if (stats.type === 'outbound-rtp' && stats.packetsSent > 0) return publisher;
    await sleep(25);
  }
  await publisher.stop();
  throw new Error('publisher never started sending');
}

async function join(baseUrl: string, meetingId: string, name: string, publish: boolean, publisherId: string, bots: Bot[]): Promise<Sample> {
  const bot = await startBot({ baseUrl, meetingId, name, publish, toneHz: 660, firstRtpTimeoutMs: RTP_TIMEOUT_MS });
  bots.push(bot);
  const firstRtp = await bot.waitForRtp(publisherId, RTP_TIMEOUT_MS);
  return { seated: bot.marks.joined! - bot.marks.joinRequested, total: firstRtp - bot.marks.joinRequested };
}

/** One meeting: a publisher, then the case's joiners at once; every bot is stopped before it returns. */
async function round(server: RunningServer, result: CaseResult): Promise<void> {
  const meeting = await createMeeting(server.url, { title: `${result.name} latency` });
  const publisher = await startPublisher(server.url, meeting.id);
  const bots: Bot[] = [];
  try {
    const outcomes = await Promise.allSettled(
      Array.from({ length: result.joins }, (_, i) => join(server.url, meeting.id, `joiner-${i + 1}`, result.publish, publisher.client.participantId, bots)),
    );
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') result.samples.push(outcome.value);
      else result.failures.push(String(outcome.reason));
    }
  } finally {
    await Promise.allSettled(bots.map((bot) => bot.stop()));
    await publisher.stop();
  }
}

/** One case on a server of its own, after an unrecorded warm-up round. */
async function runCase(spec: CaseSpec): Promise<CaseResult> {
  const joinCalls = (spec.rounds + 1) * (spec.joins + 1);
  if (joinCalls > JOINS_PER_SERVER) throw new Error(`${spec.name}: ${joinCalls} join calls would hit the join rate limit (${JOINS_PER_SERVER}/min)`);
  await assertPortFree(PORT);
  const server = await startServer({ port: PORT, env: SERVER_ENV });
  const result: CaseResult = { ...spec, samples: [], failures: [], botCpu: 0 };
  try {
    await round(server, { ...result, samples: [], failures: [] });
    const cpuStart = process.cpuUsage();
    const wallStart = performance.now();
    for (let r = 0; r < spec.rounds; r++) await round(server, result);
    const cpu = process.cpuUsage(cpuStart);
    result.botCpu = (cpu.user + cpu.system) / 1000 / (performance.now() - wallStart) / os.availableParallelism();
    return result;
  } catch (error) {
    console.error(`${spec.name}: server log tail:\n${server.logs.slice(-20).join('')}`);
    throw error;
  } finally {
    await server.stop();
  }
}


const ms = (value: number) => `${Math.round(value)}`;

function table(results: CaseResult[]): string {
  const rows = [
    '| Case | Joins measured | p50 (ms) | p95 (ms) | max (ms) | p50 join → seated (ms) | Failures | Bot CPU |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of results) {
    const totals = r.samples.map((s) => s.total);
    rows.push(
      `| ${r.name} | ${r.samples.length} | ${ms(percentile(totals, 50))} | ${ms(percentile(totals, 95))} | ${ms(Math.max(...totals))} | ${ms(percentile(r.samples.map((s) => s.seated), 50))} | ${r.failures.length} | ${Math.round(r.botCpu * 100)}% |`,
    );
  }
  return rows.join('\n');
}


function section(results: CaseResult[]): string {
  return `## Join latency

Time from a bot requesting to join (just before its HTTP \`POST /v1/meetings/:id/join\`) until
the first RTP packet from a participant who was already publishing reaches it, as seen in the
\`inbound-rtp\` stats of its receive transport (polled every 25 ms, so up to 25 ms late).

Each round is a fresh meeting: a publisher joins and its tone starts flowing, then the
joiners join. **1 join**: one joiner, ${SINGLE_ROUNDS} rounds. **${CONCURRENT_JOINS} concurrent joins**: ${CONCURRENT_JOINS} joiners at
once, ${CONCURRENT_ROUNDS} rounds. Joiners publish a tone of their own and subscribe to everyone (the SDK's
default), as people joining with the microphone on would, so a burst of ${CONCURRENT_JOINS} also makes
${CONCURRENT_JOINS * (CONCURRENT_JOINS + 1)} new consumers; the **listen-only** row repeats the burst with joiners that publish
nothing, which isolates the join path. Each case runs on a freshly started server after one
unrecorded warm-up round (the join endpoint's rate limit, 120 a minute per IP, allows no more
on one server).

The server runs embedded (\`--role all\`, no Redis, one mediasoup worker per CPU) on 127.0.0.1.
All bots run in the benchmark's own Node process on \`@roamhq/wrtc\`, on the same machine, so
they compete with the server for CPU: "Bot CPU" is what that process used, as a share of all
CPUs, while the case ran; on a small machine the concurrent rows measure the bots as much as
the server, and the publishing burst varies a good deal from run to run. "Join → seated" is
the HTTP join, socket.io connect and \`join\` (which answers the receive transport, and the
consumers of what is already published), before any media.

${table(results)}

- Machine: ${machine()}
- Date: ${new Date().toISOString()}
- Revision: ${revision()}
- Command: \`${COMMAND}\`
`;
}


async function main(): Promise<number> {
  const results: CaseResult[] = [];
  for (const spec of CASES) results.push(await runCase(spec));
  console.log(table(results));
  for (const r of results) for (const failure of r.failures) console.error(`${r.name}: ${failure}`);
  if (results.some((r) => r.samples.length === 0)) throw new Error('a case produced no samples');
  writeSection('Join latency', section(results));
  console.log(`\nwrote the "Join latency" section of ${path.relative(process.cwd(), DOC)}`);
  return results.some((r) => r.failures.length > 0) ? 1 : 0;
}

const watchdog = setTimeout(() => {
  console.error(`join-latency: still running after ${WATCHDOG_MS / 1000} s, giving up`);
  process.exit(2);
}, WATCHDOG_MS);
watchdog.unref();

// An explicit exit, even on success: @roamhq/wrtc crashes Node's teardown (SIGSEGV) in any
// process that has created an RTCAudioSource, so a natural exit would report failure.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
