// Offline validation of rendered Kubernetes manifests (`kubectl kustomize` output), strict:
//  1. types and required fields: every object against the Kubernetes OpenAPI schemas shipped in
//     the npm package kubernetes-models (KEDA's ScaledObject: @kubernetes-models/keda);
//  2. unknown fields are errors (kubectl's --validate=strict, kubeconform -strict): every key of
//     every object is looked up in the field lists of @kubernetes/client-node's generated models
//     (the same OpenAPI), and for KEDA in schemas/keda.sh-v1alpha1.json; a misspelt field such as
//     `nodeSelektor`, which Kubernetes would silently drop, fails here;
//  3. Convene's own invariants (drain grace periods, hostNetwork DNS policy, Guaranteed QoS,
//     selectors, references, $(VAR) order, probes, autoscaler targets).
// Usage: node deploy/tools/validate-k8s.mjs RENDERED.yaml [...]   (npm packages: devDependencies)
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

// Its models by name (V1PodSpec...): each lists its fields with their types.
const kube = await import('@kubernetes/client-node');
const files = process.argv.slice(2);
const docs = files.flatMap((file) => parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJSON()).filter(Boolean));
const file = files.join(' ');
let errors = 0;
const err = (what, msg) => {
  errors++;
  console.log(`  ERROR ${what}: ${msg}`);
};
if (docs.length === 0) err(file, 'no objects');
const id = (o) => `${o.kind}/${o.metadata?.name}`;

// Schemas of custom resources: kind -> module, field lists for the unknown-field walk.
const crds = {
  'keda.sh/v1alpha1': { module: (kind) => `@kubernetes-models/keda/keda.sh/v1alpha1/${kind}`, fields: fieldLists('keda.sh-v1alpha1') },
  'monitoring.coreos.com/v1': { module: (kind) => `@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${kind}`, fields: fieldLists('monitoring.coreos.com-v1') },
};
function fieldLists(name) {
  return JSON.parse(readFileSync(new URL(`./schemas/${name}.json`, import.meta.url), 'utf8'));
}

for (const obj of docs) {
  if (!obj.apiVersion || !obj.kind) {
    err(id(obj), 'no apiVersion or kind');
    continue;
  }
  const crd = crds[obj.apiVersion];
  // kubernetes-models/<group>/<version>/<Kind>; the core group is kubernetes-models/v1.
  const modulePath = crd ? crd.module(obj.kind) : `kubernetes-models/${obj.apiVersion}/${obj.kind}`;
  let Model;
  try {
    Model = (await import(modulePath))[obj.kind];
  } catch (e) {
    err(id(obj), `no schema for ${obj.apiVersion} ${obj.kind} (${e.message})`);
    continue;
  }
  try {
    new Model(obj).validate();
  } catch (e) {
    err(id(obj), e.message.split('\n').slice(0, 6).join(' | '));
  }
  for (const problem of unknownFields(obj, crd)) err(id(obj), problem);
}

