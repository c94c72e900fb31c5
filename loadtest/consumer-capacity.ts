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
 * Options (environment): CAPACITY_STEPS (comma-separated totals), CAPACITY_HOLD_MS,
 * CAPACITY_PRODUCERS (speakers per process), CAPACITY_CASES ("1,2"), CAPACITY_NO_DOC=1
 * (print only), CAPACITY_DEBUG=1 (per-window details).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { internalKeyFrom } from '../common/internalKey.ts';
import { RedisStateStore } from '../common/state/RedisStateStore.ts';
import { MeetingRepository } from '../meeting/MeetingRepository.ts';
import { type RunningServer, startServer } from '../test/support/server.ts';
import { type BotsReply, DELAY_BUCKET_US, type ReceiverRequest, type ReceiverSnapshot, type SendStream, type SenderRequest } from './rtp-bots.ts';
import { machine, revision, writeSection } from './report.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DOC = path.join(ROOT, 'docs/performance.md');
const HEADING = '## Consumer capacity';
const COMMAND = 'node loadtest/consumer-capacity.ts';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const envInt = (name: string, fallback: number) => {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
};

/** Streams each media process routes: a meeting with this many speakers; everyone else listens to all of them. */
const PRODUCERS_PER_PROCESS = envInt('CAPACITY_PRODUCERS', 4);
/** Total consumers of each step, over all media processes of the case. */
const STEPS = (process.env.CAPACITY_STEPS ?? '400,800,1200,1600,2000,2400,2800,3200,4000,4800')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0);
const CASES = (process.env.CAPACITY_CASES ?? '1,2').split(',').map(Number) as Array<1 | 2>;
const PACKET_MS = 20;
const PAYLOAD_BYTES = 160;
/** Packets of a step's first moments are not counted: new consumers, sockets and queues settle. */
const WARMUP_MS = 2_000;
const HOLD_MS = envInt('CAPACITY_HOLD_MS', 5_000);
const LOSS_LIMIT = 0.01;
/** Before each case, wait up to this long for the machine to be under QUIET_BUSY busy. */
const QUIET_WAIT_MS = 30_000;
const QUIET_BUSY = 0.15;
/** Measurement windows a step gets at most when it is over the limit. */
const WINDOWS_PER_STEP = 3;
/** Audio this late is as good as lost: a receiver's jitter buffer would have dropped it. */
const LATE_MS = 200;
/** Receive sockets per media process; each listener transport sends to one of them. */
const RECEIVE_SOCKETS_PER_PROCESS = 8;
const RECV_BUFFER_BYTES = 4 * 1024 * 1024;
/** Internal API calls in flight at once while consumers are added. */
const SETUP_CONCURRENCY = 12;
/** Nothing here should come close; if something hangs anyway, the run still ends. */
const WATCHDOG_MS = 7 * 60_000;
const CLK_TCK = 100;

interface NodeSpec {
  id: string;
  port: number;
  portBase: number;
  rtcMin: number;
  rtcMax: number;
}

const NODE_SPECS: NodeSpec[] = [
  { id: 'media-a', port: 3401, portBase: 48000, rtcMin: 48010, rtcMax: 48900 },
  { id: 'media-b', port: 3402, portBase: 49000, rtcMin: 49010, rtcMax: 49900 },
];

/** This run's Redis key prefix: its keys are deleted at the end, however the run ends. */
const PREFIX = `bench-${randomBytes(4).toString('hex')}:`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Processes: media nodes and RTP bots

const children = new Set<ChildProcess>();

/** Last resort (watchdog, signal): kill whatever this run started, synchronously. */
function killChildren(): void {
  for (const child of children) {
    for (const pid of child.pid ? childPids(child.pid) : []) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    child.kill('SIGKILL');
  }
}

/** Direct children of a process (a media node's mediasoup workers), from /proc. */
function childPids(parent: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.ppid === parent) pids.push(Number(entry));
  }
  return pids;
}

function alive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

