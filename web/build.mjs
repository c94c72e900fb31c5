// Bundles the reference web client into web/dist: no CDN, no internet at run time.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
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
  // Minified unless asked for a development build (`npm run dev`): what people download is small.
  minify: process.env.NODE_ENV !== 'development',
  outfile: path.join(out, 'app.js'),
  logLevel: 'warning',
});
for (const file of ['index.html', 'style.css', 'favicon.svg']) copyFileSync(path.join(here, 'src', file), path.join(out, file));
// Compressed once here, served as they are (@fastify/static's preCompressed): a phone on a slow
// link downloads a fifth of the bytes, and the server spends no CPU compressing per request.
for (const file of ['app.js', 'style.css', 'favicon.svg']) {
  const body = readFileSync(path.join(out, file));
  writeFileSync(path.join(out, `${file}.br`), brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
  writeFileSync(path.join(out, `${file}.gz`), gzipSync(body, { level: 9 }));
}
