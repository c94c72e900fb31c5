/**
 * The `fanout` profile: how many events a second one push process delivers to its sockets, and
 * what an idle connection costs it in memory. It starts its own deployment (media, meeting, api
 * and 1 or 2 push processes on Redis) and drives it with socket.io clients in this process.
 *
 * Throughput: meetings of 10, 50 and 200 sockets (about 200 sockets in all per case), where up to
 * 5 members per meeting either send chat (each message reaches everyone else) or pause and resume
 * an audio producer (each `producerUpdated` reaches everyone), as fast as their acks come back.
 * Memory: 1000 and then 5000 sockets joined in meetings of 50 and left idle.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Socket } from 'socket.io-client';
import { createMeeting } from '../test/support/server.ts';
import { enter, publishAudio, type Seat, send } from '../test/support/signalling.ts';
import { lines, writeChart } from './chart.ts';
import { type ProcessSample, sampleProcess } from './sample.ts';
import { machine, revision, writeSection } from './report.ts';
import { startCluster, type Target } from './target.ts';

const SIZES = [10, 50, 200];
const SOCKETS_PER_CASE = 200;
const ACTIVE_PER_MEETING = 5;
const WARMUP_MS = 2000;
const MEASURE_MS = Number(process.env.FANOUT_MEASURE_MS ?? 8000);
const IDLE_COUNTS = (process.env.FANOUT_IDLE ?? '1000,5000').split(',').map(Number);
const GOAL_EVENTS = 20_000;
const GOAL_BYTES = 50 * 1024;

type Kind = 'chat' | 'producer';
const EVENT: Record<Kind, string> = { chat: 'chatMessage', producer: 'producerUpdated' };

interface Member {
  seat: Seat;
  push: number;
  producerId?: string;
}

interface Throughput {
  pushes: number;
  size: number;
  kind: Kind;
  /** Events delivered per second by each push process, in order. */
  perPush: number[];
  /** CPU each push process used meanwhile (1 = one core). */
  cpu: number[];
  /** CPU of this process, the clients, meanwhile. */
  clientCpu: number;
}

