import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The benchmark's settings: the cases, steps and limits, and where the media processes listen. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DOC = path.join(ROOT, 'docs/performance.md');
export const HEADING = '## Consumer capacity';
export const COMMAND = 'node loadtest/consumer-capacity.ts';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export const envInt = (name: string, fallback: number) => {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
};

/** Streams each media process routes: a meeting with this many speakers; everyone else listens to all of them. */
export const PRODUCERS_PER_PROCESS = envInt('CAPACITY_PRODUCERS', 4);
/** Total consumers of each step, over all media processes of the case. */
export const STEPS = (process.env.CAPACITY_STEPS ?? '400,800,1200,1600,2000,2400,2800,3200,4000,4800')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0);
export const CASES = (process.env.CAPACITY_CASES ?? '1,2').split(',').map(Number) as Array<1 | 2>;
export const PACKET_MS = 20;
export const PAYLOAD_BYTES = 160;
/** Packets of a step's first moments are not counted: new consumers, sockets and queues settle. */
export const WARMUP_MS = 2_000;
export const HOLD_MS = envInt('CAPACITY_HOLD_MS', 5_000);
export const LOSS_LIMIT = 0.01;
/** Before each case, wait up to this long for the machine to be under QUIET_BUSY busy. */
export const QUIET_WAIT_MS = 30_000;
export const QUIET_BUSY = 0.15;
/** Measurement windows a step gets at most when it is over the limit. */
export const WINDOWS_PER_STEP = 3;
/** Audio this late is as good as lost: a receiver's jitter buffer would have dropped it. */
export const LATE_MS = 200;
/** Receive sockets per media process; each listener transport sends to one of them. */
export const RECEIVE_SOCKETS_PER_PROCESS = 8;
export const RECV_BUFFER_BYTES = 4 * 1024 * 1024;
/** Internal API calls in flight at once while consumers are added. */
export const SETUP_CONCURRENCY = 12;
/** Nothing here should come close; if something hangs anyway, the run still ends. */
export const WATCHDOG_MS = 7 * 60_000;
export const CLK_TCK = 100;

export interface NodeSpec {
  id: string;
  port: number;
  portBase: number;
  rtcMin: number;
  rtcMax: number;
}

export const NODE_SPECS: NodeSpec[] = [
  { id: 'media-a', port: 3401, portBase: 48000, rtcMin: 48010, rtcMax: 48900 },
  { id: 'media-b', port: 3402, portBase: 49000, rtcMin: 49010, rtcMax: 49900 },
];

/** This run's Redis key prefix: its keys are deleted at the end, however the run ends. */
export const PREFIX = `bench-${randomBytes(4).toString('hex')}:`;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
