/**
 * Rewrites the socket protocol tables in docs/architecture.md from the zod schemas
 * (`npm run docs:protocol`); with `--check`, only says whether they are current.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rewriteDocs } from './protocolDocs.ts';

const file = fileURLToPath(new URL('../../docs/architecture.md', import.meta.url));
const current = readFileSync(file, 'utf8');
const next = rewriteDocs(current);
if (process.argv.includes('--check')) {
  if (next !== current) {
    console.error('docs/architecture.md: the protocol tables differ from the schemas; run npm run docs:protocol');
    process.exitCode = 1;
  }
} else if (next !== current) {
  writeFileSync(file, next);
  console.log('docs/architecture.md: protocol tables rewritten');
} else console.log('docs/architecture.md: protocol tables already current');
