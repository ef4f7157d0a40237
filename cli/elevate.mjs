#!/usr/bin/env node
/**
 * The `elevate` bin. In a checkout with the dev toolchain (tsx installed), it runs the TypeScript sources,
 * so it is never stale; anywhere else (a global install from a tarball or git) it runs the bundle that
 * `prepare` built (cli/dist/elevate.mjs), which needs nothing but Node 20.
 */
import { existsSync } from 'node:fs';

const bundle = new URL('./dist/elevate.mjs', import.meta.url);
const sources = new URL('./main.ts', import.meta.url);

async function tsx() {
  if (process.env.ELEVATE_CLI_BUNDLE === '1' || !existsSync(sources)) return undefined;
  try {
    return await import('tsx/esm/api');
  } catch {
    return undefined;
  }
}

const api = await tsx();
if (api) {
  api.register();
  await import(sources.href);
} else if (existsSync(bundle)) {
  await import(bundle.href);
} else {
  process.stderr.write('elevate: the CLI is not built: run `npm run build:cli` (or `npm ci`) in the elevate folder\n');
  process.exitCode = 1;
}
