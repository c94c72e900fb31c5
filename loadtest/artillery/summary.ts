/** One line per scenario for the console: requests, rates and latency percentiles. */
import type { Period, Summary } from './artillery.ts';
import type { LoadResult } from './load.ts';

const ms = (s: Summary | undefined) => (s ? `p50 ${s.p50} / p95 ${s.p95} / p99 ${s.p99} ms (n=${s.count})` : 'no samples');

export function endpointSummaries(period: Period): Record<string, Summary> {
  const prefix = 'plugins.metrics-by-endpoint.response_time.';
  return Object.fromEntries(Object.entries(period.summaries).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}

export function summarize(result: LoadResult): string {
  const lines = [`api: ${result.api.aggregate.counters['http.requests'] ?? 0} requests, ${ms(result.api.aggregate.summaries['http.response_time'])}`];
  for (const [name, summary] of Object.entries(endpointSummaries(result.api.aggregate))) lines.push(`  ${name}: ${ms(summary)}`);
  result.signalling.forEach((report, i) => {
    const c = report.aggregate.counters;
    lines.push(`signalling via push ${i + 1}: ${c['vusers.completed'] ?? 0} users, ${c['socketio.emit'] ?? 0} emits, ${ms(report.aggregate.summaries['socketio.response_time'])}`);
  });
  return lines.join('\n');
}
