#!/usr/bin/env node
// Runs the compiled entry point (npm run build); `npm start` runs the TypeScript directly.
await import('../dist/main.js');
