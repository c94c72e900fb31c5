/**
 * `npm run loadtest -- <profile>`: runs a named load profile against the target the environment
 * names (loadtest/target.ts), keeps its reports in loadtest/reports/<time>-<profile>/, and exits
 * non-zero on errors. Profiles: smoke (under a minute, for CI), signalling, fanout, media, soak.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROFILES } from './profiles.ts';
import { stopAllTargets } from './target.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<number> {
  const name = process.argv[2] ?? '';
  const profile = PROFILES[name];
  if (!profile) {
    console.error(`usage: npm run loadtest -- <profile>; profiles: ${Object.keys(PROFILES).join(', ')}`);
    return 2;
  }
  const dir = process.env.LOADTEST_REPORTS ?? path.join(ROOT, 'loadtest/reports', `${new Date().toISOString().replace(/[:.]/g, '-')}-${name}`);
  mkdirSync(dir, { recursive: true });
  console.log(`loadtest ${name}: reports in ${dir}`);
  const found = await profile(dir);
  if (found.length > 0) {
    console.error(`loadtest ${name}: FAILED\n  ${found.join('\n  ')}`);
    return 1;
  }
  console.log(`loadtest ${name}: passed`);
  return 0;
}

// An interrupted run stops the servers it started instead of leaving them running.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`loadtest: ${signal}, stopping the target`);
    stopAllTargets().then(
      () => process.exit(130),
      () => process.exit(130),
    );
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
