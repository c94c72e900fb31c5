/**
 * The `signalling` profile: artillery's API and socket.io scenarios at rising arrival rates, on
 * the target the environment names, with requests/s and latency percentiles per step written to
 * docs/performance.md beside a chart (latency against load).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Summary } from './artillery/artillery.ts';
import { runLoad } from './artillery/load.ts';
import { endpointSummaries, summarize } from './artillery/summary.ts';
import { lines, writeChart } from './chart.ts';
import { machine, revision, writeSection } from './report.ts';
import { startTarget } from './target.ts';

const STEP_SECONDS = 20;
/** New users per second at each step, for the API scenario and the signalling one alike. */
const RATES = (process.env.LOADTEST_RATES ?? '10,20,40,80,160').split(',').map(Number);
const CHATS = 5;
const MEETING_SIZE = 10;

interface Step {
  rate: number;
  apiRps: number;
  emitsPerS: number;
  join?: Summary;
  api?: Summary;
  socket?: Summary;
  problems: string[];
  /** Virtual users that did not finish (a refused ack, an HTTP error, a timeout), all scenarios. */
  failedUsers: number;
}

export async function profile(dir: string): Promise<string[]> {
  const target = await startTarget({ portBase: Number(process.env.LOADTEST_PORT_BASE ?? 35000) });
  const steps: Step[] = [];
  try {
    for (const rate of RATES) {
      const stepDir = path.join(dir, `rate-${rate}`);
      mkdirSync(stepDir, { recursive: true });
      const result = await runLoad(target, { api: [{ duration: STEP_SECONDS, arrivalRate: rate }], signalling: [{ duration: STEP_SECONDS, arrivalRate: rate }], chats: CHATS, chatEvery: 1, meetingSize: MEETING_SIZE }, stepDir);
      console.log(`${rate} users/s:\n${summarize(result)}`);
      const api = result.api.aggregate;
      const emits = result.signalling.reduce((sum, r) => sum + (r.aggregate.counters['socketio.emit'] ?? 0), 0);
      // Every push node's report has its own percentiles; the busiest one stands for the step.
      const socket = result.signalling.map((r) => r.aggregate.summaries['socketio.response_time']).filter((s): s is Summary => s !== undefined).sort((a, b) => b.p95 - a.p95)[0];
      const seconds = (period: { firstMetricAt?: number; lastMetricAt?: number }) => Math.max(1, ((period.lastMetricAt ?? 0) - (period.firstMetricAt ?? 0)) / 1000);
      steps.push({
        rate,
        apiRps: (api.counters['http.requests'] ?? 0) / seconds(api),
        emitsPerS: emits / Math.max(...result.signalling.map((r) => seconds(r.aggregate))),
        join: endpointSummaries(api)['join'],
        api: api.summaries['http.response_time'],
        socket,
        problems: result.problems,
        failedUsers: [result.api, ...result.signalling].reduce((sum, r) => sum + (r.aggregate.counters['vusers.failed'] ?? 0), 0),
      });
    }
  } finally {
    await target.stop();
  }
  await document(target.kind, target.pushUrls.length, steps);
  return steps.flatMap((s) => s.problems.map((p) => `${s.rate} users/s: ${p}`));
}

const f = (s: Summary | undefined) => (s ? `${s.p50} / ${s.p95} / ${s.p99}` : '–');

async function document(kind: string, pushes: number, steps: Step[]): Promise<void> {
  const label = kind === 'cluster' ? `${pushes} push processes on Redis` : kind;
  const slug = kind === 'cluster' ? 'cluster' : 'embedded';
  const rows = steps.flatMap((s) => [
    { rate: s.rate, series: 'join (HTTP) p50', ms: s.join?.p50 },
    { rate: s.rate, series: 'join (HTTP) p95', ms: s.join?.p95 },
    { rate: s.rate, series: 'join (HTTP) p99', ms: s.join?.p99 },
    { rate: s.rate, series: 'socket.io ack p50', ms: s.socket?.p50 },
    { rate: s.rate, series: 'socket.io ack p95', ms: s.socket?.p95 },
    { rate: s.rate, series: 'socket.io ack p99', ms: s.socket?.p99 },
  ]);
  const chart = await writeChart(`artillery-${slug}`, `Latency against load (${label})`, lines(rows, { x: 'rate', y: 'ms', series: 'series', xTitle: 'new users per second (each scenario)', yTitle: 'ms' }));
  const table = [
    '| new users/s | API requests/s | join p50 / p95 / p99 (ms) | all API p50 / p95 / p99 (ms) | socket.io messages/s | socket.io ack p50 / p95 / p99 (ms) | users failed |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...steps.map((s) => `| ${s.rate} | ${s.apiRps.toFixed(0)} | ${f(s.join)} | ${f(s.api)} | ${s.emitsPerS.toFixed(0)} | ${f(s.socket)} | ${s.failedUsers} |`),
  ];
  writeSection(
    `Artillery: API and signalling (${label})`,
    `## Artillery: API and signalling (${label})

Command: \`${kind === 'cluster' ? 'CONVENE_TARGET=cluster ' : ''}npm run loadtest -- signalling\` (${new Date().toISOString().slice(0, 10)}, revision ${revision()}; ${machine()}).
Artillery runs both scenarios of \`loadtest/artillery/\` side by side for ${STEP_SECONDS} s at each arrival rate: **API** users
create a meeting, take a join token and list its participants and files (4 requests each);
**signalling** users connect socket.io with a join token fetched beforehand, \`join\` without
media, send ${CHATS} chat messages a second apart into meetings of ${MEETING_SIZE}, and \`leave\` (7 acknowledged
messages each). The target ran on the same machine as artillery, so they share its 2 cores.
*Users failed* counts virtual users that did not finish: an ack with \`ok: false\`, an HTTP error or
a timeout (the profile fails on any; artillery's report names the check, not the server's code).${kind === 'cluster' ? `\nEach push process gets half of the signalling users from an artillery process of its own; the\nslower of the two is shown.` : ''}

${table.join('\n')}

${chart}
`,
  );
}
