// Init container of media and gateway-sip pods (components/announce-from-node): finds the address
// clients must send media to for the node this pod runs on, and writes it to ANNOUNCE_FILE for
// the main container (MEDIA_ANNOUNCED_ADDRESS / SIP_ANNOUNCED_ADDRESS).
//
// The downward API only offers the node's InternalIP (status.hostIP); a public address lives in
// the Node object, so this reads /api/v1/nodes/$NODE_NAME with the pod's service account
// (ClusterRole convene-announce-address: get nodes).
//
// ANNOUNCE_SOURCES: comma-separated, first match wins:
//   annotation:<key>   a node annotation, e.g. annotation:convene.io/announced-address
//                      (an elastic/floating IP, a 1:1 NAT address...)
//   label:<key>        a node label
//   ExternalIP | InternalIP | Hostname   from the node's status.addresses
// Refuses to start the pod when none matches: announcing a wrong address fails every call
// silently, a crash-looping pod is noticed.
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { isIP } from 'node:net';

const env = process.env;
const nodeName = env.NODE_NAME;
const sources = (env.ANNOUNCE_SOURCES ?? 'ExternalIP').split(',').map((s) => s.trim()).filter(Boolean);
const outFile = env.ANNOUNCE_FILE ?? '/run/convene/announced-address';
const saDir = env.SERVICE_ACCOUNT_DIR ?? '/var/run/secrets/kubernetes.io/serviceaccount';
const apiHost = env.KUBERNETES_SERVICE_HOST;
const apiPort = env.KUBERNETES_SERVICE_PORT ?? '443';

function fail(message) {
  process.stderr.write(`resolve-address: ${message}\n`);
  process.exit(1);
}

function getJson(path) {
  const options = {
    host: apiHost,
    port: apiPort,
    path,
    ca: readFileSync(`${saDir}/ca.crt`),
    headers: { authorization: `Bearer ${readFileSync(`${saDir}/token`, 'utf8').trim()}`, accept: 'application/json' },
    timeout: 10_000,
  };
  return new Promise((resolve, reject) => {
    const req = https.get(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`GET ${path}: HTTP ${res.statusCode} ${body.slice(0, 200)}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: timed out`)));
    req.on('error', reject);
  });
}

if (!nodeName) fail('NODE_NAME is not set (downward API spec.nodeName)');
if (!apiHost) fail('KUBERNETES_SERVICE_HOST is not set: not running in a pod?');

let node;
for (let attempt = 1; ; attempt++) {
  try {
    node = await getJson(`/api/v1/nodes/${encodeURIComponent(nodeName)}`);
    break;
  } catch (error) {
    if (attempt === 5) fail(error.message);
    await new Promise((r) => setTimeout(r, attempt * 1000));
  }
}

const addresses = node.status?.addresses ?? [];
for (const source of sources) {
  const [kind, ...rest] = source.split(':');
  const key = rest.join(':');
  let value;
  if (kind === 'annotation') value = node.metadata?.annotations?.[key];
  else if (kind === 'label') value = node.metadata?.labels?.[key];
  else value = addresses.find((a) => a.type === kind)?.address;
  value = value?.trim();
  if (!value) continue;
  if (kind !== 'Hostname' && isIP(value) === 0) fail(`${source} of node ${nodeName} is "${value}", not an IP address`);
  writeFileSync(outFile, `${value}\n`);
  process.stdout.write(`resolve-address: node ${nodeName}: ${source} -> ${value}\n`);
  process.exit(0);
}
fail(`node ${nodeName} has none of ${sources.join(', ')} (addresses: ${addresses.map((a) => `${a.type}=${a.address}`).join(' ') || 'none'})`);
