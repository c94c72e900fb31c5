/**
 * The `media` profile: meetings of one shape (MEDIA_SHAPE, publishers+listeners, default 5+5) of
 * @roamhq/wrtc bots (loadtest/bot.ts: audio, a tone per publisher) are added one at a time to a
 * deployment with one media process (one mediasoup worker), until a step loses more than 1%,
 * its bots freeze, or MEDIA_MAX_MEETINGS is reached. Each bot's receive side is read from its
 * transport's inbound-rtp stats every second: loss, jitter and freezes (a second in which a
 * stream that had been flowing received nothing). So an operator can read off how many meetings
 * of this shape one media node carries, and what CPU each costs it.
 */
import { createMeeting } from '../test/support/server.ts';
import { type Bot, startBot } from './bot.ts';
import { lines, stacked, writeChart } from './chart.ts';
import { machine, revision, writeSection } from './report.ts';
import { childPids, type ProcessSample, sampleProcess } from './sample.ts';
import { startTarget } from './target.ts';

const [PUBLISHERS, LISTENERS] = (process.env.MEDIA_SHAPE ?? '5+5').split('+').map(Number) as [number, number];
const MAX_MEETINGS = Number(process.env.MEDIA_MAX_MEETINGS ?? 4);
const SETTLE_MS = 5000;
const HOLD_MS = Number(process.env.MEDIA_HOLD_MS ?? 20_000);
const LOSS_LIMIT = 0.01;

interface StreamState {
  received: number;
  lost: number;
  flowing: boolean;
}

/** One bot's receive side, accumulated over a measuring window. */
class ReceiveStats {
  readonly #streams = new Map<number, StreamState>();
  received = 0;
  lost = 0;
  freezes = 0;
  readonly jitters: number[] = [];
  readonly #bot: Bot;

  constructor(bot: Bot) {
    this.#bot = bot;
  }

  async poll(count: boolean): Promise<void> {
    const transport = this.#bot.client.transports.recv;
    if (!transport || transport.closed) return;
    const report = await transport.getStats().catch(() => undefined);
    for (const stats of report?.values() ?? []) {
      if (stats.type !== 'inbound-rtp') continue;
      const previous = this.#streams.get(stats.ssrc);
      const received = Number(stats.packetsReceived ?? 0);
      const lost = Math.max(0, Number(stats.packetsLost ?? 0));
      if (previous && count) {
        this.received += received - previous.received;
        this.lost += Math.max(0, lost - previous.lost);
        if (previous.flowing && received === previous.received) this.freezes++;
        if (typeof stats.jitter === 'number') this.jitters.push(stats.jitter * 1000);
      }
      this.#streams.set(stats.ssrc, { received, lost, flowing: received > 0 });
    }
  }

  reset(): void {
    this.received = 0;
    this.lost = 0;
    this.freezes = 0;
    this.jitters.length = 0;
  }
}

