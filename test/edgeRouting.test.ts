import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * What the public edges route: the Kubernetes ingress (deploy/k8s/base/ingress.yaml) and the
 * compose nginx (deploy/compose/nginx.conf) pass the client paths on, and keep /metrics, the
 * admin API and internal calls inside. Path matching follows each one's rules: Kubernetes'
 * Exact and element-wise Prefix, nginx's exact locations before the longest prefix.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PUBLIC = ['/', '/m/abc123', '/web/app.js', '/v1/meetings', '/v1/meetings/abc/join', '/v1/site', '/docs', '/docs/json', '/socket.io/?EIO=4&transport=websocket'];
const PRIVATE = ['/metrics', '/v1/admin/config', '/v1/admin', '/internal/media/rooms', '/healthz'];

interface IngressPath {
  path: string;
  pathType: 'Exact' | 'Prefix';
  backend: { service: { name: string } };
}

function ingressBackend(url: string): string | undefined {
  const ingress = parse(readFileSync(path.join(ROOT, 'deploy/k8s/base/ingress.yaml'), 'utf8')) as { spec: { rules: Array<{ http: { paths: IngressPath[] } }> } };
  const requestPath = url.split('?')[0]!;
  const elements = (p: string) => p.split('/').filter(Boolean);
  let best: IngressPath | undefined;
  for (const candidate of ingress.spec.rules.flatMap((r) => r.http.paths)) {
    const matches =
      candidate.pathType === 'Exact'
        ? candidate.path === requestPath
        : elements(candidate.path).every((element, i) => elements(requestPath)[i] === element);
    const longer = !best || candidate.path.length > best.path.length || (candidate.pathType === 'Exact' && best.pathType !== 'Exact');
    if (matches && longer) best = candidate;
  }
  return best?.backend.service.name;
}

function nginxLocation(url: string): string {
  const conf = readFileSync(path.join(ROOT, 'deploy/compose/nginx.conf'), 'utf8');
  const requestPath = url.split('?')[0]!;
  const blocks = [...conf.matchAll(/location\s+(=\s*)?(\S+)\s*\{([^}]*)\}/g)].map((m) => ({ exact: Boolean(m[1]), prefix: m[2]!, body: m[3]! }));
  const exact = blocks.find((b) => b.exact && b.prefix === requestPath);
  const prefix = blocks.filter((b) => !b.exact && requestPath.startsWith(b.prefix)).sort((a, b) => b.prefix.length - a.prefix.length)[0];
  return (exact ?? prefix)?.body ?? '';
}

describe('the public edges', () => {
  it('the ingress routes the client paths to api or push and nothing private', () => {
    for (const url of PUBLIC) expect(ingressBackend(url), url).toMatch(/^(api|push)$/);
    expect(ingressBackend('/socket.io/?EIO=4')).toBe('push');
    for (const url of PRIVATE) expect(ingressBackend(url), url).toBeUndefined();
  });

  it('the nginx edge proxies the client paths and answers 404 for metrics, admin and internal calls', () => {
    for (const url of PUBLIC) expect(nginxLocation(url), url).toMatch(/proxy_pass/);
    for (const url of ['/metrics', '/v1/admin/config', '/v1/admin', '/internal/media/rooms']) expect(nginxLocation(url), url).toMatch(/return 404;/);
  });
});
