/** What every benchmark writes beside its numbers: the machine, the revision, its section of the doc. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PERFORMANCE_DOC = path.join(ROOT, 'docs/performance.md');

export function machine(): string {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  let nproc = String(os.availableParallelism());
  try {
    nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    // nproc missing: availableParallelism is the same figure
  }
  return `${nproc} CPUs (nproc), ${model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${os.type()} ${os.release()}`;
}

export function revision(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} with uncommitted changes` : head;
  } catch {
    return 'unknown';
  }
}

/** Replaces the `## <heading>` section (up to the next `## `) or appends it; the rest stays as it is. */
export function writeSection(heading: string, body: string, doc = PERFORMANCE_DOC): void {
  const current = existsSync(doc) ? readFileSync(doc, 'utf8') : '# Performance\n';
  const escaped = heading.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const start = current.search(new RegExp(`^## ${escaped}[ \\t]*$`, 'm'));
  let next: string;
  if (start === -1) next = `${current.trimEnd()}\n\n${body}`;
  else {
    const after = current.slice(start + 1).search(/^## /m);
    const end = after === -1 ? current.length : start + 1 + after;
    next = `${current.slice(0, start)}${body}${end < current.length ? `\n${current.slice(end)}` : ''}`;
  }
  writeFileSync(doc, `${next.trimEnd()}\n`);
}
