/**
 * The console's build: console/src/main.ts bundled by esbuild (ES2022 modules, minified, no source in the page, no
 * inline script), its CSS, and index.html. `buildConsole()` answers the files in memory (the local runtime serves
 * them); `node --import tsx console/build.ts [DIR]` writes them (default console/dist) for a deployment, and
 * `node --import tsx console/build.ts --json FILE` writes them as one JSON document (`ConsoleBundle`: what the stack
 * deploys, infra/constructs/console-hosting.ts).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export interface ConsoleFile {
  body: Buffer;
  contentType: string;
}

const here = dirname(fileURLToPath(import.meta.url));

/** The built console: `/index.html`, `/assets/app.js`, `/assets/app.css`. */
export async function buildConsole(): Promise<Map<string, ConsoleFile>> {
  const result = await build({
    entryPoints: { app: join(here, 'src/main.ts'), 'app-style': join(here, 'src/app.css') },
    bundle: true,
    write: false,
    outdir: '/assets',
    format: 'esm',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    tsconfig: join(here, 'tsconfig.json'),
  });
  const files = new Map<string, ConsoleFile>();
  for (const out of result.outputFiles) {
    const name = out.path.endsWith('.css') ? '/assets/app.css' : '/assets/app.js';
    const contentType = name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
    files.set(name, { body: Buffer.from(out.contents), contentType });
  }
  files.set('/index.html', {
    body: readFileSync(join(here, 'index.html')),
    contentType: 'text/html; charset=utf-8',
  });
  return files;
}

/** The built files as one document: path → content type and base64 body. */
export type ConsoleBundle = Record<string, { contentType: string; body: string }>;

export const toBundle = (files: Map<string, ConsoleFile>): ConsoleBundle =>
  Object.fromEntries(
    [...files].map(([name, f]) => [name, { contentType: f.contentType, body: f.body.toString('base64') }]),
  );

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv[2] === '--json') {
  const file = process.argv[3] ?? join(here, 'dist', 'console.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(toBundle(await buildConsole())));
  console.log(`console built into ${file}`);
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = process.argv[2] ?? join(here, 'dist');
  for (const [name, file] of await buildConsole()) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), file.body);
  }
  console.log(`console built into ${dir}`);
}
