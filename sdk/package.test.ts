import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * What `npm publish` would ship: the built SDK and protocol, their README and package.json,
 * nothing else (no sources of other tiers, no tests, no server code). Builds both first.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function packed(dir: string): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: path.join(ROOT, dir), encoding: 'utf8' });
  const [result] = JSON.parse(out) as { files: { path: string }[] }[];
  return result!.files.map((f) => f.path).sort();
}

/** dist/X.js and dist/X.d.ts for every non-test module of src/. */
function builtFrom(dir: string): string[] {
  const modules = readdirSync(path.join(ROOT, dir, 'src')).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  return modules.flatMap((f) => [`dist/${f.replace(/\.ts$/, '.d.ts')}`, `dist/${f.replace(/\.ts$/, '.js')}`]);
}

// The SDK's build builds the protocol first.
beforeAll(() => {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: path.join(ROOT, 'sdk'), stdio: 'inherit' });
});

describe.each(['protocol', 'sdk'])('the %s package', (dir) => {
  it('packs its built modules, README and package.json only', () => {
    expect(packed(dir)).toEqual([...builtFrom(dir), 'README.md', 'package.json'].sort());
  });
});

describe('the built SDK', () => {
  it('type-checks a Node program that imports it without the source condition (its .d.ts as published)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'convene-sdk-dts-'));
    try {
      const config = {
        extends: path.join(ROOT, 'tsconfig.json'),
        compilerOptions: { customConditions: [], typeRoots: [path.join(ROOT, 'node_modules/@types')], types: ['node'] },
        files: [path.join(ROOT, 'sdk/examples/node/main.ts')],
      };
      writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(config));
      execFileSync(path.join(ROOT, 'node_modules/.bin/tsc'), ['-p', dir], { cwd: ROOT, encoding: 'utf8' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
