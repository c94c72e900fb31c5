/** A process's CPU time and memory from /proc (Linux), for benchmarks that watch a server they started. */
import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

export interface ProcessSample {
  /** performance.now() when read. */
  at: number;
  /** user + system CPU seconds since the process started. */
  cpuSeconds: number;
  rssBytes: number;
}

let ticks: number | undefined;
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

export async function sampleProcess(pid: number): Promise<ProcessSample> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const rssPages = Number(fields[21]);
  return { at: performance.now(), cpuSeconds: (utime + stime) / clockTicks(), rssBytes: rssPages * 4096 };
}

/** A process's direct children (a Node server's mediasoup workers, say). */
export async function childPids(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${pid}/task`);
  const children = await Promise.all(tasks.map((task) => readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '')));
  return children.flatMap((list) => list.trim().split(/\s+/).filter(Boolean).map(Number));
}
