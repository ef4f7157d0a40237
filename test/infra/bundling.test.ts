import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCHEDULES } from '#functions/scheduled/schedules.ts';
import { buildApp } from '#infra/synth.ts';
import { FUNCTION_METADATA } from '#infra/template.ts';
import { FUNCTIONS } from '#shared/api/routes.ts';
import { isAssetPath } from '../../console/hosting.ts';

// Needs the handler entry files (functions/api/<fn>.ts, functions/bootstrap/handler.ts,
// functions/workflow/handler.ts, functions/scheduled/<fn>.ts): it bundles them
// with the local esbuild, offline, exactly as `cdk synth` does. It is the run's one bundling synth (every other
// test synthesizes with bundling off). One esbuild process per function, one after another: about 15 s of CPU,
// measured at 60 s of wall time on a 2-core machine at load 20, and at 250 s at load 20 with four test runs beside
// it; the timeout leaves room for more.
const BUNDLING_TIMEOUT_MS = 600_000;

describe('bundled synth', () => {
  it('bundles every function into minified ESM chunks with source maps; the SDK is bundled only into the audit export', {
    timeout: BUNDLING_TIMEOUT_MS,
  }, () => {
    // Prepare
    const { app, stack } = buildApp({ nag: false, cloudFormationValidation: false });

    // Act
    const assembly = app.synth();

    // Assess
    const bundles = readdirSync(assembly.directory).filter((name) => name.startsWith('asset.'));
    const withHandler = bundles.filter(
      (name) =>
        statSync(join(assembly.directory, name)).isDirectory() &&
        readdirSync(join(assembly.directory, name)).includes('index.mjs'),
    );
    // the API functions, the bootstrap handler, the console publisher, the workflow handler, the outbox publisher, the
    // mail feedback function and one per scheduled job
    expect(withHandler).toHaveLength(FUNCTIONS.length + 5 + SCHEDULES.length);
    // the console's build: one JSON document (console/build.ts ConsoleBundle) with index.html and its assets
    const consoleBuilds = readdirSync(assembly.directory).filter((name) => /^asset\.[0-9a-f]{64}\.json$/.test(name));
    expect(consoleBuilds).toHaveLength(1);
    const build = JSON.parse(readFileSync(join(assembly.directory, consoleBuilds[0] as string), 'utf8')) as Record<
      string,
      { contentType: string; body: string }
    >;
    const names = Object.keys(build);
    expect(names).toEqual(
      expect.arrayContaining(['/assets/app.css', '/assets/app.js', '/assets/signin.css', '/index.html']),
    );
    // the rest are the chunks of pages loaded on first use
    for (const name of names) expect(name === '/index.html' || isAssetPath(name), name).toBe(true);
    expect(Buffer.from(build['/index.html']?.body ?? '', 'base64').toString()).toContain('/assets/app.js');
    // which entry each bundle is (the function resources name their asset and their entry)
    const template = assembly.getStackArtifact(stack.artifactId).template as {
      Resources: Record<
        string,
        {
          Type: string;
          Metadata?: Record<string, unknown>;
          Properties?: { Code?: { S3Key?: unknown }; Environment?: { Variables?: Record<string, unknown> } };
        }
      >;
    };
    const entryOf = new Map<string, string>();
    for (const r of Object.values(template.Resources)) {
      // The bundles find the runtime's SDK (and the Slack layer's client) through the NODE_PATH the Lambda runtime
      // sets when the function does not: no function may set its own
      if (r.Type === 'AWS::Lambda::Function')
        expect(r.Properties?.Environment?.Variables ?? {}).not.toHaveProperty('NODE_PATH');
      const key = r.Properties?.Code?.S3Key;
      if (r.Type !== 'AWS::Lambda::Function' || typeof key !== 'string') continue;
      entryOf.set(`asset.${key.replace(/\.zip$/, '')}`, String(r.Metadata?.[FUNCTION_METADATA.entry]));
    }
    const sizes: Record<string, { initial: number; total: number }> = {};
    for (const name of withHandler) {
      const dir = join(assembly.directory, name);
      const entry = entryOf.get(name) ?? name;
      const files = readdirSync(dir).sort();
      // index.mjs and the chunks it loads, each with its source map, and nothing else
      const modules = files.filter((f) => f.endsWith('.mjs'));
      expect(files, entry).toEqual(modules.flatMap((f) => [f, `${f}.map`]).sort());
      const code = new Map(modules.map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
      // Each file's imports of the function's own chunks: every one is in the asset (no chunk missing or shared with
      // another function's asset); the static ones load at cold start, the dynamic ones on first use.
      const imports = (text: string, dynamic: boolean) =>
        [...text.matchAll(dynamic ? /import\(\s*"\.\/([^"]+)"\s*\)/g : /(?:from|import)\s*"\.\/([^"]+)"/g)].map(
          (m) => m[1] as string,
        );
      for (const [file, text] of code) {
        expect(text.startsWith("import { createRequire as __elevateCreateRequire } from 'node:module';"), file).toBe(
          true,
        );
        for (const chunk of [...imports(text, false), ...imports(text, true)]) {
          expect(modules, `${entry}: ${file} imports ${chunk}`).toContain(chunk);
        }
      }
      const initial = new Set(['index.mjs']);
      for (const file of initial) for (const chunk of imports(code.get(file) ?? '', false)) initial.add(chunk);
      const kbOf = (list: string[]) => Math.round(list.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0) / 1024);
      sizes[entry] = { initial: kbOf([...initial]), total: kbOf(modules) };
      const all = [...code.values()].join('\n');
      const atStart = [...initial].map((f) => code.get(f) ?? '').join('\n');
      // Slack's client is in no bundle: the functions that talk to Slack get it from the SlackClient layer
      expect(all.includes('https://slack.com/api/'), entry).toBe(false);
      // The packages left to the runtime are loaded through require (infra/constructs/require-externals.ts): no ESM
      // import of one is left, static or dynamic
      expect(all, entry).not.toMatch(/from\s*"@(aws-sdk|slack)\/|import\(\s*"@(aws-sdk|slack)\//);
      const loadedAtStart = (text: string) =>
        [...text.matchAll(/__elevateRequire\("(@aws-sdk\/[^"]+)"\)/g)].map((m) => m[1]);
      const importsSdk = loadedAtStart(all).length > 0;
      if (entry === 'functions/scheduled/audit-export.ts') {
        // its S3 writes run on the S3 SDK they were tested with; DynamoDB and Lambda are the runtime's, as everywhere
        expect(importsSdk, entry).toBe(true);
        expect(all).toContain('x-amz-checksum-');
        const fromRuntime = [...all.matchAll(/__elevate(?:Require|Import)\("(@aws-sdk\/[^"]+)"\)/g)].map((m) => m[1]);
        expect(
          fromRuntime.filter((name) => /s3|storage|presigner/.test(name ?? '')),
          entry,
        ).toEqual([]);
      } else {
        // the others leave the SDK to the Lambda runtime (small bundles, fast cold starts)
        expect(all.includes('x-amz-checksum-'), entry).toBe(false);
        // and load at cold start only DynamoDB's: every other client is imported on first use (shared/ports/lazy.ts),
        // so a job that may start an export (reconcile) does not load S3 or Lambda every 5 minutes
        const atColdStart = loadedAtStart(atStart);
        expect(
          atColdStart.filter((name) => !/^@aws-sdk\/(client|lib|util)-dynamodb$/.test(name ?? '')),
          entry,
        ).toEqual([]);
      }
    }
    // The split is real: the requests function's changes (requests.ts, approvals.ts and the graph behind them) load on
    // the first change, not at cold start.
    const requests = sizes['functions/api/requests.ts'];
    expect(requests?.initial).toBeLessThan((requests?.total ?? 0) - 40);
    expect(Object.keys(sizes)).toContain('functions/scheduled/audit-export.ts');
    // The SlackClient layer: @slack/web-api in one CommonJS file where the runtime's NODE_PATH finds it, and it loads
    const layers = bundles
      .map((name) => join(assembly.directory, name, 'nodejs', 'node_modules', '@slack', 'web-api'))
      .filter((dir) => existsSync(join(dir, 'index.js')));
    expect(layers).toHaveLength(1);
    const layer = layers[0] as string;
    const client = createRequire(join(layer, 'index.js'))(layer) as { WebClient?: unknown };
    expect(typeof client.WebClient).toBe('function');
    expect(statSync(join(layer, 'index.js')).size / 1024).toBeLessThan(600);
    // The size bar: 300 KB for what loads at cold start (issue 14's bar, from when a bundle was one file), and for all
    // of a function's code 320 KB (the chunks' import glue and banners, and code loaded only on first use, cost no
    // cold start; the reviews function is 303 KB in all with the campaign's batched apply, 2026-12-03). The audit
    // export carries the S3 SDK itself (about 705 KB).
    for (const [entry, kb] of Object.entries(sizes)) {
      const exportFn = entry === 'functions/scheduled/audit-export.ts';
      expect(kb.initial, entry).toBeLessThanOrEqual(exportFn ? 800 : 300);
      expect(kb.total, entry).toBeLessThanOrEqual(exportFn ? 800 : 320);
    }
  });
});
