import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The deploy commands in their --dry-run mode, as CI runs them: each renders and validates
 * everything it would deploy (compose projects, kustomize overlays with strict schemas) offline.
 * Nothing here needs Docker, a cluster or a registry; `kubectl kustomize` renders the overlays.
 */
const deploy = path.resolve(import.meta.dirname);
const scratch = mkdtempSync(path.join(os.tmpdir(), 'convene-deploy-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const hasKubectl = has('kubectl');

function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const work = mkdtempSync(path.join(scratch, 'run-'));
  const result = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, CONVENE_DEPLOY_WORK: work, ...env }, timeout: 120_000 });
  return { code: result.status, out: `${result.stdout}${result.stderr}`, work };
}

const QA = {
  REGISTRY: 'registry.example.com/convene-qa',
  QA_CORE_SSH: 'deploy@198.18.0.5',
  QA_MEDIA_SSH: 'deploy@198.18.0.6',
  QA_CORE_IP: '198.18.0.5',
  QA_MEDIA_IP: '198.18.0.6',
  TAG: 'test',
};
const PROD = { REGISTRY: 'registry.example.com/convene', PUBLIC_HOST: 'meet.example.org', TLS_ISSUER: 'letsencrypt', TAG: 'test' };

describe('deploy commands, --dry-run', () => {
  it('dev renders and validates the one-host compose project', () => {
    const r = run(`${deploy}/dev`, ['--dry-run'], { CONVENE_HOST_IP: '198.18.0.10' });
    expect(r.out, r.out).toMatch(/\[profiles core,media\]: valid; services redis api-1 .*media-1 media-2 gateway-sip-1 coturn edge/);
    expect(r.code).toBe(0);
    const env = readFileSync(path.join(r.work, 'dev.env'), 'utf8');
    expect(env).toMatch(/^CONVENE_JWT_SECRET=[0-9a-f]{64}$/m);
    expect(env).toMatch(/^CONVENE_REDIS_HOST=127\.0\.0\.1$/m);
  });

  it('qa renders one compose project per host: core with Redis published for the media host, media reaching it there', () => {
    const r = run(`${deploy}/qa`, ['--dry-run'], QA);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/\[profiles core\]: valid; services redis api-1 api-2 push-1 push-2 meeting-1 files-1 edge\n/);
    expect(r.out).toMatch(/\[profiles media\]: valid; services media-1 media-2 gateway-sip-1 coturn\n/);
    expect(r.out).toContain('would run: docker push registry.example.com/convene-qa/convene:test');
    const media = readFileSync(path.join(r.work, 'qa-media.env'), 'utf8');
    expect(media).toMatch(/^CONVENE_REDIS_HOST=198\.18\.0\.5$/m);
    expect(media).toMatch(/^CONVENE_HOST_IP=198\.18\.0\.6$/m);
  });

  it('qa stops with a clear message when a precondition is missing', () => {
    const { QA_CORE_IP: _ip, ...withoutCore } = QA;
    const r = run(`${deploy}/qa`, ['--dry-run'], { ...withoutCore, QA_CORE_IP: '' });
    expect(r.code).toBe(1);
    expect(r.out).toContain('deploy: error: QA_CORE_IP is not set');
  });

  it.skipIf(!hasKubectl)('prod renders the overlay with this image, host and TLS, and validates it strictly', () => {
    const r = run(`${deploy}/prod`, ['--dry-run'], PROD);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('prod.yaml: valid');
    const rendered = readFileSync(path.join(r.work, 'prod.yaml'), 'utf8');
    expect(rendered).toContain('image: registry.example.com/convene/convene:test');
    expect(rendered).toContain('cert-manager.io/cluster-issuer: letsencrypt');
    expect(rendered).toContain('host: meet.example.org');
    expect(rendered).toContain('kind: ScaledObject');
  });

  it('prod refuses to run without TLS', () => {
    const { TLS_ISSUER: _tls, ...withoutTls } = PROD;
    const r = run(`${deploy}/prod`, ['--dry-run'], { ...withoutTls, TLS_ISSUER: '', TLS_SECRET: '' });
    expect(r.code).toBe(1);
    expect(r.out).toContain('deploy: error: no TLS');
  });
});

