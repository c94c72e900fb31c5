// Offline validation of rendered Kubernetes manifests (`kubectl kustomize` output): every object
// against the Kubernetes OpenAPI schemas shipped in the npm package kubernetes-models, then
// Convene's own invariants (drain grace period vs MEDIA_DRAIN_TIMEOUT_MS, hostNetwork DNS policy,
// Guaranteed QoS, selectors, references, $(VAR) order, readiness on /readyz, liveness on /livez).
// Usage: node validate-k8s.mjs RENDERED.yaml   (dependencies from $CONVENE_DEPLOY_TOOLS, see check.sh)
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const tools = process.env.CONVENE_DEPLOY_TOOLS ?? '/tmp/convene-deploy-tools';
const { parseAllDocuments } = createRequire(`${tools}/package.json`)('yaml');

const file = process.argv[2];
const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJSON()).filter(Boolean);
let errors = 0;
const err = (what, msg) => {
  errors++;
  console.log(`  ERROR ${what}: ${msg}`);
};
if (docs.length === 0) err(file, 'no objects');
const id = (o) => `${o.kind}/${o.metadata?.name}`;

for (const obj of docs) {
  // kubernetes-models/<group>/<version>/<Kind>.js; the core group is kubernetes-models/v1.
  const modulePath = `${tools}/node_modules/kubernetes-models/${obj.apiVersion}/${obj.kind}.js`;
  let Model;
  try {
    Model = (await import(pathToFileURL(modulePath).href))[obj.kind];
  } catch (e) {
    err(id(obj), `no schema for ${obj.apiVersion} ${obj.kind} (${e.message})`);
    continue;
  }
  try {
    new Model(obj).validate();
  } catch (e) {
    err(id(obj), e.message.split('\n').slice(0, 6).join(' | '));
  }
}

// ---- invariants ------------------------------------------------------------------------
const byKind = (k) => docs.filter((d) => d.kind === k);
const names = (k) => new Set(byKind(k).map((d) => d.metadata.name));
const workloads = [...byKind('Deployment'), ...byKind('StatefulSet'), ...byKind('DaemonSet')];
const cms = names('ConfigMap'), secrets = names('Secret'), svcs = names('Service'), sas = names('ServiceAccount');
const externalSecrets = new Set();
const ns = new Set(docs.map((d) => d.metadata?.namespace).filter(Boolean));
if (ns.size > 1) err('namespaces', `more than one: ${[...ns]}`);