/** Every key of `obj` that its type does not have, as `path: unknown field "key"`. */
function unknownFields(obj, crd) {
  const version = obj.apiVersion.split('/').pop();
  const root = crd ? obj.kind : `${version[0].toUpperCase()}${version.slice(1)}${obj.kind}`;
  const fieldsOf = (type) => {
    if (crd?.fields[type]) return Object.entries(crd.fields[type]).map(([name, t]) => ({ baseName: name, type: t }));
    return kube[type]?.getAttributeTypeMap?.();
  };
  if (!fieldsOf(root)) return [`no field list for ${root}: cannot check for unknown fields`];
  const problems = [];
  const walk = (value, type, path) => {
    if (value === null || value === undefined) return;
    let m = type.match(/^Array<(.+)>$/);
    if (m) {
      if (Array.isArray(value)) for (const [i, v] of value.entries()) walk(v, m[1], `${path}[${i}]`);
      return;
    }
    m = type.match(/^\{ \[key: string\]: (.+); \}$/);
    if (m) {
      if (typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, m[1], `${path}.${k}`);
      return;
    }
    const fields = fieldsOf(type);
    if (!fields || typeof value !== 'object' || Array.isArray(value)) return; // scalars, IntOrString, any
    const byName = new Map(fields.map((f) => [f.baseName, f.type]));
    for (const [k, v] of Object.entries(value)) {
      const t = byName.get(k);
      if (t === undefined) problems.push(`${path || '.'}: unknown field "${k}" (${type})`);
      else walk(v, t, `${path}.${k}`);
    }
  };
  walk(obj, root, '');
  return problems;
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
      else console.log(`  ok ${id(w)}: grace ${grace}s > drain ${Number(drain) / 1000}s, workers ${envVal('MEDIA_WORKERS')}, replicas ${w.spec.replicas ?? 'autoscaled'}`);
    }
    // Gateways drain on SIGTERM too (503 to new calls): the grace period must outlast it.
    if (main.args.includes('gateway-sip')) {
      const sipDrain = Number(envVal('SIP_DRAIN_TIMEOUT_MS') ?? 600000);
      const grace = pod.terminationGracePeriodSeconds ?? 30;
      if (!(grace * 1000 > sipDrain)) err(id(w), `terminationGracePeriodSeconds ${grace} <= SIP_DRAIN_TIMEOUT_MS ${sipDrain}`);
    }
    // The pod-deletion-cost patcher needs who the pod is and a token of an account that may patch pods.
    if (envVal('K8S_POD_DELETION_COST') === 'true') {
      for (const n of ['POD_NAME', 'POD_NAMESPACE']) if (!main.env.some((e) => e.name === n)) err(id(w), `K8S_POD_DELETION_COST without ${n}`);
      const tokenMounted = (main.volumeMounts ?? []).some((m) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount');
      if (!tokenMounted && pod.automountServiceAccountToken === false) err(id(w), 'K8S_POD_DELETION_COST without an API token in the container');
      const patchers = byKind('RoleBinding').filter((b) => b.subjects?.some((s) => s.kind === 'ServiceAccount' && s.name === pod.serviceAccountName));
      if (!patchers.some((b) => byKind('Role').find((r) => r.metadata.name === b.roleRef.name)?.rules.some((r) => r.resources.includes('pods') && r.verbs.includes('patch')))) {
        err(id(w), `K8S_POD_DELETION_COST but ServiceAccount ${pod.serviceAccountName ?? 'default'} may not patch pods`);
      }
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
// KEDA makes an HPA per ScaledObject: a target must not also have a plain HPA, nor fixed replicas.
for (const so of byKind('ScaledObject')) {
  const t = so.spec.scaleTargetRef;
  const kind = t.kind ?? 'Deployment';
  const w = workloads.find((x) => x.kind === kind && x.metadata.name === t.name);
  if (!w) err(id(so), `target ${kind}/${t.name} not rendered`);
  else if (w.spec.replicas !== undefined) err(id(so), `target ${t.name} also sets replicas`);
  else if (byKind('HorizontalPodAutoscaler').some((h) => h.spec.scaleTargetRef.name === t.name && h.spec.scaleTargetRef.kind === kind)) err(id(so), `target ${t.name} also has an HPA`);
  else if (kind === 'StatefulSet') err(id(so), `target ${t.name} is a StatefulSet: it scales in from its highest ordinal and ignores pod-deletion-cost`);
  else console.log(`  ok ${id(so)}: ${so.spec.minReplicaCount}-${so.spec.maxReplicaCount} on ${so.spec.triggers.map((x) => x.name ?? x.type).join(', ')}`);
  for (const trigger of so.spec.triggers) {
    if (trigger.type === 'prometheus' && !/namespace="[^"]+"/.test(trigger.metadata.query ?? '')) err(id(so), `trigger ${trigger.name}: the query must select this environment's namespace`);
  }
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
