import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));

describe('the browser example', () => {
  it('bundles for the browser (a Node built-in would not resolve there), without zod', async () => {
    const result = await build({
      entryPoints: [path.join(here, 'browser/main.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      conditions: ['@convene/source'],
      write: false,
      logLevel: 'silent',
      metafile: true,
    });
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((input) => input.includes('sdk/src/ConveneClient.ts'))).toBe(true);
    // The SDK reads only the protocol's version at run time: zod stays out of browser bundles.
    expect(inputs.filter((input) => input.includes('node_modules/zod/'))).toEqual([]);
  });
});
