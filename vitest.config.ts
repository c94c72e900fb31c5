import { defaultClientConditions, defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

/** The workspace packages (@convene/protocol, @convene/sdk) resolve to their TypeScript sources, no build needed. */
const SOURCE = '@convene/source';

export default defineConfig({
  resolve: { conditions: [SOURCE, ...defaultClientConditions] },
  ssr: { resolve: { conditions: [SOURCE, ...defaultServerConditions], externalConditions: [SOURCE] } },
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
