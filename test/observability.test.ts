import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { documentedMetrics } from './support/metricsDoc.ts';

/**
 * deploy/observability offline: the alert rules pass `promtool check rules` and their unit tests
 * (`promtool test rules`), the Prometheus Operator's copy of them is the same, and neither the
 * alerts nor any dashboard panel asks for a metric that docs/operations.md does not list (the
 * list test/metrics.e2e.test.ts checks against live processes). Only the promtool steps need
 * Debian's `prometheus` package; they are skipped, saying so, where it is absent.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIR = path.join(ROOT, 'deploy/observability');
const ALERTS = path.join(DIR, 'alerts.yml');
const promtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
const kubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
if (!promtool) console.warn('promtool is absent (apt-get install prometheus): the promtool checks of deploy/observability are skipped');

type Rule = { alert?: string; record?: string; expr: string };
const alertRules = (): Rule[] => (parse(readFileSync(ALERTS, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);

interface Panel {
  title: string;
  targets?: Array<{ expr?: string }>;
}
const dashboards = () =>
  readdirSync(path.join(DIR, 'dashboards'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ file: f, dashboard: JSON.parse(readFileSync(path.join(DIR, 'dashboards', f), 'utf8')) as { uid: string; title: string; panels: Panel[] } }));

/** Every `convene_` name a PromQL expression reads. */
const namesIn = (expr: string) => [...expr.matchAll(/\b(convene_[a-z0-9_]+)\b/g)].map((m) => m[1]!);

/** Whether `name` is a documented metric, or a histogram's _bucket/_count/_sum series. */
function documented(name: string): boolean {
  return documentedMetrics().some((m) => m.name === name || (m.type === 'histogram' && ['_bucket', '_count', '_sum'].some((s) => name === m.name + s)));
}

function run(args: string[], cwd: string): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('deploy/observability', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'convene-observability-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it.skipIf(!promtool)('the alert rules pass promtool check rules', () => {
    const { status, output } = run(['check', 'rules', 'alerts.yml'], DIR);
    expect(status, output).toBe(0);
  });

  it.skipIf(!promtool)('every alert fires in its promtool unit test', () => {
    const { status, output } = run(['test', 'rules', 'alerts.test.yml'], DIR);
    expect(status, output).toBe(0);
    // Each alert is the subject of at least one test that expects it to fire.
    const tests = readFileSync(path.join(DIR, 'alerts.test.yml'), 'utf8');
    for (const rule of alertRules()) expect(tests, `no unit test for ${rule.alert}`).toMatch(new RegExp(`alertname: ${rule.alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`));
  });

  it.skipIf(!promtool)("every dashboard query is valid PromQL (checked as recording rules by promtool)", () => {
    const rules = dashboards().flatMap(({ dashboard }) =>
      dashboard.panels.flatMap((panel, p) => (panel.targets ?? []).filter((t) => t.expr).map((t, i) => ({ record: `dashboard:${dashboard.uid.replaceAll('-', '_')}:${p}_${i}`, expr: t.expr! }))),
    );
    expect(rules.length).toBeGreaterThan(20);
    writeFileSync(path.join(work, 'dashboards.rules.yml'), stringify({ groups: [{ name: 'dashboards', rules }] }));
    const { status, output } = run(['check', 'rules', 'dashboards.rules.yml'], work);
    expect(status, output).toBe(0);
  });

  it('alerts and dashboard panels query only metrics the code exports (docs/operations.md)', () => {
    const unknown: string[] = [];
    for (const rule of alertRules()) for (const name of namesIn(rule.expr)) if (!documented(name)) unknown.push(`alert ${rule.alert}: ${name}`);
    for (const { file, dashboard } of dashboards()) {
      for (const panel of dashboard.panels) {
        const exprs = (panel.targets ?? []).map((t) => t.expr ?? '');
        expect(exprs.length, `${file}: panel "${panel.title}" has no query`).toBeGreaterThan(0);
        for (const expr of exprs) for (const name of namesIn(expr)) if (!documented(name)) unknown.push(`${file} "${panel.title}": ${name}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it('each alert has a runbook entry in docs/operations.md', () => {
    const docs = readFileSync(path.join(ROOT, 'docs/operations.md'), 'utf8');
    for (const rule of alertRules()) expect(docs, `no runbook for ${rule.alert}`).toContain(`### ${rule.alert}\n`);
  });

  it("the Prometheus Operator's PrometheusRule carries exactly alerts.yml", () => {
    const operator = parse(readFileSync(path.join(ROOT, 'deploy/k8s/components/monitoring/prometheusrule.yaml'), 'utf8')) as { kind: string; spec: unknown };
    expect(operator.kind).toBe('PrometheusRule');
    expect(operator.spec).toEqual(parse(readFileSync(ALERTS, 'utf8')));
  });

  it.skipIf(!kubectl)('the monitoring component renders into an overlay and its PodMonitor selects every Convene pod', () => {
    // kustomize takes only relative paths: a throw-away overlay next to the real ones, adding the
    // component to dev as an overlay's own components list would.
    const dir = path.join(ROOT, 'deploy/k8s/overlays', `.monitoring-test-${process.pid}`);
    mkdirSync(dir);
    try {
      writeFileSync(path.join(dir, 'kustomization.yaml'), stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', namespace: 'convene-dev', resources: ['../dev'], components: ['../../components/monitoring'] }));
      const rendered = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
      expect(rendered.status, rendered.stderr).toBe(0);
      const objects = parseAllDocuments(rendered.stdout).map((d) => d.toJSON() as { kind: string; metadata: { namespace?: string }; spec: Record<string, unknown> });
      const monitor = objects.find((o) => o.kind === 'PodMonitor');
      expect(monitor?.metadata.namespace).toBe('convene-dev');
      expect(objects.some((o) => o.kind === 'PrometheusRule')).toBe(true);
      const selector = (monitor!.spec.selector as { matchLabels: Record<string, string> }).matchLabels;
      const workloads = objects.filter((o) => ['Deployment', 'StatefulSet'].includes(o.kind) && !JSON.stringify(o).includes('"redis'));
      expect(workloads.length).toBeGreaterThan(3);
      for (const workload of workloads) {
        const template = workload.spec.template as { metadata: { labels: Record<string, string> }; spec: { containers: Array<{ ports?: Array<{ name: string }> }> } };
        for (const [k, v] of Object.entries(selector)) expect(template.metadata.labels[k], JSON.stringify(template.metadata.labels)).toBe(v);
        expect(template.spec.containers.some((c) => c.ports?.some((p) => p.name === 'http'))).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
