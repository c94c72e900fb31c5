// Lints Dockerfiles offline with dockerfile-utils (the validator behind the VS Code Docker
// extension): unknown instructions, bad EXPOSE ports, malformed HEALTHCHECK/ENTRYPOINT, ...
// Usage: node lint-dockerfile.mjs FILE...   (dependencies from $CONVENE_DEPLOY_TOOLS, see check.sh)
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(`${process.env.CONVENE_DEPLOY_TOOLS ?? '/tmp/convene-deploy-tools'}/package.json`);
const { validate } = require('dockerfile-utils');
let failed = false;
for (const file of process.argv.slice(2)) {
  const problems = validate(readFileSync(file, 'utf8'));
  for (const p of problems) console.log(`${file}:${p.range.start.line + 1}: ${p.severity === 1 ? 'error' : 'warning'}: ${p.message}`);
  if (problems.some((p) => p.severity === 1)) failed = true;
  console.log(`${file}: ${problems.length} problem(s)`);
}
process.exit(failed ? 1 : 0);