function readStat(pid: number): { comm: string; state: string; ppid: number; ticks: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const fields = text.slice(close + 2).split(' ');
    // fields[0] is state (stat field 3): ppid is field 4, utime 14, stime 15.
    return { comm, state: fields[0] ?? '', ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

class Bots {
  readonly #waiters: Array<{ type: BotsReply['type']; resolve: (reply: BotsReply) => void }> = [];

  readonly child: ChildProcess;
  private constructor(child: ChildProcess) {
    this.child = child;
    child.on('message', (reply: BotsReply) => {
      const i = this.#waiters.findIndex((w) => w.type === reply.type);
      if (i !== -1) this.#waiters.splice(i, 1)[0]!.resolve(reply);
    });
  }

  static async start(role: 'sender' | 'receiver'): Promise<Bots> {
    const child = fork(path.join(ROOT, 'loadtest/rtp-bots.ts'), [role], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.add(child);
    child.once('exit', () => children.delete(child));
    const bots = new Bots(child);
    await bots.#expect('ready', 20_000);
    return bots;
  }

  async request<T extends BotsReply['type']>(message: SenderRequest | ReceiverRequest, reply: T, timeoutMs = 10_000): Promise<Extract<BotsReply, { type: T }>> {
    if (!this.child.connected) throw new Error(`rtp bots: process ${this.child.pid} is gone`);
    const answer = this.#expect(reply, timeoutMs);
    this.child.send(message);
    return (await answer) as Extract<BotsReply, { type: T }>;
  }

  #expect(type: BotsReply['type'], timeoutMs: number): Promise<BotsReply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`rtp bots: no ${type} within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push({
        type,
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
      });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    if (this.child.connected) this.child.send({ type: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// The media node's internal API

class MediaApi {
  readonly url: string;
  private readonly key: string;
  constructor(
    url: string,
    key: string,
  ) {
    this.url = url;
    this.key = key;
  }

  /** Calls made and their total and longest duration, for the setup line of each step. */
  static calls = { count: 0, totalMs: 0, maxMs: 0 };

  async call<T>(method: string, params: Record<string, unknown>): Promise<T> {
    const started = performance.now();
    try {
      return await this.#call<T>(method, params);
    } finally {
      const ms = performance.now() - started;
      MediaApi.calls.count++;
      MediaApi.calls.totalMs += ms;
      MediaApi.calls.maxMs = Math.max(MediaApi.calls.maxMs, ms);
    }
  }

  async #call<T>(method: string, params: Record<string, unknown>): Promise<T> {
    const res = await fetch(`${this.url}/internal/media/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-internal-key': this.key },
      body: JSON.stringify({ requestId: randomUUID(), params }),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} failed: ${res.status} ${text}`);
    return (JSON.parse(text) as { result: T }).result;
  }
}

interface Consumer {
  ssrc: number;
  /** Index into the case's producer list. */
  producer: number;
  node: number;
}

/** One media process of a case: its meeting, speakers and listeners. */
interface MediaProcess {
  spec: NodeSpec;
  server: RunningServer;
  api: MediaApi;
  meetingId: string;
  rtpCapabilities: unknown;
  producerIds: string[];
  /** Indices of this process's producers in the case's producer list. */
  producerIndex: number[];
  receivePorts: number[];
  listeners: number;
  consumers: number;
  /** Where the bench records its meeting and seats, as the meeting tier would. */
  seats: BenchSeats;
}

/**
 * Media nodes close media whose meeting or seat the store does not know (reconciliation after
 * lost state), so the bench writes the records that the meeting tier writes on a real join.
 */
class BenchSeats {
  readonly #repo: MeetingRepository;
  readonly #redis: Redis;

  constructor(prefix: string) {
    this.#redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    this.#repo = new MeetingRepository(new RedisStateStore(this.#redis, prefix));
  }

  async meeting(id: string): Promise<void> {
    const now = Date.now();
    await this.#repo.createMeeting({ id, title: id, pin: randomBytes(5).readUInt32BE(0).toString().padStart(9, '0'), hostKey: randomUUID(), settings: { maxParticipants: 10_000, locked: false }, createdAt: now });
  }

  async seat(meetingId: string, participantId: string): Promise<void> {
    await this.#repo.putParticipant({
      id: participantId,
      meetingId,
      name: participantId,
      role: 'guest',
      grants: { publishAudio: true, publishVideo: false, publishScreen: false, moderate: false },
      kind: 'bot',
      connection: 'connected',
      joinedAt: Date.now(),
    });
  }

  close(): void {
    this.#redis.disconnect();
  }
}

const OPUS = { mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [] };

async function addSpeakers(media: MediaProcess, count: number, ssrcBase: number): Promise<SendStream[]> {
  const streams: SendStream[] = [];
  for (let i = 0; i < count; i++) {
    const participantId = `speaker-${i}`;
    await media.seats.seat(media.meetingId, participantId);
    await media.api.call('registerParticipant', { meetingId: media.meetingId, participantId, rtpCapabilities: media.rtpCapabilities });
    const transport = await media.api.call<{ id: string; ip: string; port: number }>('createPlainTransport', { meetingId: media.meetingId, participantId, comedia: true });
    // RTP goes to 127.0.0.1 only, whatever a media process might announce.
    if (transport.ip !== '127.0.0.1') throw new Error(`media process announced ${transport.ip}, not 127.0.0.1`);
    const ssrc = ssrcBase + i;
    const { producerId } = await media.api.call<{ producerId: string }>('produce', {
      meetingId: media.meetingId,
      participantId,
      transportId: transport.id,
      kind: 'audio',
      source: 'mic',
      rtpParameters: { codecs: [OPUS], encodings: [{ ssrc }] },
    });
    media.producerIds.push(producerId);
    streams.push({ ip: transport.ip, port: transport.port, ssrc, payloadType: OPUS.payloadType });
  }
  return streams;
}

/** A listener: one plain transport to a receive socket, consuming every speaker of its process. */
async function addListener(media: MediaProcess, node: number, consumers: Consumer[]): Promise<void> {
  const n = media.listeners++;
  const participantId = `listener-${n}`;
  const { meetingId, api } = media;
  await media.seats.seat(meetingId, participantId);
  await api.call('registerParticipant', { meetingId, participantId, rtpCapabilities: media.rtpCapabilities });
  const transport = await api.call<{ id: string }>('createPlainTransport', { meetingId, participantId, comedia: false });
  await api.call('connectPlainTransport', { meetingId, participantId, transportId: transport.id, ip: '127.0.0.1', port: media.receivePorts[n % media.receivePorts.length] });
  for (const [i, producerId] of media.producerIds.entries()) {
    const consumer = await api.call<{ rtpParameters: { encodings: Array<{ ssrc: number }> } }>('consume', {
      meetingId,
      participantId,
      producerId,
      transportId: transport.id,
      paused: false,
    });
    const ssrc = consumer.rtpParameters.encodings[0]?.ssrc;
    if (ssrc === undefined) throw new Error('consumer without an SSRC');
    consumers.push({ ssrc, producer: media.producerIndex[i]!, node });
    media.consumers++;
  }
}

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Measurement

interface CpuSample {
  at: number;
  ticks: Map<number, number>;
  machineBusy: number;
  machineSoftirq: number;
  machineTotal: number;
  /** CPU of this process (the benchmark's control loop), in µs. */
  ownMicros: number;
}

function cpuSample(pids: number[]): CpuSample {
  const ticks = new Map<number, number>();
  for (const pid of pids) ticks.set(pid, readStat(pid)?.ticks ?? 0);
  // cpu  user nice system idle iowait irq softirq steal
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (line[3] ?? 0) + (line[4] ?? 0);
  const total = line.slice(0, 8).reduce((a, b) => a + b, 0);
  const own = process.cpuUsage();
  return { at: performance.now(), ticks, machineBusy: total - idle, machineSoftirq: line[6] ?? 0, machineTotal: total, ownMicros: own.user + own.system };
}

/** Share of one core each pid used between two samples. */
function cpuShare(a: CpuSample, b: CpuSample, pid: number): number {
  return ((b.ticks.get(pid) ?? 0) - (a.ticks.get(pid) ?? 0)) / CLK_TCK / ((b.at - a.at) / 1000);
}

/** Drops counted by the kernel on UDP sockets bound to 127.0.0.1, by local port. */
function udpDrops(): Map<number, number> {
  const drops = new Map<number, number>();
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13) continue;
    const port = Number.parseInt(f[1]!.split(':')[1]!, 16);
    drops.set(port, (drops.get(port) ?? 0) + Number(f[12]));
  }
  return drops;
}