interface IdleMemory {
  sockets: number;
  rssPerSocket: number;
  heapPerSocket: number;
  /** V8's committed heap (used or not) and memory outside it (Buffers, ArrayBuffers), per socket. */
  heapTotalPerSocket: number;
  externalPerSocket: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Joins `count` sockets into meetings of `size`, dealt round-robin over the push nodes. Joins go
 * a few at a time, spread over the meetings: joins to one meeting queue on its admission lock,
 * and the join path is not what this measures (one refused as busy is tried again).
 */
async function seat(target: Target, count: number, size: number): Promise<Member[][]> {
  const meetingCount = Math.ceil(count / size);
  const ids: string[] = [];
  for (let m = 0; m < meetingCount; m++) ids.push((await createMeeting(target.apiUrl, { title: `fanout ${size}`, maxParticipants: Math.max(size, 100) })).id);
  const meetings: Member[][] = ids.map(() => []);
  const join = async (i: number): Promise<void> => {
    const m = i % meetingCount;
    const push = Math.floor(i / meetingCount) % target.pushUrls.length;
    for (let attempt = 1; ; attempt++) {
      try {
        const seat = await enter(target.apiUrl, ids[m]!, { name: `F${i}` }, {}, target.pushUrls[push]);
        meetings[m]!.push({ seat, push });
        return;
      } catch (error) {
        if (attempt >= 5 || !String(error).includes('busy')) throw error;
        await sleep(200 * attempt);
      }
    }
  };
  for (let start = 0; start < count; start += 20) {
    await Promise.all(Array.from({ length: Math.min(20, count - start) }, (_, k) => join(start + k)));
  }
  return meetings;
}

async function leave(meetings: Member[][]): Promise<void> {
  await Promise.all(meetings.flat().map((m) => send(m.seat.socket, 'leave').catch(() => undefined)));
  for (const m of meetings.flat()) m.seat.socket.close();
}

/** Each active member sends as fast as its acks return (the push tier allows 100 messages a second per socket). */
async function drive(meetings: Member[][], kind: Kind, until: () => boolean): Promise<void> {
  const loops = meetings.flatMap((members) =>
    members.slice(0, ACTIVE_PER_MEETING).map(async (member, i) => {
      let paused = false;
      let n = 0;
      while (!until()) {
        paused = !paused;
        const ack =
          kind === 'chat'
            ? await send(member.seat.socket, 'chat', { text: `fan-out ${i} ${n++}` })
            : await send(member.seat.socket, paused ? 'pauseProducer' : 'resumeProducer', { producerId: member.producerId });
        // The per-socket limit answers rate_limited; back off a little and go on.
        if (!ack.ok) await sleep(ack.error.code === 'rate_limited' ? 20 : 100);
      }
    }),
  );
  await Promise.all(loops);
}

async function measure(target: Target, pushPids: number[], size: number, kind: Kind, meetings: Member[][]): Promise<Throughput> {
  const counts = target.pushUrls.map(() => 0);
  const event = EVENT[kind];
  const listeners: Array<[Socket, () => void]> = [];
  for (const member of meetings.flat()) {
    const onEvent = () => {
      counts[member.push]!++;
    };
    member.seat.socket.on(event, onEvent);
    listeners.push([member.seat.socket, onEvent]);
  }
  let stop = false;
  const driving = drive(meetings, kind, () => stop);
  await sleep(WARMUP_MS);
  counts.fill(0);
  const before = await Promise.all([...pushPids, process.pid].map((pid) => sampleProcess(pid)));
  const started = performance.now();
  await sleep(MEASURE_MS);
  const delivered = [...counts];
  const seconds = (performance.now() - started) / 1000;
  const after = await Promise.all([...pushPids, process.pid].map((pid) => sampleProcess(pid)));
  const clientCpu = cpuShare(before.pop()!, after.pop()!);
  stop = true;
  await driving;
  for (const [socket, onEvent] of listeners) socket.off(event, onEvent);
  return {
    pushes: target.pushUrls.length,
    size,
    kind,
    perPush: delivered.map((n) => n / seconds),
    cpu: after.map((a, i) => cpuShare(before[i]!, a)),
    clientCpu,
  };
}

const cpuShare = (a: ProcessSample, b: ProcessSample) => (b.cpuSeconds - a.cpuSeconds) / ((b.at - a.at) / 1000);

async function throughput(pushes: number, profileDir?: string): Promise<Throughput[]> {
  const env: Record<string, string> = profileDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } : {};
  const target = await startCluster({ portBase: Number(process.env.LOADTEST_PORT_BASE ?? 35000) + 100, pushNodes: pushes, pushEnv: env });
  const results: Throughput[] = [];
  try {
    const pids = target.processes.filter((p) => p.name.startsWith('push-')).map((p) => p.pid!);
    for (const size of SIZES) {
      const meetings = await seat(target, SOCKETS_PER_CASE, size);
      for (const members of meetings) {
        for (const member of members.slice(0, ACTIVE_PER_MEETING)) member.producerId = await publishAudio(member.seat);
      }
      for (const kind of ['chat', 'producer'] as const) {
        const result = await measure(target, pids, size, kind, meetings);
        console.log(`${pushes} push, meetings of ${size}, ${kind}: ${result.perPush.map((n) => n.toFixed(0)).join(' + ')} events/s at CPU ${result.cpu.map((c) => c.toFixed(2)).join(' + ')}, clients ${result.clientCpu.toFixed(2)}`);
        results.push(result);
      }
      await leave(meetings);
    }
  } finally {
    await target.stop();
  }
  return results;
}

/** The push process of the idle run listens for the inspector here, so that it can be asked to collect garbage. */
const INSPECT_PORT = Number(process.env.LOADTEST_PORT_BASE ?? 35000) + 99;

