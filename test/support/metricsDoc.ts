import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const OPERATIONS_MD = path.join(ROOT, 'docs/operations.md');

export interface DocumentedMetric {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  labels: string[];
  /** Roles that export it; 'every' for every process. */
  roles: string[];
  /** What a test call must show: some series above zero, or every series present and not negative. */
  expect: '> 0' | '≥ 0';
}

/** The metrics table of docs/operations.md's "## Metrics" section: what the code must export. */
export function documentedMetrics(file = OPERATIONS_MD): DocumentedMetric[] {
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf('\n## Metrics');
  if (start < 0) throw new Error(`${file} has no "## Metrics" section`);
  const end = text.indexOf('\n## ', start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  const metrics: DocumentedMetric[] = [];
  for (const line of section.split('\n')) {
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    const name = /^`(convene_[a-z0-9_]+)`$/.exec(cells[0] ?? '')?.[1];
    if (!name) continue;
    const [, type, labels, roles, expect] = cells;
    if (type !== 'counter' && type !== 'gauge' && type !== 'histogram') throw new Error(`${name}: unknown type "${type}" in ${file}`);
    if (expect !== '> 0' && expect !== '≥ 0') throw new Error(`${name}: "In a test call" must be "> 0" or "≥ 0", not "${expect}"`);
    metrics.push({
      name,
      type,
      labels: [...(labels ?? '').matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!),
      roles: (roles ?? '').split(',').map((r) => r.trim()),
      expect,
    });
  }
  if (metrics.length === 0) throw new Error(`no metrics found in the table of ${file}`);
  return metrics;
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text exposition: the samples, and each metric family's declared type. */
export function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const m of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return { samples, types };
}

/**
 * What is wrong with `metric` in one process's exposition, or null. A histogram is judged by
 * its `_count` series.
 */
export function checkMetric(metric: DocumentedMetric, exposition: ReturnType<typeof parseExposition>): string | null {
  const declared = exposition.types.get(metric.name);
  if (declared === undefined) return `${metric.name} is not exported`;
  if (declared !== metric.type) return `${metric.name} is a ${declared}, documented as a ${metric.type}`;
  const series = metric.type === 'histogram' ? `${metric.name}_count` : metric.name;
  const samples = exposition.samples.filter((s) => s.name === series);
  if (samples.length === 0) return `${metric.name} has no series`;
  for (const s of samples) {
    if (!Number.isFinite(s.value) || s.value < 0) return `${metric.name}${JSON.stringify(s.labels)} = ${s.value}`;
    const extra = Object.keys(s.labels).filter((l) => !metric.labels.includes(l));
    if (extra.length > 0) return `${metric.name} has undocumented labels ${extra.join(', ')}`;
  }
  if (metric.expect === '> 0' && !samples.some((s) => s.value > 0)) return `${metric.name} is 0 everywhere (${samples.length} series)`;
  return null;
}
