import { LATE_MS } from './config.ts';
import { type CaseResult, pct, type StepResult } from './measure.ts';

export { pct };

/** Numbers and tables as the console and docs/performance.md show them. */
export const cores = (x: number) => `${Math.round(x * 100)}%`;
export const msFmt = (x: number) => (Number.isNaN(x) ? '–' : x >= 999 ? '≥ 1000' : x < 10 ? x.toFixed(1) : Math.round(x).toString());

export function stepRow(s: StepResult, processes: number): string {
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

export function table(r: CaseResult): string {
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



export function ratioOf(results: CaseResult[]): number | undefined {
  const one = results.find((r) => r.processes === 1)?.capacity;
  const two = results.find((r) => r.processes === 2)?.capacity;
  return one && two ? two / one : undefined;
}

export const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
export const plural = (n: number) => `${n} media process${n > 1 ? 'es' : ''}`;