/** A full garbage collection in a process started with --inspect, so that the heap read next is what is live. */
async function collectGarbage(port: number): Promise<void> {
  const [inspectable] = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
  const ws = new WebSocket(inspectable!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  await new Promise((resolve) => {
    ws.onmessage = resolve;
    ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
  });
  ws.close();
}

async function idleMemory(): Promise<IdleMemory[]> {
  const target = await startCluster({ portBase: Number(process.env.LOADTEST_PORT_BASE ?? 35000) + 100, pushNodes: 1, pushEnv: { NODE_OPTIONS: `--inspect=127.0.0.1:${INSPECT_PORT}` } });
  const results: IdleMemory[] = [];
  const all: Member[][] = [];
  try {
    const push = target.processes.find((p) => p.name === 'push-1')!;
    await sleep(3000);
    await collectGarbage(INSPECT_PORT);
    const base = await scrape(push.url);
    for (const count of IDLE_COUNTS) {
      all.push(...(await seat(target, count - all.flat().length, 50)));
      // Let the joins' garbage go before reading the heap.
      await sleep(3000);
      await collectGarbage(INSPECT_PORT);
      const now = await scrape(push.url);
      const result = {
        sockets: count,
        rssPerSocket: (now.rss - base.rss) / count,
        heapPerSocket: (now.heap - base.heap) / count,
        heapTotalPerSocket: (now.heapTotal - base.heapTotal) / count,
        externalPerSocket: (now.external - base.external) / count,
      };
      console.log(`${count} idle sockets: ${(result.rssPerSocket / 1024).toFixed(1)} KB RSS and ${(result.heapPerSocket / 1024).toFixed(1)} KB heap each`);
      results.push(result);
    }
    await leave(all);
  } finally {
    await target.stop();
  }
  return results;
}

async function scrape(url: string): Promise<{ rss: number; heap: number; heapTotal: number; external: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    rss: value('process_resident_memory_bytes'),
    heap: value('nodejs_heap_size_used_bytes'),
    heapTotal: value('nodejs_heap_size_total_bytes'),
    external: value('nodejs_external_memory_bytes'),
  };
}

/** The functions the push process spent most of its own time in, from its --cpu-prof file. */
function hotspots(dir: string, top = 12): string[] {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return ['(no profile was written)'];
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { nodes: Array<{ hitCount?: number; callFrame: { functionName: string; url: string; lineNumber: number } }> };
  const self = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    // Shares of the time the process was busy: waiting for the next event is not a cost.
    if (functionName === '(idle)') continue;
    total += hits;
    const where = url ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(?=[a-z-]+\/)/, '')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + hits);
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, hits]) => `${((100 * hits) / total).toFixed(1)}% ${key}`);
}

