/** Runs one artillery script as a child process and reads back its JSON report. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ARTILLERY = path.join(ROOT, 'node_modules/artillery/bin/run');
export const SCRIPTS = path.dirname(fileURLToPath(import.meta.url));

export interface Summary {
  min: number;
  max: number;
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface Period {
  counters: Record<string, number>;
  rates: Record<string, number>;
  summaries: Record<string, Summary>;
  firstMetricAt?: number;
  lastMetricAt?: number;
  period?: string | number;
}

export interface Report {
  aggregate: Period;
  intermediate: Period[];
}

export interface ArtilleryRun {
  script: string;
  target: string;
  /** Merged over the script's config (phases, payload, variables). */
  overrides?: Record<string, unknown>;
  output: string;
}

export async function runArtillery(run: ArtilleryRun): Promise<Report> {
  const args = [ARTILLERY, 'run', '--quiet', '--target', run.target, '--output', run.output];
  if (run.overrides) args.push('--overrides', JSON.stringify(run.overrides));
  args.push(path.join(SCRIPTS, run.script));
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    // No phoning home from a load test, and one worker: the seats file must not be dealt twice.
    env: { ...process.env, ARTILLERY_DISABLE_TELEMETRY: 'true', WORKERS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (chunk: Buffer) => {
    log += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    log += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`artillery ${run.script} exited with ${code}: ${log.slice(-4000)}`);
  return JSON.parse(readFileSync(run.output, 'utf8')) as Report;
}

/** What went wrong in a run: errors, failed users, HTTP answers other than 2xx. Timings are never a failure. */
export function problems(report: Report): string[] {
  const found: string[] = [];
  for (const [name, count] of Object.entries(report.aggregate.counters)) {
    if (count === 0) continue;
    if (name.startsWith('errors.') || name === 'vusers.failed') found.push(`${name}: ${count}`);
    const code = /^http\.codes\.(\d+)$/.exec(name)?.[1];
    if (code && !code.startsWith('2')) found.push(`${name}: ${count}`);
  }
  if (!report.aggregate.counters['vusers.completed']) found.push('no virtual user completed');
  return found;
}
