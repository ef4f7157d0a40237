/**
 * `npm run bench` (last part): the web console's speed (issue 16).
 * - Initial JavaScript: what index.html loads before the first page shows, i.e. app.js and the chunks it imports
 *   statically (recursively; chunks imported with `import()` are pages loaded on first use and not counted),
 *   gzipped (level 9, as a CDN would). Target <= 500 KB. app.css is given beside it (not JavaScript).
 * - Time to an interactive "My roles" with 50 assignments: the local runtime (startLocal: in-memory DynamoDB Local,
 *   the system clock) seeded through the API with 50 eligible assignments of one user; Chromium signed in already
 *   (the sign-in kept in the tab); each run navigates to `/` and measures, in the page, navigation start
 *   (performance.timeOrigin) → the table shows 50 rows and an Activate button is enabled (checked every frame).
 *   The HTTP cache is warm after the first run (a returning user); BENCH_CONSOLE_RUNS (9) runs, p50/p95.
 *   Target <= 1.5 s.
 * Printed, and merged into bench/results.json as `console`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { startLocal } from '#infra/local/server.ts';
import { launchBrowser, signIn } from '#test/support/browser.ts';
import { buildConsole, type ConsoleFile } from '../console/build.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.ELEVATE_LOG ??= 'error';

const HERE = dirname(fileURLToPath(import.meta.url));
const RUNS = Number(process.env.BENCH_CONSOLE_RUNS ?? 9);
const ASSIGNMENTS = 50;

/** app.js and every chunk it imports statically, recursively (not the `import()` of a lazy page). */
function initialScripts(files: Map<string, ConsoleFile>): string[] {
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    const file = files.get(path);
    if (!file) throw new Error(`the console's build has no ${path}`);
    seen.add(path);
    const code = file.body.toString('utf8');
    // Static imports, minified: `import{a as b}from"./chunk-X.js"` or `import"./chunk-X.js"`; `import("./…")`
    // (dynamic) has a parenthesis before the quote and is left out.
    for (const m of code.matchAll(/(?:\bfrom|\bimport)\s*"\.\/(chunk-[A-Z0-9]+\.js)"/g)) visit(`/assets/${m[1]}`);
  };
  visit('/assets/app.js');
  return [...seen];
}

const gz = (b: Buffer) => gzipSync(b, { level: 9 }).length;
const kb = (n: number) => Math.round((n / 1024) * 10) / 10;
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

// ---- initial JavaScript --------------------------------------------------------------------------------
const files = await buildConsole();
const initial = initialScripts(files);
const initialGzip = initial.reduce((sum, p) => sum + gz((files.get(p) as ConsoleFile).body), 0);
const initialRaw = initial.reduce((sum, p) => sum + (files.get(p) as ConsoleFile).body.length, 0);
const allJs = [...files].filter(([p]) => p.endsWith('.js'));
const allGzip = allJs.reduce((sum, [, f]) => sum + gz(f.body), 0);
const cssGzip = gz((files.get('/assets/app.css') as ConsoleFile).body);

// ---- time to an interactive "My roles" -----------------------------------------------------------------
const server = await startLocal({
  port: 0,
  dataDir: ':memory:',
  clock: 'system',
  log: false,
  bootstrapAdmins: ['admin'],
});
const browser = await launchBrowser();
const timings: number[] = [];
try {
  const adminToken = await server.issuer.mintToken({ sub: 'admin', mfa: true, ttl: 3600 });
  const call = async (path: string, body: unknown, expected: number) => {
    const res = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== expected) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  };
  await call('/v1/roles', { id: 'bench-console', displayName: 'Console bench', privileged: false }, 201);
  for (let i = 0; i < ASSIGNMENTS; i++) {
    await call(
      '/v1/requests',
      {
        action: 'adminAssign',
        assignmentType: 'eligible',
        principalId: 'bench-user',
        roleId: 'bench-console',
        scope: `/accounts/${String(100_000_000_000 + i)}`,
        justification: 'console bench',
      },
      201,
    );
  }
  const { page } = await signIn(browser, server.url, { sub: 'bench-user' });
  await page.setViewportSize({ width: 1280, height: 800 });
  // In the page, from its start (an init script: the CSP, which forbids eval, does not govern it; a string, as this
  // file is compiled without the DOM's types): every animation frame, until the table shows every row and an
  // Activate button is enabled; then the time since navigation start is kept in window.__myRolesReady.
  await page.addInitScript({
    content: `(() => {
      const check = () => {
        const rows = document.querySelectorAll('table tbody tr').length;
        const activate = [...document.querySelectorAll('button')].some(
          (b) => b.textContent.trim() === 'Activate' && !b.disabled,
        );
        if (rows >= ${ASSIGNMENTS} && activate) window.__myRolesReady = performance.now();
        else requestAnimationFrame(check);
      };
      requestAnimationFrame(check);
    })();`,
  });
  for (let run = 0; run < RUNS + 1; run++) {
    await page.goto('/', { waitUntil: 'commit' });
    let ms: number | undefined;
    const deadline = Date.now() + 60_000;
    while (ms === undefined) {
      if (Date.now() > deadline) throw new Error('"My roles" did not show 50 rows and an enabled Activate in 60 s');
      await new Promise((r) => setTimeout(r, 50));
      ms = (await page.evaluate('window.__myRolesReady')) as number | undefined;
    }
    // The first run fills the HTTP cache (and warms the server): not counted.
    if (run > 0) timings.push(Math.round(ms));
  }
} finally {
  await browser.close();
  await server.stop();
}
const sorted = [...timings].sort((a, b) => a - b);
const result = {
  measuredAt: new Date().toISOString(),
  loadAverage: loadavg()[0] ?? 0,
  initialJs: {
    files: initial,
    gzipKB: kb(initialGzip),
    rawKB: kb(initialRaw),
    targetKB: 500,
    allJsGzipKB: kb(allGzip),
    appCssGzipKB: kb(cssGzip),
  },
  myRolesInteractive: {
    assignments: ASSIGNMENTS,
    runs: timings.length,
    p50: pct(sorted, 50),
    p95: pct(sorted, 95),
    max: sorted.at(-1),
    targetMs: 1500,
    timings,
  },
};

console.log('\nconsole (issue 16)\n');
console.log(
  `initial JavaScript (${initial.length} files: ${initial.map((p) => p.replace('/assets/', '')).join(', ')}): ` +
    `${result.initialJs.gzipKB} KB gzipped (${result.initialJs.rawKB} KB raw), target <= 500 KB; ` +
    `all JavaScript ${result.initialJs.allJsGzipKB} KB gzipped; app.css ${result.initialJs.appCssGzipKB} KB gzipped`,
);
console.log(
  `"My roles" interactive with ${ASSIGNMENTS} assignments (navigation start -> 50 rows and an enabled Activate, ` +
    `warm HTTP cache, ${timings.length} runs): p50 ${result.myRolesInteractive.p50} ms, p95 ${result.myRolesInteractive.p95} ms, ` +
    `max ${result.myRolesInteractive.max} ms, target <= 1500 ms (load average ${result.loadAverage.toFixed(2)})`,
);

const file = join(HERE, 'results.json');
const all = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
all.console = result;
writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