export async function profile(dir: string): Promise<string[]> {
  const profileDir = path.join(dir, 'cpu-prof');
  mkdirSync(profileDir, { recursive: true });
  const one = await throughput(1, profileDir);
  const two = await throughput(2);
  const idle = await idleMemory();
  const hot = hotspots(profileDir);
  console.log(`push process hotspots (self time):\n  ${hot.join('\n  ')}`);
  await document([...one, ...two], idle, hot);
  return [];
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

async function document(results: Throughput[], idle: IdleMemory[], hot: string[]): Promise<void> {
  const perProcess = (r: Throughput) => r.perPush.reduce((a, b) => a + b, 0) / r.pushes;
  const perCore = (r: Throughput) => r.perPush.reduce((a, b) => a + b, 0) / Math.max(0.01, r.cpu.reduce((a, b) => a + b, 0));
  const chart = await writeChart(
    'fanout',
    'Push fan-out: delivered events/s per push process',
    lines(
      results.map((r) => ({ size: r.size, series: `${r.kind}, ${r.pushes} push`, events: Math.round(perProcess(r)) })),
      { x: 'size', y: 'events', series: 'series', xTitle: 'sockets per meeting', yTitle: 'events delivered per second per push process' },
    ),
  );
  const best = Math.max(...results.map(perProcess));
  // What one more idle socket costs, without what the first ones brought (caches, pools, code).
  const first = idle[0];
  const last = idle.at(-1);
  const marginal =
    first && last && last.sockets > first.sockets
      ? (Object.fromEntries(
          (['rssPerSocket', 'heapPerSocket', 'heapTotalPerSocket', 'externalPerSocket'] as const).map((k) => [k, (last[k] * last.sockets - first[k] * first.sockets) / (last.sockets - first.sockets)]),
        ) as Omit<IdleMemory, 'sockets'>)
      : undefined;
  const worstIdle = last?.rssPerSocket ?? Number.NaN;
  writeSection(
    'Push fan-out',
    `## Push fan-out

Command: \`npm run loadtest -- fanout\` (${new Date().toISOString().slice(0, 10)}, revision ${revision()}; ${machine()}).
A deployment of separate processes on Redis (media, meeting + files, api, and 1 or 2 push
processes) and, in the benchmark's own process, about ${SOCKETS_PER_CASE} socket.io clients per case in meetings
of 10, 50 or 200. In every meeting ${ACTIVE_PER_MEETING} members either send chat (each message goes to everyone
else) or pause and resume an audio producer (each \`producerUpdated\` goes to everyone), each as
fast as its acks return. Counted: events the clients received in ${MEASURE_MS / 1000} s, per push process they are
connected to, and that process's CPU (1.00 = one core) from /proc. With 2 push processes every
meeting has members on both, so each event crosses Redis pub/sub to both.

| push processes | sockets per meeting | events | delivered events/s per push process | push CPU (cores) | events/s per push core | clients' CPU (cores) |
| ---: | ---: | --- | ---: | --- | ---: | ---: |
${results.map((r) => `| ${r.pushes} | ${r.size} | ${r.kind} | ${perProcess(r).toFixed(0)} | ${r.cpu.map((c) => c.toFixed(2)).join(' + ')} | ${perCore(r).toFixed(0)} | ${r.clientCpu.toFixed(2)} |`).join('\n')}

${chart}

Memory per idle connection (1 push process; sockets connected and joined, in meetings of 50,
doing nothing; growth of the push process's RSS and V8 heap over the same process before them,
each read after a full garbage collection asked for through the inspector, so the heap is what
is live; the last row is the cost of each socket beyond the first ${first?.sockets ?? ''}):

| idle sockets | RSS per socket | V8 heap used per socket | V8 heap committed per socket | external (Buffers) per socket |
| ---: | ---: | ---: | ---: | ---: |
${idle.map((i) => `| ${i.sockets} | ${kb(i.rssPerSocket)} | ${kb(i.heapPerSocket)} | ${kb(i.heapTotalPerSocket)} | ${kb(i.externalPerSocket)} |`).join('\n')}
${marginal ? `| each one from ${idle[0]!.sockets} to ${idle.at(-1)!.sockets} | ${kb(marginal.rssPerSocket)} | ${kb(marginal.heapPerSocket)} | ${kb(marginal.heapTotalPerSocket)} | ${kb(marginal.externalPerSocket)} |` : ''}

Against the goals: at best **${best.toFixed(0)} delivered events/s per push process** (goal ≥ ${GOAL_EVENTS.toLocaleString('en')}: ${best >= GOAL_EVENTS ? 'met' : 'missed'}),
and **${(worstIdle / 1024).toFixed(1)} KB of RSS per idle connection** at ${last?.sockets} sockets (goal < ${GOAL_BYTES / 1024} KB: ${worstIdle < GOAL_BYTES ? 'met' : 'missed'}).

Where the single push process spent its busy CPU time over the whole 1-push run (\`--cpu-prof\`,
self time as a share of the samples that were not idle, top ${hot.length}):

${hot.map((h) => `- ${h}`).join('\n')}
`,
  );
}