for (const w of workloads) {
  const pod = w.spec.template.spec;
  const all = [...(pod.initContainers ?? []), ...pod.containers];
  // selector matches template labels
  for (const [k, v] of Object.entries(w.spec.selector.matchLabels)) if (w.spec.template.metadata.labels?.[k] !== v) err(id(w), `selector ${k}=${v} not on the pod template`);
  if (pod.hostNetwork && pod.dnsPolicy !== 'ClusterFirstWithHostNet') err(id(w), 'hostNetwork without dnsPolicy ClusterFirstWithHostNet');
  if (pod.serviceAccountName && !sas.has(pod.serviceAccountName)) err(id(w), `serviceAccount ${pod.serviceAccountName} not rendered`);
  for (const c of all) {
    for (const ef of c.envFrom ?? []) {
      if (ef.configMapRef && !cms.has(ef.configMapRef.name)) err(id(w), `configMap ${ef.configMapRef.name} not rendered`);
      if (ef.secretRef && !secrets.has(ef.secretRef.name)) externalSecrets.add(ef.secretRef.name);
    }
    for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef && !secrets.has(e.valueFrom.secretKeyRef.name)) externalSecrets.add(e.valueFrom.secretKeyRef.name);
    for (const v of pod.volumes ?? []) if (v.secret && !secrets.has(v.secret.secretName)) externalSecrets.add(v.secret.secretName);
    for (const v of pod.volumes ?? []) if (v.configMap && v.configMap.name !== 'kube-root-ca.crt' && !cms.has(v.configMap.name)) err(id(w), `volume configMap ${v.configMap.name} not rendered`);
    for (const m of c.volumeMounts ?? []) if (!(pod.volumes ?? []).some((v) => v.name === m.name)) err(id(w), `${c.name} mounts unknown volume ${m.name}`);
    // env $(VAR) references must point at earlier entries of the same list
    const seen = new Set();
    for (const e of c.env ?? []) {
      for (const ref of String(e.value ?? '').matchAll(/(?<!\$)\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) if (!seen.has(ref[1])) err(id(w), `${c.name} env ${e.name} uses $(${ref[1]}) before it is defined`);
      seen.add(e.name);
    }
    if (!c.args?.includes('--role') && c.name === 'convene') err(id(w), 'convene container without --role');
  }
  const main = pod.containers.find((c) => c.name === 'convene');
  if (main) {
    // Readiness follows dependencies (Redis, workers, draining); liveness must not, or a Redis
    // outage would have every pod restarted.
    if (main.readinessProbe?.httpGet?.path !== '/readyz') err(id(w), 'readinessProbe not on /readyz');
    if (main.livenessProbe?.httpGet?.path !== '/livez') err(id(w), 'livenessProbe not on /livez');
    if (!main.resources?.requests) err(id(w), 'no resource requests');
    const envVal = (n) => main.env?.find((e) => e.name === n)?.value;
    const drain = envVal('MEDIA_DRAIN_TIMEOUT_MS');
    if (main.args.includes('media')) {
      if (!pod.hostNetwork) err(id(w), 'media without hostNetwork');
      const grace = pod.terminationGracePeriodSeconds ?? 30;
      if (!(grace * 1000 > Number(drain ?? 600000))) err(id(w), `terminationGracePeriodSeconds ${grace} <= MEDIA_DRAIN_TIMEOUT_MS ${drain}`);
      else console.log(`  ok ${id(w)}: grace ${grace}s > drain ${Number(drain) / 1000}s, workers ${envVal('MEDIA_WORKERS')}, replicas ${w.spec.replicas}`);
    }
    // Guaranteed QoS claimed? (cpu limit set) then every container must have requests == limits
    if (main.resources?.limits?.cpu) {
      for (const c of all) {
        const r = c.resources ?? {};
        for (const k of ['cpu', 'memory']) if (!r.limits?.[k] || String(r.limits[k]) !== String(r.requests?.[k] ?? r.limits[k])) err(id(w), `${c.name}: ${k} requests != limits, the pod is not Guaranteed`);
      }
    }
  }
}
for (const pdb of byKind('PodDisruptionBudget')) {
  const sel = pdb.spec.selector.matchLabels;
  if (!workloads.some((w) => Object.entries(sel).every(([k, v]) => w.spec.template.metadata.labels?.[k] === v))) err(id(pdb), 'selects no workload');
}
for (const hpa of byKind('HorizontalPodAutoscaler')) {
  const t = hpa.spec.scaleTargetRef;
  const w = workloads.find((x) => x.kind === t.kind && x.metadata.name === t.name);
  if (!w) err(id(hpa), `target ${t.kind}/${t.name} not rendered`);
  else if (w.spec.replicas !== undefined) err(id(hpa), `target ${t.name} also sets replicas`);
  else console.log(`  ok ${id(hpa)}: ${hpa.spec.minReplicas}-${hpa.spec.maxReplicas}`);
}
for (const s of byKind('Service')) {
  if (!workloads.some((w) => Object.entries(s.spec.selector ?? {}).every(([k, v]) => w.spec.template.metadata.labels?.[k] === v))) err(id(s), 'selects no workload');
}
for (const ing of byKind('Ingress')) for (const r of ing.spec.rules) for (const p of r.http.paths) if (!svcs.has(p.backend.service.name)) err(id(ing), `backend ${p.backend.service.name} not rendered`);
const cfg = byKind('ConfigMap').find((c) => c.metadata.name.startsWith('convene-config'));
// Convene refuses REDIS_URL together with REDIS_SENTINELS: catch it here rather than in a crash loop.
const renderedKeys = [...byKind('ConfigMap'), ...byKind('Secret')].filter((d) => d.metadata.name.startsWith('convene-')).flatMap((d) => Object.keys({ ...d.data, ...d.stringData }));
if (renderedKeys.includes('REDIS_SENTINELS') && renderedKeys.includes('REDIS_URL')) err('convene-config', 'REDIS_SENTINELS and REDIS_URL both set (choose one)');
if (cfg?.data?.REDIS_SENTINELS) console.log(`  redis: Sentinels ${cfg.data.REDIS_SENTINELS}, primary "${cfg.data.REDIS_SENTINEL_NAME ?? 'mymaster'}"`);
console.log(`  config: LOG_LEVEL=${cfg?.data?.LOG_LEVEL} PUBLIC_URL=${cfg?.data?.PUBLIC_URL}; namespace ${[...ns]}; ${docs.length} objects`);
if (externalSecrets.size) console.log(`  note: expects existing Secret(s) ${[...externalSecrets]} (created out of band)`);
console.log(errors ? `${file}: ${errors} error(s)` : `${file}: valid`);
process.exit(errors ? 1 : 0);
