import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Media and browser tests bind fixed ports and spawn workers; running files one at a time
    // keeps a 2-core CI machine from oversubscribing.
    fileParallelism: false,
  },
});
