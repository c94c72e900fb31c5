import { readFileSync } from 'node:fs';
import os from 'node:os';
import { DELAY_BUCKET_US, type ReceiverSnapshot } from '../rtp-bots.ts';
import type { Bots } from './Bots.ts';
import { CLK_TCK, HOLD_MS, LATE_MS, sleep, WARMUP_MS } from './config.ts';
import { readStat } from './processes.ts';
import type { Consumer, MediaProcess } from './setup.ts';

/** A share as a percentage: here, because measuring names losses by it and format.ts reads these results. */
export const pct = (x: number, digits = 2) => `${(x * 100).toFixed(digits)}%`;

/** One measured window of a step: loss and delay from the receivers, CPU and drops from /proc. */
export interface CpuSample {
  at: number;
  ticks: Map<number, number>;
  machineBusy: number;
  machineSoftirq: number;
  machineTotal: number;
  /** CPU of this process (the benchmark's control loop), in µs. */
  ownMicros: number;
}

export function cpuSample(pids: number[]): CpuSample {
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
export function cpuShare(a: CpuSample, b: CpuSample, pid: number): number {
  return ((b.ticks.get(pid) ?? 0) - (a.ticks.get(pid) ?? 0)) / CLK_TCK / ((b.at - a.at) / 1000);
}

/** Drops counted by the kernel on UDP sockets bound to 127.0.0.1, by local port. */
export function udpDrops(): Map<number, number> {
  const drops = new Map<number, number>();
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13) continue;
    const port = Number.parseInt(f[1]!.split(':')[1]!, 16);
    drops.set(port, (drops.get(port) ?? 0) + Number(f[12]));
  }
  return drops;
}

export function sumDrops(a: Map<number, number>, b: Map<number, number>, ports: (port: number) => boolean): number {
  let n = 0;
  for (const [port, value] of b) if (ports(port)) n += value - (a.get(port) ?? 0);
  return n;
}

export interface StepResult {
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

export interface CaseResult {
  processes: number;
  steps: StepResult[];
  capacity: number;
  stoppedBecause: string;
  recvBufferBytes: number;
  /** Share of all cores busy just before the case started (other work on the machine). */
  busyBefore: number;
}

export function histogramPercentile(histogram: number[], p: number): number {
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
export interface Merged {
  ssrcs: number[];
  received: number[];
  highestSeq: number[];
  delayHistograms: number[][];
}

export async function snapshot(receivers: Bots[]): Promise<Merged> {
  const parts: ReceiverSnapshot[] = (await Promise.all(receivers.map((r) => r.request({ type: 'snapshot' }, 'snapshot')))).map((reply) => reply.snapshot);
  return {
    ssrcs: parts.flatMap((p) => p.ssrcs),
    received: parts.flatMap((p) => p.received),
    highestSeq: parts.flatMap((p) => p.highestSeq),
    delayHistograms: parts.map((p) => p.delayHistogram),
  };
}

export async function measure(
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