describe.skipIf(!hasKubectl)('every overlay renders and validates strictly', () => {
  const overlays = ['base', 'overlays/dev', 'overlays/dev-ha', 'overlays/qa', 'overlays/prod'];
  const render = (dir: string) => execFileSync('kubectl', ['kustomize', path.join(deploy, 'k8s', dir)], { encoding: 'utf8' });
  for (const dir of overlays) {
    it(dir, () => {
      const file = path.join(scratch, `${dir.replace('/', '-')}.yaml`);
      writeFileSync(file, render(dir));
      const r = run('node', [`${deploy}/tools/validate-k8s.mjs`, file]);
      expect(r.code, r.out).toBe(0);
    });
  }

  it('fails on misspelt fields: nodeSelektor, readOnlyRootFileSystem, stabilisationWindowSeconds', () => {
    const good = render('overlays/prod');
    const cases = {
      nodeSelektor: good.replace('      nodeSelector:', '      nodeSelektor:'),
      readOnlyRootFileSystem: good.replace('readOnlyRootFilesystem', 'readOnlyRootFileSystem'),
      stabilisationWindowSeconds: good.replace('stabilizationWindowSeconds', 'stabilisationWindowSeconds'),
    };
    for (const [field, text] of Object.entries(cases)) {
      expect(text, field).not.toBe(good);
      const file = path.join(scratch, `bad-${field}.yaml`);
      writeFileSync(file, text);
      const r = run('node', [`${deploy}/tools/validate-k8s.mjs`, file]);
      expect(r.code, `${field}: ${r.out}`).toBe(1);
      expect(r.out).toContain(`unknown field "${field}"`);
    }
  });

  it('fails on a ScaledObject whose target keeps fixed replicas, and on a misspelt KEDA field', () => {
    const good = render('overlays/prod');
    const cases = {
      replicas: good.replace(/(kind: Deployment\nmetadata:\n(?: {2}.*\n)*? {2}name: media\n(?:.*\n)*?spec:\n)/, '$1  replicas: 3\n'),
      maxReplicas: good.replace('maxReplicaCount: 20', 'maxReplicas: 20'),
    };
    expect(cases.replicas).not.toBe(good);
    const expected = { replicas: 'ScaledObject/media: target media also sets replicas', maxReplicas: 'unknown field "maxReplicas"' };
    for (const [what, text] of Object.entries(cases)) {
      const file = path.join(scratch, `bad-${what}.yaml`);
      writeFileSync(file, text);
      const r = run('node', [`${deploy}/tools/validate-k8s.mjs`, file]);
      expect(r.code, `${what}: ${r.out}`).toBe(1);
      expect(r.out).toContain(expected[what as keyof typeof expected]);
    }
  });
});

describe('custom resources of the Prometheus Operator', () => {
  const podMonitor = (field: string) => `apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: { name: convene }
spec:
  selector: { matchLabels: { app.kubernetes.io/name: convene } }
  podMetricsEndpoints:
    - port: http
      path: /metrics
      relabelings:
        - { sourceLabels: [__meta_kubernetes_pod_name], ${field}: instance }
`;
  const validate = (text: string) => {
    const file = path.join(scratch, `podmonitor-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, text);
    return run('node', [`${deploy}/tools/validate-k8s.mjs`, file]);
  };

  it('are validated strictly too', () => {
    expect(validate(podMonitor('targetLabel')).code).toBe(0);
    const bad = validate(podMonitor('targetLable'));
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('unknown field "targetLable"');
  });
});

describe('compose validation', () => {
  const compose = path.join(deploy, 'compose');
  const validate = (args: string[]) => run('node', [`${deploy}/tools/validate-compose.mjs`, ...args]);

  it('refuses a project without its required variables', () => {
    const empty = path.join(scratch, 'empty.env');
    writeFileSync(empty, '');
    const r = validate(['--env-file', empty, '--set', 'COMPOSE_PROFILES=core,media', '-f', `${compose}/docker-compose.yml`]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('required variable CONVENE_JWT_SECRET is missing');
  });

  it('refuses an unknown key', () => {
    const bad = path.join(scratch, 'bad-compose.yml');
    writeFileSync(bad, readFileSync(`${compose}/docker-compose.yml`, 'utf8').replace(/^ {2}init: true/m, '  inti: true'));
    const r = validate(['--env-file', `${compose}/env.example`, '-f', bad]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('must NOT have additional properties "inti"');
  });

  it('renders the Sentinel override and the embedded file', () => {
    expect(validate(['--env-file', `${compose}/env.example`, '-f', `${compose}/docker-compose.yml`, '-f', `${compose}/docker-compose.sentinel.yml`]).code).toBe(0);
    expect(validate(['--env-file', `${compose}/env.example`, '-f', `${compose}/docker-compose.embedded.yml`]).code).toBe(0);
  });
});

describe.skipIf(!has('shellcheck'))('shell scripts', () => {
  it('pass shellcheck', () => {
    const scripts = ['dev', 'qa', 'prod', 'lib.sh', 'check.sh'].map((f) => path.join(deploy, f));
    const r = spawnSync('shellcheck', ['-x', '-P', 'SCRIPTDIR', ...scripts], { encoding: 'utf8', cwd: deploy });
    expect(r.status, r.stdout).toBe(0);
    const sh = ['kamailio/sync-dispatcher.sh', 'kamailio/entrypoint.sh'].map((f) => path.join(deploy, f));
    const posix = spawnSync('shellcheck', ['-s', 'sh', ...sh], { encoding: 'utf8' });
    expect(posix.status, posix.stdout).toBe(0);
  });
});
