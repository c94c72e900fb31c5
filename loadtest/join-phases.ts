import { performance } from 'node:perf_hooks';
import { Socket } from 'socket.io-client';
import { createMeeting, startServer } from '../test/support/server.ts';
import { type Bot, startBot } from './bot.ts';

/**
 * Where a join's time goes: the join-latency benchmark's burst (a publisher, then JOINS bots at
 * once), with each joiner's steps timed from the burst's start: the HTTP join, the socket's
 * connect, the `join` answer, the receive transport's connect, its own produce, and the first
 * RTP from the publisher. Prints percentiles per step for each round after an unprinted
 * warm-up round; nothing is written.
 *
 *   node --conditions=@convene/source loadtest/join-phases.ts            (20 joiners, publishing)
 *   JOINS=1 PUBLISH=0 ROUNDS=5 node --conditions=@convene/source loadtest/join-phases.ts
 *
 * The steps are read off the bots' socket.io requests (socket.io-client's Socket prototype is
 * wrapped in this process only), so the SDK itself is measured unchanged.
 */

const JOINS = Number(process.env.JOINS ?? 20);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const PUBLISH = process.env.PUBLISH !== '0';
// The join-latency benchmark's port and media ports: the two never run at once (both take the test lock).
const PORT = 3300;
const SERVER_ENV = { MEDIA_PORT_BASE: '47000', MEDIA_RTC_MIN_PORT: '47010', MEDIA_RTC_MAX_PORT: '47300' };

type Step = 'connected' | 'joinAnswered' | 'recvConnectSent' | 'recvConnectAnswered' | 'produceSent';
const STEPS: Array<[Step, string]> = [
  ['connected', 'socket connected'],
  ['joinAnswered', 'join answered'],
  ['recvConnectSent', 'receive transport connect sent'],
  ['recvConnectAnswered', 'receive transport connect answered'],
  ['produceSent', 'produce sent'],
];

/** First time each step happened, per socket. */
const steps = new Map<object, Partial<Record<Step, number>>>();
const httpJoins: number[] = [];

function mark(socket: object, step: Step): void {
  const marks = steps.get(socket) ?? {};
  marks[step] ??= performance.now();
  steps.set(socket, marks);
}

function instrument(): void {
  const proto = Socket.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const emitWithAck = proto.emitWithAck!;
  proto.emitWithAck = function (this: object, event: unknown, ...args: unknown[]) {
    // The first connect a joiner sends is its receive transport's: it consumes the join's consumers before it publishes.
    if (event === 'connectTransport') mark(this, 'recvConnectSent');
    if (event === 'produce') mark(this, 'produceSent');
    const answer = emitWithAck.call(this, event, ...args) as Promise<unknown>;
    return answer.finally(() => {
      if (event === 'join') mark(this, 'joinAnswered');
      if (event === 'connectTransport') mark(this, 'recvConnectAnswered');
    });
  };
  const onconnect = proto.onconnect!;
  proto.onconnect = function (this: object, ...args: unknown[]) {
    mark(this, 'connected');
    return onconnect.apply(this, args);
  };
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (...args: Parameters<typeof fetch>) => {
    const res = await realFetch(...args);
    if (String(args[0]).endsWith('/join')) httpJoins.push(performance.now());
    return res;
  }) as typeof fetch;
}

function line(label: string, times: number[], start: number): string {
  const sorted = times.map((t) => t - start).sort((a, b) => a - b);
  if (sorted.length === 0) return `  ${label.padEnd(36)} -`;
  const at = (p: number) => Math.round(sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!);
  return `  ${label.padEnd(36)} p50 ${String(at(50)).padStart(5)}  p95 ${String(at(95)).padStart(5)}  (n=${sorted.length})`;
}

async function main(): Promise<void> {
  instrument();
  const server = await startServer({ port: PORT, env: SERVER_ENV });
  try {
    // Round 0 warms the server up (its first meeting, router and worker paths) and is not printed, as in join-latency.ts.
    for (let round = 0; round <= ROUNDS; round++) {
      const meeting = await createMeeting(server.url, { title: 'join phases' });
      const publisher = await startBot({ baseUrl: server.url, meetingId: meeting.id, name: 'publisher', toneHz: 440 });
      const joiners: Bot[] = [];
      try {
        steps.clear();
        httpJoins.length = 0;
        const start = performance.now();
        joiners.push(
          ...(await Promise.all(
            Array.from({ length: JOINS }, (_, i) => startBot({ baseUrl: server.url, meetingId: meeting.id, name: `joiner-${i + 1}`, publish: PUBLISH, toneHz: 660 })),
          )),
        );
        const firstRtp = await Promise.all(joiners.map((bot) => bot.waitForRtp(publisher.client.participantId, 20_000)));
        // The publisher's own socket joined before the burst: only sockets that asked to join in it count.
        const marks = [...steps.values()].filter((m) => m.joinAnswered !== undefined);
        if (round === 0) continue;
        console.log(`round ${round}: ${JOINS} joins${PUBLISH ? '' : ', listen-only'}, ms from the burst's start`);
        console.log(line('HTTP join answered', httpJoins, start));
        for (const [step, label] of STEPS) console.log(line(label, marks.flatMap((m) => (m[step] === undefined ? [] : [m[step]])), start));
        console.log(line('first RTP from the publisher', firstRtp, start));
      } finally {
        await Promise.allSettled(joiners.map((bot) => bot.stop()));
        await publisher.stop();
      }
    }
  } finally {
    await server.stop();
  }
}

// An explicit exit, as in join-latency.ts: @roamhq/wrtc crashes Node's teardown once an RTCAudioSource existed.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
