#!/usr/bin/env node
/**
 * `npm run build:cli` (also run by `prepare`, so by `npm ci`, `npm pack` and git installs): bundle cli/ into
 * one ESM file with no runtime dependencies, cli/dist/elevate.mjs, which cli/elevate.mjs runs when the
 * TypeScript toolchain is not installed (a global install). `node cli/build.mjs OUTFILE` writes elsewhere.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const outfile = process.argv[2] ?? fileURLToPath(new URL('./dist/elevate.mjs', import.meta.url));
await build({
  entryPoints: [fileURLToPath(new URL('./main.ts', import.meta.url))],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  legalComments: 'none',
  // `yaml` (policy as code) is CommonJS under Node: give its require() of Node's built-ins one in the ESM bundle.
  banner: {
    js: "import { createRequire as __elevateRequire } from 'node:module'; const require = __elevateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
