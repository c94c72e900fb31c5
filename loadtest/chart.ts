/** Charts for docs/performance.md: a vega-lite spec rendered to SVG in Node by vega's headless view. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CHARTS = path.join(ROOT, 'docs/charts');

/** Writes docs/charts/<name>.svg and answers the Markdown that shows it from docs/performance.md. */
export async function writeChart(name: string, title: string, spec: TopLevelSpec): Promise<string> {
  const size = 'vconcat' in spec ? {} : { width: 560, height: 260 };
  const full = { ...size, background: 'white', ...spec, title } as TopLevelSpec;
  const view = new View(parse(compile(full).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  mkdirSync(CHARTS, { recursive: true });
  writeFileSync(path.join(CHARTS, `${name}.svg`), svg);
  return `![${title}](charts/${name}.svg)`;
}

/** Several series over one x axis, one line each: `rows` are long-form {x, series, y}. */
export function lines(rows: Array<Record<string, unknown>>, axes: { x: string; y: string; series: string; xTitle: string; yTitle: string }): TopLevelSpec {
  return {
    data: { values: rows },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: axes.x, type: 'quantitative', title: axes.xTitle },
      y: { field: axes.y, type: 'quantitative', title: axes.yTitle },
      color: { field: axes.series, type: 'nominal', title: null, legend: { orient: 'bottom', columns: 3, labelLimit: 300 } },
    },
  } as TopLevelSpec;
}

/** Charts one above the other, each with its own y axis (CPU over loss, say). */
export function stacked(charts: TopLevelSpec[]): TopLevelSpec {
  return { vconcat: charts.map((c) => ({ width: 560, height: 160, ...c })), resolve: { scale: { color: 'independent' } } } as TopLevelSpec;
}
