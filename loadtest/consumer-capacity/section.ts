import os from 'node:os';
import { machine, revision } from '../report.ts';
import {
  COMMAND,
  HEADING,
  HOLD_MS,
  LATE_MS,
  LOSS_LIMIT,
  PACKET_MS,
  PAYLOAD_BYTES,
  PRODUCERS_PER_PROCESS,
  RECEIVE_SOCKETS_PER_PROCESS,
  WARMUP_MS,
  WINDOWS_PER_STEP,
} from './config.ts';
import { cores, pct, plural, ratioOf, sum, table } from './format.ts';
import type { CaseResult } from './measure.ts';

/** The `## Consumer capacity` section of docs/performance.md. */
/**
 * What the one-process case says about the machine as a whole: CPU per 1000 consumers (worker,
 * bots, kernel, media Node.js) at its largest step under the limit, what a worker with a core
 * of its own would carry, and how many consumers the machine's cores could carry at best with
 * the bots on them, however many media processes share them.
 */
export function cpuBudget(results: CaseResult[]): string | undefined {
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

export function section(results: CaseResult[]): string {
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