interface Step {
  meetings: number;
  bots: number;
  consumers: number;
  lossPct: number;
  worstBotLossPct: number;
  jitterMs: number;
  freezes: number;
  /** The mediasoup worker process. */
  mediaCpu: number;
  botCpu: number;
  /** The Node server beside the worker (signalling, state). */
  serverCpu: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cpu = (a: ProcessSample, b: ProcessSample) => (b.cpuSeconds - a.cpuSeconds) / ((b.at - a.at) / 1000);

export async function profile(_dir: string): Promise<string[]> {
  // One process with one mediasoup worker: the worker is the media node whose capacity is asked.
  process.env.CONVENE_TARGET = 'embedded';
  delete process.env.CONVENE_URL;
  const target = await startTarget({ portBase: Number(process.env.LOADTEST_PORT_BASE ?? 35000) + 200, env: { MEDIA_WORKERS: '1' } });
  const bots: Array<{ bot: Bot; stats: ReceiveStats }> = [];
  const steps: Step[] = [];
  const problems: string[] = [];
  try {
    const serverPid = target.processes[0]!.pid!;
    const [workerPid] = await childPids(serverPid);
    if (workerPid === undefined) throw new Error('no mediasoup worker under the server process');
    for (let meetings = 1; meetings <= MAX_MEETINGS; meetings++) {
      const meeting = await createMeeting(target.apiUrl, { title: `media bots ${meetings}` });
      for (let i = 0; i < PUBLISHERS + LISTENERS; i++) {
        const publish = i < PUBLISHERS;
        try {
          const bot = await startBot({ baseUrl: target.apiUrl, meetingId: meeting.id, name: `${publish ? 'P' : 'L'}${meetings}.${i}`, publish, toneHz: 300 + 40 * i });
          bots.push({ bot, stats: new ReceiveStats(bot) });
        } catch (error) {
          problems.push(`meeting ${meetings}, bot ${i}: ${String(error)}`);
        }
      }
      await sleep(SETTLE_MS);
      for (const b of bots) await b.stats.poll(false);
      for (const b of bots) b.stats.reset();
      const before = await Promise.all([workerPid, process.pid, serverPid].map((pid) => sampleProcess(pid)));
      for (let t = 0; t < HOLD_MS; t += 1000) {
        await sleep(1000);
        await Promise.all(bots.map((b) => b.stats.poll(true)));
      }
      const after = await Promise.all([workerPid, process.pid, serverPid].map((pid) => sampleProcess(pid)));
      const received = bots.reduce((s, b) => s + b.stats.received, 0);
      const lost = bots.reduce((s, b) => s + b.stats.lost, 0);
      const jitters = bots.flatMap((b) => b.stats.jitters);
      const step: Step = {
        meetings,
        bots: bots.length,
        consumers: meetings * (PUBLISHERS * (PUBLISHERS - 1) + LISTENERS * PUBLISHERS),
        lossPct: (100 * lost) / Math.max(1, received + lost),
        worstBotLossPct: Math.max(0, ...bots.map((b) => (100 * b.stats.lost) / Math.max(1, b.stats.received + b.stats.lost))),
        jitterMs: jitters.reduce((a, b) => a + b, 0) / Math.max(1, jitters.length),
        freezes: bots.reduce((s, b) => s + b.stats.freezes, 0),
        mediaCpu: cpu(before[0]!, after[0]!),
        botCpu: cpu(before[1]!, after[1]!),
        serverCpu: cpu(before[2]!, after[2]!),
      };
      console.log(
        `${meetings} meeting(s), ${step.bots} bots, ${step.consumers} consumers: loss ${step.lossPct.toFixed(2)}% (worst bot ${step.worstBotLossPct.toFixed(2)}%), jitter ${step.jitterMs.toFixed(1)} ms, ${step.freezes} freezes, worker CPU ${step.mediaCpu.toFixed(2)}, server CPU ${step.serverCpu.toFixed(2)}, bots CPU ${step.botCpu.toFixed(2)}`,
      );
      steps.push(step);
      if (step.lossPct / 100 > LOSS_LIMIT || step.freezes > 0) break;
    }
  } finally {
    for (const b of bots) await b.bot.stop().catch(() => undefined);
    await target.stop();
  }
  await document(steps);
  return problems;
}

async function document(steps: Step[]): Promise<void> {
  const good = steps.filter((s) => s.lossPct / 100 <= LOSS_LIMIT && s.freezes === 0);
  const last = good.at(-1);
  const perMeeting = last ? last.mediaCpu / last.meetings : Number.NaN;
  const chart = await writeChart(
    'media-bots',
    `Media bots: CPU and loss against consumers (meetings of ${PUBLISHERS}+${LISTENERS})`,
    stacked([
      lines(
        steps.flatMap((s) => [
          { consumers: s.consumers, series: 'mediasoup worker', cpu: 100 * s.mediaCpu },
          { consumers: s.consumers, series: 'Node server', cpu: 100 * s.serverCpu },
          { consumers: s.consumers, series: 'bots', cpu: 100 * s.botCpu },
        ]),
        { x: 'consumers', y: 'cpu', series: 'series', xTitle: 'consumers on the worker', yTitle: 'CPU (% of a core)' },
      ),
      lines(
        steps.flatMap((s) => [
          { consumers: s.consumers, series: 'loss, all bots', loss: s.lossPct },
          { consumers: s.consumers, series: 'loss, worst bot', loss: s.worstBotLossPct },
        ]),
        { x: 'consumers', y: 'loss', series: 'series', xTitle: 'consumers on the worker', yTitle: 'packets lost (%)' },
      ),
    ]),
  );
  writeSection(
    'Media bots at scale',
    `## Media bots at scale

Command: \`npm run loadtest -- media\` (MEDIA_SHAPE=${PUBLISHERS}+${LISTENERS}, MEDIA_MAX_MEETINGS=${MAX_MEETINGS}; ${new Date().toISOString().slice(0, 10)}, revision ${revision()}; ${machine()}).
Meetings of ${PUBLISHERS} publishers (an Opus tone each) and ${LISTENERS} listeners, all \`@roamhq/wrtc\` bots in the
benchmark's process, are added one at a time to an embedded server with one mediasoup worker
(\`MEDIA_WORKERS=1\`): that worker is the media node; its CPU is read from /proc apart from the
Node process beside it (signalling and state). After ${SETTLE_MS / 1000} s to settle, every bot's receive transport is read each
second for ${HOLD_MS / 1000} s: loss from \`packetsLost\`, jitter, and freezes (a second in which a stream that
was flowing received nothing). It stops at more than ${LOSS_LIMIT * 100}% loss or any freeze.

| meetings | bots | consumers | loss | worst bot's loss | mean jitter | freezes | worker CPU | server CPU | bots' CPU |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${steps.map((s) => `| ${s.meetings} | ${s.bots} | ${s.consumers} | ${s.lossPct.toFixed(2)}% | ${s.worstBotLossPct.toFixed(2)}% | ${s.jitterMs.toFixed(1)} ms | ${s.freezes} | ${(100 * s.mediaCpu).toFixed(1)}% | ${(100 * s.serverCpu).toFixed(0)}% | ${(100 * s.botCpu).toFixed(0)}% |`).join('\n')}

${chart}

${
  last
    ? `Up to **${last.meetings} meeting(s) of ${PUBLISHERS}+${LISTENERS}** ran clean here, each costing the mediasoup worker about
${(100 * perMeeting).toFixed(1)}% of a core, which puts one worker's core at roughly ${Math.floor(1 / perMeeting)} such meetings if
nothing else ran beside it (a linear extrapolation: a worker's CPU grows with the packets it forwards). On this machine the bots, not the media node, are what runs out
first: ${PUBLISHERS + LISTENERS} wrtc peers per meeting encode and decode Opus in one Node process sharing the same 2
cores (the bots' CPU column), so a true ceiling for the media node needs the bots on other machines
(the plain-RTP bots of the consumer-capacity benchmark measure that side).`
    : 'No step ran clean on this machine.'
}
`,
  );
}
