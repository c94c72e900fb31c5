import { defaultClientConditions, defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

/** The workspace packages (@convene/protocol, @convene/sdk) resolve to their TypeScript sources, no build needed. */
const SOURCE = '@convene/source';

export default defineConfig({
  resolve: { conditions: [SOURCE, ...defaultClientConditions] },
  // Not vite's `module` condition on the server: prom-client loads @opentelemetry/api when it is
  // installed (artillery brings it), and its `module` build has extensionless imports that Node
  // cannot load. Node itself picks the CommonJS build.
  ssr: { resolve: { conditions: [SOURCE, ...defaultServerConditions.filter((c) => c !== 'module')], externalConditions: [SOURCE] } },
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '**/dist/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Media and browser tests bind fixed ports and spawn workers; running files one at a time
    // keeps a 2-core CI machine from oversubscribing.
    fileParallelism: false,
  },
});