function sumDrops(a: Map<number, number>, b: Map<number, number>, ports: (port: number) => boolean): number {
  let n = 0;
  for (const [port, value] of b) if (ports(port)) n += value - (a.get(port) ?? 0);
  return n;
}

interface StepResult {
  consumers: number;
  perProcess: number[];
  setupMs: number;
  expected: number;
  received: number;
  /** Not received, from sequence numbers. */
  lost: number;
  /** Share of the sampled packets that arrived more than LATE_MS after they were sent. */
  late: number;
  /** What the limit applies to: lost, and late among the rest (a jitter buffer drops those too). */
  loss: number;
  lossPerProcess: number[];
  /** Consumers that got nothing at all in the window. */
  silent: number;
  delayP50Ms: number;
  delayP99Ms: number;
  workerCpu: number[];
  nodeCpu: number[];
  botsCpu: number;
  /** Share of all cores, busy in total and in softirq (loopback delivery of the packets, mostly). */
  machineCpu: number;
  softirqCpu: number;
  /** This process, share of one core. */
  controlCpu: number;
  /** Busy CPU no process of this run accounts for, less softirq: other work on the machine, share of all cores. */
  otherCpu: number;
  dropsAtBots: number;
  dropsAtMedia: number;
}

interface CaseResult {
  processes: number;
  steps: StepResult[];
  capacity: number;
  stoppedBecause: string;
  recvBufferBytes: number;
  /** Share of all cores busy just before the case started (other work on the machine). */
  busyBefore: number;
}

function histogramPercentile(histogram: number[], p: number): number {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * total);
  let seen = 0;
  for (const [i, count] of histogram.entries()) {
    seen += count;
    if (seen >= rank) return ((i + 0.5) * DELAY_BUCKET_US) / 1000;
  }
  return Number.NaN;
}

/** All receivers' counts (one receiver per media process, so histograms are per process). */
interface Merged {
  ssrcs: number[];
  received: number[];
  highestSeq: number[];
  delayHistograms: number[][];
}

