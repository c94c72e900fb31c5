import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { internalKeyFrom } from '../../common/internalKey.ts';
import { type RunningServer, startServer } from '../../test/support/server.ts';
import type { SendStream } from '../rtp-bots.ts';
import { BenchMedia } from './BenchMedia.ts';
import { BenchSeats } from './BenchSeats.ts';
import { Bots } from './Bots.ts';
import {
  LOSS_LIMIT,
  NODE_SPECS,
  PACKET_MS,
  PAYLOAD_BYTES,
  PRODUCERS_PER_PROCESS,
  QUIET_BUSY,
  QUIET_WAIT_MS,
  RECEIVE_SOCKETS_PER_PROCESS,
  RECV_BUFFER_BYTES,
  REDIS_URL,
  SETUP_CONCURRENCY,
  STEPS,
  sleep,
  WINDOWS_PER_STEP,
} from './config.ts';
import { cores, msFmt, pct, stepRow } from './format.ts';
import { type CaseResult, cpuSample, measure, type StepResult } from './measure.ts';
import { alive, childPids, children, readStat } from './processes.ts';
import { addListener, addSpeakers, type Consumer, type MediaProcess, pool } from './setup.ts';

/** One case: N media processes, stepped up until loss passes the limit. */
/** Waits (boundedly) for the machine to be nearly idle; returns the share of all cores busy at the end. */
export async function waitForQuiet(): Promise<number> {
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

export async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', () => reject(new Error(`port ${port} is in use; stop whatever listens there first`)));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

export async function runCase(processes: 1 | 2, shared: { prefix: string; secret: string }): Promise<CaseResult> {
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
      const api = await BenchMedia.connect(spec.id, servers[n]!.url, key);
      const meetingId = `capacity-${spec.id}-${randomBytes(4).toString('hex')}`;
      await seats.meeting(meetingId);
      const { rtpCapabilities } = await api.call('getRouterRtpCapabilities', { meetingId });
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
      BenchMedia.calls = { count: 0, totalMs: 0, maxMs: 0 };
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
      console.log(`  ${stepRow(step, processes)}  setup ${(setupMs / 1000).toFixed(1)} s (${BenchMedia.calls.count} calls, mean ${msFmt(BenchMedia.calls.totalMs / Math.max(1, BenchMedia.calls.count))} ms, max ${msFmt(BenchMedia.calls.maxMs)} ms), control loop ${cores(step.controlCpu)}`);
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
