/**
 * The console's build: console/src/main.tsx (React, Cloudscape) bundled by esbuild (ES2022 modules split into the first
 * page's code and chunks loaded on first use, minified, no source in the page, no inline script), its CSS, and
 * index.html. `buildConsole()` answers the files in memory (the local runtime serves
 * them); `node --import tsx console/build.ts [DIR]` writes them (default console/dist) for a deployment, and
 * `node --import tsx console/build.ts --json FILE` writes them as one JSON document (`ConsoleBundle`: what the stack
 * deploys, infra/constructs/console-hosting.ts).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { isAssetPath } from './hosting.ts';

export interface ConsoleFile {
  body: Buffer;
  contentType: string;
}

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The built console: `/index.html`, `/assets/app.js` and `/assets/app.css` (what the first page loads),
 * `/assets/chunk-<hash>.js` (pages and code loaded on first use) and `/assets/signin.css` (the local sign-in page).
 */
export async function buildConsole(): Promise<Map<string, ConsoleFile>> {
  const result = await build({
    // `signin`: the console's own styles alone, for the local issuer's sign-in page (infra/local/oidc.ts).
    entryPoints: { app: join(here, 'src/main.tsx'), signin: join(here, 'src/app.css') },
    bundle: true,
    splitting: true,
    write: false,
    outdir: '/assets',
    chunkNames: 'chunk-[hash]',
    format: 'esm',
    target: 'es2022',
    jsx: 'automatic',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    tsconfig: join(here, 'tsconfig.json'),
  });
  const files = new Map<string, ConsoleFile>();
  files.set('/assets/app.css', { body: await allStyles(result.metafile), contentType: 'text/css; charset=utf-8' });
  for (const out of result.outputFiles) {
    // The styles of the chunks loaded on first use are in app.css (esbuild's chunk styles are not loaded by the page).
    if (out.path.endsWith('.css') && out.path !== '/assets/signin.css') continue;
    if (!isAssetPath(out.path)) throw new Error(`the console's build made ${out.path}, outside its asset paths`);
    const contentType = out.path.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
    files.set(out.path, { body: Buffer.from(out.contents), contentType });
  }
  files.set('/index.html', {
    body: readFileSync(join(here, 'index.html')),
    contentType: 'text/html; charset=utf-8',
  });
  return files;
}

/**
 * Every style the app and its chunks import, once each, in one file: the first page's styles first, then those the
 * chunks add (Cloudscape's class names are scoped, so what a chunk adds changes nothing already shown).
 */
async function allStyles(metafile: Metafile): Promise<Buffer> {
  const inputs: string[] = [];
  const outputs = Object.entries(metafile.outputs).filter(
    ([name]) => name.endsWith('.css') && !name.endsWith('signin.css'),
  );
  outputs.sort(([a], [b]) => Number(b.endsWith('/app.css')) - Number(a.endsWith('/app.css')));
  for (const [, out] of outputs)
    for (const input of Object.keys(out.inputs)) if (!inputs.includes(input)) inputs.push(input);
  const result = await build({
    stdin: {
      contents: inputs.map((input) => `@import ${JSON.stringify(resolve(input))};`).join('\n'),
      loader: 'css',
      resolveDir: here,
    },
    bundle: true,
    write: false,
    outfile: '/assets/app.css',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const css = result.outputFiles.find((f) => f.path.endsWith('.css'));
  if (!css) throw new Error("the console's build made no style");
  return Buffer.from(css.contents);
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