async function snapshot(receivers: Bots[]): Promise<Merged> {
  const parts: ReceiverSnapshot[] = (await Promise.all(receivers.map((r) => r.request({ type: 'snapshot' }, 'snapshot')))).map((reply) => reply.snapshot);
  return {
    ssrcs: parts.flatMap((p) => p.ssrcs),
    received: parts.flatMap((p) => p.received),
    highestSeq: parts.flatMap((p) => p.highestSeq),
    delayHistograms: parts.map((p) => p.delayHistogram),
  };
}

async function measure(
  medias: MediaProcess[],
  consumers: Consumer[],
  sender: Bots,
  receivers: Bots[],
  botPorts: Set<number>,
  pids: { workers: number[][]; nodes: number[]; bots: number[] },
): Promise<Omit<StepResult, 'consumers' | 'perProcess' | 'setupMs'>> {
  await sleep(WARMUP_MS);
  const allPids = [...pids.workers.flat(), ...pids.nodes, ...pids.bots];
  const [a, sentA] = await Promise.all([snapshot(receivers), sender.request({ type: 'counts' }, 'counts')]);
  const cpuA = cpuSample(allPids);
  const dropsA = udpDrops();
  await sleep(HOLD_MS);
  const [b, sentB] = await Promise.all([snapshot(receivers), sender.request({ type: 'counts' }, 'counts')]);
  const cpuB = cpuSample(allPids);
  const dropsB = udpDrops();

  const at = (s: Merged) => new Map(s.ssrcs.map((ssrc, i) => [ssrc, i]));
  const ia = at(a);
  const ib = at(b);
  const histograms = b.delayHistograms;
  const lateOf = (h: number[]) => {
    const total = h.reduce((x, y) => x + y, 0);
    return total > 0 ? h.slice(Math.ceil((LATE_MS * 1000) / DELAY_BUCKET_US)).reduce((x, y) => x + y, 0) / total : 0;
  };
  const allDelays = histograms[0]!.map((_, i) => histograms.reduce((sum, h) => sum + h[i]!, 0));
  const expectedPer = medias.map(() => 0);
  const receivedPer = medias.map(() => 0);
  let silent = 0;
  for (const c of consumers) {
    const j = ib.get(c.ssrc);
    const i = ia.get(c.ssrc);
    let expected: number;
    let received: number;
    if (j === undefined || (i !== undefined && b.received[j] === a.received[i])) {
      // Nothing in the window: everything the speaker sent meanwhile is lost.
      expected = (sentB.sent[c.producer] ?? 0) - (sentA.sent[c.producer] ?? 0);
      received = 0;
      silent++;
    } else if (i === undefined) {
      // First packets arrived during the window; count from the first one.
      received = b.received[j]!;
      expected = received; // lower bound: its start is unknown, so it adds no loss
    } else {
      received = b.received[j]! - a.received[i]!;
      expected = b.highestSeq[j]! - a.highestSeq[i]!;
    }
    expectedPer[c.node]! += expected;
    receivedPer[c.node]! += Math.min(received, expected);
  }
  const ncpu = os.availableParallelism();
  const ours = allPids.reduce((sum, pid) => sum + cpuShare(cpuA, cpuB, pid), 0) + (cpuB.ownMicros - cpuA.ownMicros) / 1000 / (cpuB.at - cpuA.at);
  const busy = (cpuB.machineBusy - cpuA.machineBusy) / Math.max(1, cpuB.machineTotal - cpuA.machineTotal);
  const softirq = (cpuB.machineSoftirq - cpuA.machineSoftirq) / Math.max(1, cpuB.machineTotal - cpuA.machineTotal);
  const otherCpu = Math.max(0, busy - softirq - ours / ncpu);
  if (process.env.CAPACITY_DEBUG) {
    const ports = [...dropsB].filter(([port, n]) => n - (dropsA.get(port) ?? 0) > 0).map(([port, n]) => `${port}${botPorts.has(port) ? '(bot)' : ''}:${n - (dropsA.get(port) ?? 0)}`);
    const sent = sentB.sent.map((n, i) => n - (sentA.sent[i] ?? 0));
    const producers = medias.flatMap((m) => m.producerIndex).map((p) => {
      let e = 0;
      let r = 0;
      for (const c of consumers) {
        if (c.producer !== p) continue;
        const i = ia.get(c.ssrc);
        const j = ib.get(c.ssrc);
        if (i === undefined || j === undefined) continue;
        e += b.highestSeq[j]! - a.highestSeq[i]!;
        r += b.received[j]! - a.received[i]!;
      }
      return `${p}:${e > 0 ? pct(1 - r / e) : 'n/a'}`;
    });
    const h = allDelays;
    const nz = h.flatMap((n, i) => (n > 0 ? [`${((i * DELAY_BUCKET_US) / 1000).toFixed(2)}ms:${n}`] : [])).slice(0, 12);
    console.log(`    debug: delay samples ${h.reduce((x, y) => x + y, 0)} ${nz.join(' ')}`);
    console.log(`    debug: drops by port ${ports.join(' ') || 'none'}; sent ${sent.join(',')}; loss by producer ${producers.join(' ')}`);
  }
  const expected = expectedPer.reduce((x, y) => x + y, 0);
  const received = receivedPer.reduce((x, y) => x + y, 0);
  const late = lateOf(allDelays);
  const effective = (e: number, r: number, l: number) => (e > 0 ? 1 - (r * (1 - l)) / e : 1);
  // The bots' ephemeral ports may fall inside a media process's range: they are not the worker's.
  const mediaPort = (port: number) => !botPorts.has(port) && medias.some((m) => port >= m.spec.portBase && port <= m.spec.rtcMax);
  return {
    expected,
    received,
    lost: expected > 0 ? 1 - received / expected : 1,
    late,
    loss: effective(expected, received, late),
    lossPerProcess: expectedPer.map((e, n) => effective(e, receivedPer[n]!, lateOf(histograms[n]!))),
    silent,
    delayP50Ms: histogramPercentile(allDelays, 50),
    delayP99Ms: histogramPercentile(allDelays, 99),
    workerCpu: pids.workers.map((list) => list.reduce((s, pid) => s + cpuShare(cpuA, cpuB, pid), 0)),
    nodeCpu: pids.nodes.map((pid) => cpuShare(cpuA, cpuB, pid)),
    botsCpu: pids.bots.reduce((s, pid) => s + cpuShare(cpuA, cpuB, pid), 0),
    machineCpu: busy,
    softirqCpu: softirq,
    controlCpu: (cpuB.ownMicros - cpuA.ownMicros) / 1000 / (cpuB.at - cpuA.at),
    otherCpu,
    dropsAtBots: sumDrops(dropsA, dropsB, (port) => botPorts.has(port)),
    dropsAtMedia: sumDrops(dropsA, dropsB, mediaPort),
  };
}

