// Bundles the reference web client into web/dist: no CDN, no internet at run time.
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'dist');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [path.join(here, 'src/main.tsx')],
  bundle: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  platform: 'browser',
  // The SDK and protocol packages are bundled from their TypeScript sources (see their exports maps).
  conditions: ['@convene/source'],
  // Preact's automatic JSX runtime (tsconfig says the same to the type checker).
  jsx: 'automatic',
  jsxImportSource: 'preact',
  sourcemap: true,
  minify: process.env.NODE_ENV === 'production',
  outfile: path.join(out, 'app.js'),
  logLevel: 'warning',
});
for (const file of ['index.html', 'style.css', 'favicon.svg']) copyFileSync(path.join(here, 'src', file), path.join(out, file));