// ---------------------------------------------------------------------------------------------
// One case: N media processes, stepped up until loss passes the limit

/** Waits (boundedly) for the machine to be nearly idle; returns the share of all cores busy at the end. */
async function waitForQuiet(): Promise<number> {
  let busy = 1;
  const deadline = performance.now() + QUIET_WAIT_MS;
  while (performance.now() < deadline) {
    const a = cpuSample([]);
    await sleep(2000);
    const b = cpuSample([]);
    busy = (b.machineBusy - a.machineBusy) / Math.max(1, b.machineTotal - a.machineTotal);
    if (busy < QUIET_BUSY) break;
  }
  if (busy >= QUIET_BUSY) console.log(`  the machine is still ${cores(busy)} busy with other work; measuring anyway`);
  return busy;
}

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', () => reject(new Error(`port ${port} is in use; stop whatever listens there first`)));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

async function runCase(processes: 1 | 2, shared: { prefix: string; secret: string }): Promise<CaseResult> {
  const specs = NODE_SPECS.slice(0, processes);
  const result: CaseResult = { processes, steps: [], capacity: 0, stoppedBecause: 'ran out of steps', recvBufferBytes: 0, busyBefore: await waitForQuiet() };
  const medias: MediaProcess[] = [];
  const servers: RunningServer[] = [];
  const bots: Bots[] = [];
  const seats = new BenchSeats(shared.prefix);
  try {
    for (const spec of specs) await assertPortFree(spec.port);
    const started = await Promise.allSettled(
      specs.map((spec) =>
        startServer({
          port: spec.port,
          roles: 'media',
          timeoutMs: 30_000,
          env: {
            REDIS_URL,
            REDIS_PREFIX: shared.prefix,
            JWT_SECRET: shared.secret,
            NODE_ID: spec.id,
            MEDIA_WORKERS: '1',
            MEDIA_PORT_BASE: String(spec.portBase),
            MEDIA_RTC_MIN_PORT: String(spec.rtcMin),
            MEDIA_RTC_MAX_PORT: String(spec.rtcMax),
            MEDIA_CONSUMERS_PER_ROUTER: '100000',
            MEDIA_MAX_CONSUMERS_PER_WORKER: '100000',
            MEDIA_DRAIN_TIMEOUT_MS: '1000',
            LOG_LEVEL: 'warn',
          },
        }),
      ),
    );
    for (const outcome of started) {
      if (outcome.status === 'fulfilled') {
        const child = outcome.value.process;
        children.add(child);
        child.once('exit', () => children.delete(child));
        if (child.exitCode !== null || child.signalCode !== null) children.delete(child);
        servers.push(outcome.value);
      }
    }
    const failed = started.find((o) => o.status === 'rejected');
    if (failed) throw failed.reason;
    const [sender, ...receivers] = await Promise.all([Bots.start('sender'), ...specs.map(() => Bots.start('receiver'))]);
    bots.push(sender!, ...receivers);
    const listening = await Promise.all(
      receivers.map((r) => r.request({ type: 'listen', sockets: RECEIVE_SOCKETS_PER_PROCESS, recvBufferBytes: RECV_BUFFER_BYTES }, 'listening')),
    );
    const botPorts = new Set(listening.flatMap((l) => l.ports));
    // Linux reports twice what was granted (it counts its bookkeeping); net.core.rmem_max caps it.
    result.recvBufferBytes = listening[0]!.recvBufferBytes / 2;

    const key = internalKeyFrom(shared.secret);
    const streams: SendStream[] = [];
    for (const [n, spec] of specs.entries()) {
      const api = new MediaApi(servers[n]!.url, key);
      const meetingId = `capacity-${spec.id}-${randomBytes(4).toString('hex')}`;
      await seats.meeting(meetingId);
      const { rtpCapabilities } = await api.call<{ rtpCapabilities: unknown }>('getRouterRtpCapabilities', { meetingId });
      const media: MediaProcess = {
        spec,
        server: servers[n]!,
        api,
        meetingId,
        rtpCapabilities,
        producerIds: [],
        producerIndex: [],
        receivePorts: listening[n]!.ports,
        listeners: 0,
        consumers: 0,
        seats,
      };
      for (let i = 0; i < PRODUCERS_PER_PROCESS; i++) media.producerIndex.push(streams.length + i);
      streams.push(...(await addSpeakers(media, PRODUCERS_PER_PROCESS, 0x10000 * (n + 1))));
      medias.push(media);
    }
    const sending = await sender.request({ type: 'start', streams, packetMs: PACKET_MS, payloadBytes: PAYLOAD_BYTES }, 'started');
    for (const port of sending.ports) botPorts.add(port);

    const workers = medias.map((m) => childPids(m.server.process.pid!).filter((pid) => readStat(pid)?.comm.startsWith('mediasoup')));
    if (workers.some((list) => list.length !== 1)) throw new Error(`expected one mediasoup worker per process, found ${JSON.stringify(workers)}`);
    const pids = { workers, nodes: medias.map((m) => m.server.process.pid!), bots: bots.map((b) => b.child.pid!) };

    const consumers: Consumer[] = [];
    const unit = PRODUCERS_PER_PROCESS * processes;
    for (const target of STEPS) {
      if (target % unit !== 0) throw new Error(`step ${target} is not a multiple of ${unit} (speakers × processes)`);
      const perProcess = target / processes;
      // One UDP port per transport: speakers' plus listeners'.
      const ports = Math.min(...specs.map((spec) => spec.rtcMax - spec.rtcMin + 1));
      if (perProcess / PRODUCERS_PER_PROCESS + PRODUCERS_PER_PROCESS > ports) {
        result.stoppedBecause = `${target} would need more transports than the ${ports} UDP ports of a process's range`;
        break;
      }
      const setupStart = performance.now();
      MediaApi.calls = { count: 0, totalMs: 0, maxMs: 0 };
      try {
        await Promise.all(
          medias.map((media, n) =>
            pool(
              Array.from({ length: (perProcess - media.consumers) / PRODUCERS_PER_PROCESS }, (_, i) => i),
              SETUP_CONCURRENCY,
              () => addListener(media, n, consumers),
            ),
          ),
        );
      } catch (error) {
        result.stoppedBecause = `could not add consumers for ${target}: ${(error as Error).message.slice(0, 200)}`;
        console.log(`  ${result.stoppedBecause}`);
        break;
      }
      const setupMs = performance.now() - setupStart;
      let step: StepResult = { consumers: target, perProcess: medias.map((m) => m.consumers), setupMs, ...(await measure(medias, consumers, sender!, receivers, botPorts, pids)) };
      // A step over the limit gets more windows, and keeps its best: other work on the machine
      // only ever adds loss, so the best window is the closest to what the media processes can do.
      for (let window = 2; window <= WINDOWS_PER_STEP && step.loss > LOSS_LIMIT; window++) {
        console.log(`  ${target} consumers: ${pct(step.loss)} loss (other load ${cores(step.otherCpu)}), measuring again`);
        const again: StepResult = { ...step, ...(await measure(medias, consumers, sender!, receivers, botPorts, pids)) };
        if (again.loss < step.loss) step = again;
      }
      result.steps.push(step);
      console.log(`  ${stepRow(step, processes)}  setup ${(setupMs / 1000).toFixed(1)} s (${MediaApi.calls.count} calls, mean ${msFmt(MediaApi.calls.totalMs / Math.max(1, MediaApi.calls.count))} ms, max ${msFmt(MediaApi.calls.maxMs)} ms), control loop ${cores(step.controlCpu)}`);
      if (step.loss > LOSS_LIMIT) {
        result.stoppedBecause = `${pct(step.loss)} loss at ${target}`;
        break;
      }
      result.capacity = target;
    }
    return result;
  } finally {
    await Promise.allSettled(bots.map((b) => b.stop()));
    await Promise.allSettled(medias.map((m) => m.api.call('closeMeeting', { meetingId: m.meetingId })));
    seats.close();
    const workerPids = servers.flatMap((server) => (server.process.pid ? childPids(server.process.pid) : []));
    await Promise.allSettled(servers.map((server) => server.stop('SIGINT')));
    // A worker outlives its Node.js parent for a moment; do not start the next case beside it.
    for (let i = 0; i < 50 && workerPids.some(alive); i++) await sleep(100);
    for (const pid of workerPids.filter(alive)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Reporting

const pct = (x: number, digits = 2) => `${(x * 100).toFixed(digits)}%`;
const cores = (x: number) => `${Math.round(x * 100)}%`;
const msFmt = (x: number) => (Number.isNaN(x) ? '–' : x >= 999 ? '≥ 1000' : x < 10 ? x.toFixed(1) : Math.round(x).toString());

function stepRow(s: StepResult, processes: number): string {
  const two = processes > 1;
  const cells = [
    String(s.consumers),
    ...(two ? [s.perProcess.join(' + ')] : []),
    pct(s.loss),
    ...(two ? [s.lossPerProcess.map((l) => pct(l)).join(' / ')] : []),
    `${pct(s.lost)} / ${pct(s.late)}`,
    `${msFmt(s.delayP50Ms)} / ${msFmt(s.delayP99Ms)}`,
    s.workerCpu.map(cores).join(' + '),
    s.nodeCpu.map(cores).join(' + '),
    cores(s.botsCpu),
    `${cores(s.machineCpu)} (${cores(s.softirqCpu)})`,
    cores(s.otherCpu),
    `${s.dropsAtMedia} / ${s.dropsAtBots}`,
  ];
  return `| ${cells.join(' | ')} |`;
}

function table(r: CaseResult): string {
  const two = r.processes > 1;
  const head = [
    'Consumers',
    ...(two ? ['Per process'] : []),
    'Loss',
    ...(two ? ['Loss per process'] : []),
    `Not received / late (> ${LATE_MS} ms)`,
    'Delay p50 / p99 (ms)',
    'Worker CPU',
    'Media Node.js CPU',
    'Bots CPU',
    'Machine CPU (softirq)',
    'Other load',
    'Drops: worker / bots',
  ];
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---:').join(' | ')} |`, ...r.steps.map((s) => stepRow(s, r.processes))].join('\n');
}



function ratioOf(results: CaseResult[]): number | undefined {
  const one = results.find((r) => r.processes === 1)?.capacity;
  const two = results.find((r) => r.processes === 2)?.capacity;
  return one && two ? two / one : undefined;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const plural = (n: number) => `${n} media process${n > 1 ? 'es' : ''}`;

/**
 * What the one-process case says about the machine as a whole: CPU per 1000 consumers (worker,
 * bots, kernel, media Node.js) at its largest step under the limit, what a worker with a core
 * of its own would carry, and how many consumers the machine's cores could carry at best with
 * the bots on them, however many media processes share them.
 */
function cpuBudget(results: CaseResult[]): string | undefined {
  const one = results.find((r) => r.processes === 1);
  const step = one?.steps.filter((s) => s.loss <= LOSS_LIMIT).at(-1);
  if (!one || !step) return undefined;
  const failed = one.steps.find((s) => s.loss > LOSS_LIMIT);
  const ncpu = os.availableParallelism();
  const per1000 = (cores: number) => (cores / step.consumers) * 1000;
  const worker = per1000(sum(step.workerCpu));
  const bots = per1000(step.botsCpu);
  const kernel = per1000(step.softirqCpu * ncpu);
  const node = per1000(sum(step.nodeCpu));
  const total = worker + bots + kernel + node;
  const round100 = (n: number) => Math.round(n / 100) * 100;
  const goal = 1.8 * one.capacity;
  const lines = [
    `At ${step.consumers} consumers on one process, every 1000 consumers cost ${worker.toFixed(2)} of a core in the mediasoup`,
    `worker, ${bots.toFixed(2)} in the bots, ${kernel.toFixed(2)} in softirq (the kernel moving packets over loopback) and ${node.toFixed(2)}`,
    `in the media process's Node.js thread: ${total.toFixed(2)} cores in all. By CPU alone, a worker with a core of its`,
    `own would carry about ${round100(1000 / worker)} consumers, and ${ncpu} cores about ${round100((ncpu / total) * 1000)} with the bots beside the`,
    `media processes, however many processes share them (upper bounds: delay grows before the cores are full).`,
  ];
  if (failed) {
    lines.push(
      `The one-process case itself stopped at ${failed.consumers} with the worker at ${cores(sum(failed.workerCpu))} of a core and the machine`,
      `${cores(failed.machineCpu)} busy${failed.machineCpu >= 0.9 ? ', so it too ran out of machine before its worker ran out of core' : ''}.`,
    );
  }
  lines.push(`${Math.round(goal)} consumers (1.8×) would take about ${Math.ceil((goal / 1000) * total)} cores, ${Math.ceil((goal / 1000) * worker)} of them for the workers.`);
  return lines.join('\n');
}

function section(results: CaseResult[]): string {
  const recvBufferBytes = results[0]?.recvBufferBytes ?? 0;
  const ratio = ratioOf(results);
  const capacityLines = results.map((r) => `- **${plural(r.processes)}**: ${r.capacity} consumers (stopped: ${r.stoppedBecause})`);
  const tables = results.map((r) => `**${plural(r.processes)}** (machine ${cores(r.busyBefore)} busy just before the case)\n\n${table(r)}`).join('\n\n');
  const budget = cpuBudget(results);
  return `${HEADING}

How many audio consumers one media process (\`--role media\`, one mediasoup worker, so at most
one CPU core) serves at under ${pct(LOSS_LIMIT, 0)} loss, and how many two such processes serve together.
The goal is at least 1.8× from two.

**Method.** The media processes run in distributed mode (Redis on 127.0.0.1, a fresh key
prefix, deleted afterwards), one mediasoup worker each. Each has one meeting with
${PRODUCERS_PER_PROCESS} speakers and as many listeners as the step needs; every listener consumes every speaker
of its process (${PRODUCERS_PER_PROCESS} consumers on one plain RTP transport), so consumers grow by adding
listeners. The benchmark sets this up through the media processes' internal HTTP API
(\`registerParticipant\`, \`createPlainTransport\`, \`connectPlainTransport\`, \`produce\`,
\`consume\`). The media is plain RTP on 127.0.0.1 from bot child processes
(\`loadtest/rtp-bots.ts\`): one sender publishes each speaker as Opus-sized RTP (${PAYLOAD_BYTES}-byte
payload every ${PACKET_MS} ms, 50 packets/s), and one receiver per media process reads all its
consumers' packets on ${RECEIVE_SOCKETS_PER_PROCESS} sockets (${Math.round(recvBufferBytes / 2 ** 20)} MiB receive buffers each) and counts them per SSRC.
Consumers are added in steps, split evenly over the processes; each step is held
${WARMUP_MS / 1000} s unmeasured, then measured over ${HOLD_MS / 1000} s.

**Loss** is what did not arrive, from RTP sequence numbers (highest − previous highest against
packets received, summed over all consumers; a consumer that receives nothing loses all its
speaker sent), plus what arrived more than ${LATE_MS} ms after it was sent, which a jitter buffer
would drop too: a worker that cannot keep up first builds a queue (its input sockets hold
seconds of audio) and loses packets only later, so without this a step just over the
capacity could pass a short window. One-way delay is measured on one packet in eight
(clock in the payload; sender and receiver share the machine's monotonic clock). A step
over the limit is measured again, up to ${WINDOWS_PER_STEP} windows, and keeps its best window (other work on
the machine only adds loss); the capacity is the largest step under ${pct(LOSS_LIMIT, 0)}.

**Columns.** CPU is a share of one core over the measured window: the mediasoup worker(s),
the media processes' Node.js processes (without their workers), and all bot processes
together (sender and receivers). "Machine CPU" is the share of all cores busy, with softirq
(the kernel delivering packets over loopback) in brackets; "Other load" is the share of all
cores busy with work that is neither this run's processes nor softirq (other programs on
the machine). Drops are the kernel's counts of datagrams dropped for a full receive buffer,
at the workers' sockets and at the bots'. On a machine shared with other work, a step can
fail for that work rather than for the media processes (see "Other load" in the failing
row), and the capacities move by a step or two from run to run.

${tables}

${capacityLines.join('\n')}
- **Ratio, 2 : 1**: ${ratio === undefined ? 'n/a' : `${ratio.toFixed(2)}×`} (goal: at least 1.8×)

**What limits the ratio here.** Everything runs on one machine of ${os.availableParallelism()} cores: the bots, both
media processes, the kernel's packet delivery and Redis share them, and the bots are not
cheap: every packet a worker sends, a receiver reads, which costs it nearly as much CPU as
the worker spent sending it. ${budget ?? ''}
${
  ratio !== undefined && ratio < 1.8
    ? `So on this machine the two-process case measures the cores left over for the workers, not
what two workers can do: the ratio reflects this machine's ${os.availableParallelism()} cores rather than how the
media tier scales.`
    : 'Even so, the two-process case had the cores it needed on this run.'
} A measurement of the goal needs each worker on a core of its own and the
bots on other cores (or another machine): run the same command on a machine with at least
the cores computed above.

- Machine: ${machine()}
- Date: ${new Date().toISOString()}
- Revision: ${revision()}
- Command: \`${COMMAND}\` (Redis on 127.0.0.1:6379, or \`REDIS_URL\`; about 5 minutes)
`;
}


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
