/**
 * Bundle sizes and cold init of the synthesized Lambda bundles, each against an SDK-only floor bundle.
 *
 * Bundles come from `cdk synth` (./cdk.out when it is newer than every source file, else a private synth
 * under node_modules/.cache, so a concurrent `npm run synth` is never disturbed). A cold init is a fresh
 * `node` process that imports the bundle and makes one handler call; the bundles keep `@aws-sdk/*`
 * external, and both cdk.out and node_modules/.cache lie inside the repo, so Node resolves the SDK from
 * the repo's node_modules as the Lambda runtime would from its own.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { z } from 'zod';
import { HOUSE_BUILD_OPTIONS } from '#infra/constructs/app-function.ts';
import { requireExternalsInDir } from '#infra/constructs/require-externals.ts';
import { summarize } from './measure.ts';

export interface ColdInput {
  root: string;
  /** The per-function call to make once after import; absent: size only. */
  events: Record<string, unknown>;
  /** Event for the floor bundle's one call (a GetItem key), used for functions that talk to DynamoDB. */
  baselineKey: Record<string, string>;
  /**
   * Per function, a second floor: the floor bundle replaying that function's minimal plan for its call (`queries`, all
   * at once), so that the ratio counts only what the function adds to the SDK work its call needs.
   */
  planFloors?: Record<string, { plan: string; event: unknown }>;
  env: Record<string, string>;
  runs: number;
}

export interface ColdTimes {
  /** Median over runs: import of the bundle (module evaluation, client construction). */
  importMs: number;
  /** Median: the first handler call. */
  firstCallMs: number;
  /** Median: import + first call (the figure the ratio uses). */
  initMs: number;
  /** Median: from process start to the first response (includes Node's own start-up). */
  sinceStartMs: number;
  /**
   * Median: CPU time (user + system, every thread of the process) of the import and the first call. Less swayed than
   * the wall-clock times by other processes on a loaded machine (it still counts the waits for a shared CPU cache).
   */
  cpuMs: number;
  status: number | null;
}

export interface ColdRow {
  fn: string;
  asset: string;
  /** What loads at cold start: index.mjs and the chunks it imports statically (source maps not counted). */
  sizeKB: number;
  /** All of the function's code: index.mjs and every chunk, those loaded on first use included. */
  totalKB: number;
  cold?: ColdTimes;
  floor?: 'sdk import only' | 'sdk import + 1 GetItem';
  ratio?: number;
  /** `cold.cpuMs` / the floor's. */
  cpuRatio?: number;
  /** Against the floor bundle replaying the function's minimal plan (ColdInput.planFloors). */
  planFloor?: { plan: string; cold: ColdTimes; ratio: number; cpuRatio: number };
  error?: string;
}

export interface ColdResult {
  source: string;
  /** The Node version the cold children ran on (BENCH_NODE, else the bench's own). */
  node?: string;
  synthMs?: number;
  baseline?: { sizeKB: number; importOnly: ColdTimes; withGetItem: ColdTimes };
  rows: ColdRow[];
  error?: string;
}

const Template = z.object({
  Resources: z.record(
    z.string(),
    z.object({
      Type: z.string(),
      Metadata: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
});

/** Newest modification time under the inputs of a synth (sources, lock file, cdk.json). */
function newestSource(root: string): number {
  let newest = 0;
  for (const dir of ['functions', 'shared', 'infra']) {
    const base = join(root, dir);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base, { recursive: true, encoding: 'utf8' })) {
      newest = Math.max(newest, statSync(join(base, name)).mtimeMs);
    }
  }
  for (const file of ['package.json', 'package-lock.json', 'cdk.json']) {
    const path = join(root, file);
    if (existsSync(path)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** A cloud assembly with bundles that match the current sources: reused if fresh, else synthesized. */
function assembly(root: string): { dir: string; source: string; synthMs?: number } {
  const shared = join(root, 'cdk.out');
  const manifest = join(shared, 'manifest.json');
  if (existsSync(manifest) && statSync(manifest).mtimeMs > newestSource(root)) {
    return { dir: shared, source: 'reused ./cdk.out (newer than every source)' };
  }
  const dir = join(root, 'node_modules', '.cache', 'elevate-bench', 'cdk.out');
  const started = performance.now();
  const out = spawnSync('npx', ['cdk', 'synth', '--quiet', '--output', dir], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 600_000, // a loaded 2-core machine takes minutes
  });
  const synthMs = performance.now() - started;
  if (out.status !== 0) {
    const tail = `${out.stdout ?? ''}\n${out.stderr ?? ''}`.trim().split('\n').slice(-8).join('\n');
    throw new Error(`npx cdk synth --quiet failed (exit ${out.status ?? out.signal}):\n${tail}`);
  }
  return { dir, source: `npx cdk synth --quiet --output ${dir}`, synthMs };
}

/** `ApiAccessFunction7BEB2342` → `access`; `BootstrapHandler7B31C7A5` → `bootstrap`. */
function functionName(logicalId: string): string {
  const bare = logicalId.replace(/[0-9A-F]{8}$/, '');
  const api = /^Api(\w+)Function$/.exec(bare);
  if (api?.[1]) return api[1].charAt(0).toLowerCase() + api[1].slice(1);
  if (bare === 'BootstrapHandler') return 'bootstrap';
  return bare;
}

function bundles(dir: string): { fn: string; asset: string; file: string }[] {
  const found: { fn: string; asset: string; file: string }[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.template.json'))) {
    const template = Template.parse(JSON.parse(readFileSync(join(dir, name), 'utf8')));
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      const asset = resource.Metadata?.['aws:asset:path'];
      if (resource.Type !== 'AWS::Lambda::Function' || typeof asset !== 'string') continue;
      const file = join(dir, asset, 'index.mjs');
      // CDK's own provider framework ships no index.mjs: only Elevate's bundles are measured.
      if (existsSync(file)) found.push({ fn: functionName(logicalId), asset, file });
    }
  }
  return found.sort((a, b) => a.fn.localeCompare(b.fn));
}

/**
 * The floor bundle: bench/baseline-handler.ts with the house esbuild options, and its SDK loaded through require, as
 * the functions' (infra/constructs/app-function.ts).
 */
async function buildBaseline(root: string): Promise<string> {
  const outfile = join(root, 'node_modules', '.cache', 'elevate-bench', 'baseline', 'index.mjs');
  mkdirSync(resolve(outfile, '..'), { recursive: true });
  await build({
    entryPoints: [join(root, 'bench', 'baseline-handler.ts')],
    outfile,
    ...HOUSE_BUILD_OPTIONS,
    mainFields: [...HOUSE_BUILD_OPTIONS.mainFields],
    external: ['@aws-sdk/*'],
    logLevel: 'silent',
  });
  // As every function's bundle: the SDK loaded through require (bundleFunction).
  requireExternalsInDir(resolve(outfile, '..'));
  return outfile;
}

// Runs in the fresh process: performance.now() there counts from that process's start.
const DRIVER = `
const scriptStart = performance.now();
const cpuStart = process.cpuUsage();
const { pathToFileURL } = await import('node:url');
const cfg = JSON.parse(process.env.ELEVATE_BENCH_COLD);
const mod = await import(pathToFileURL(cfg.bundle).href);
const imported = performance.now();
const out = await mod.handler(cfg.event);
const done = performance.now();
const cpu = process.cpuUsage(cpuStart);
process.stdout.write('\\n@@' + JSON.stringify({ importMs: imported - scriptStart, firstCallMs: done - imported, sinceStartMs: done, cpuMs: (cpu.user + cpu.system) / 1000, status: out?.statusCode ?? null }) + '\\n');
process.exit(0);
`;

const DriverOut = z.object({
  importMs: z.number(),
  firstCallMs: z.number(),
  sinceStartMs: z.number(),
  cpuMs: z.number(),
  status: z.number().nullable(),
});

/** `BENCH_COLD_CPU_PROF=<dir>`: each cold child also writes a V8 CPU profile, into `<dir>/<label>/` (see README). */
const CPU_PROF = process.env.BENCH_COLD_CPU_PROF;

/**
 * `BENCH_NODE=<path to a node binary>`: the cold children run on that Node instead of the bench's own (to measure on
 * the Lambda runtime's major, Node 22, from a machine that has another; see README).
 */
const COLD_NODE = process.env.BENCH_NODE || process.execPath;

/** The version of the Node the cold children run on (`v22.23.5`). */
function coldNodeVersion(): string {
  if (COLD_NODE === process.execPath) return process.version;
  const out = spawnSync(COLD_NODE, ['--version'], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`BENCH_NODE=${COLD_NODE} does not run: ${out.error?.message ?? out.stderr}`);
  return out.stdout.trim();
}

function coldOnce(
  bundle: string,
  event: unknown,
  env: Record<string, string>,
  label: string,
): z.infer<typeof DriverOut> {
  const prof = CPU_PROF ? ['--cpu-prof', '--cpu-prof-interval=100', `--cpu-prof-dir=${resolve(CPU_PROF, label)}`] : [];
  const out = spawnSync(COLD_NODE, [...prof, '--input-type=module', '-e', DRIVER], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
    // Lambda's NODE_OPTIONS for these functions; it also drops any `--import tsx` inherited from the bench.
    env: {
      ...process.env,
      ...env,
      NODE_OPTIONS: '--enable-source-maps',
      ELEVATE_BENCH_COLD: JSON.stringify({ bundle, event }),
    },
  });
  const line = out.stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('@@'));
  if (out.status !== 0 || !line) {
    throw new Error(
      `cold run of ${bundle} failed (exit ${out.status ?? out.signal}): ${out.stderr.trim().slice(-400)}`,
    );
  }
  return DriverOut.parse(JSON.parse(line.slice(2)));
}

type Run = z.infer<typeof DriverOut>;

function medians(samples: Run[]): ColdTimes {
  const median = (pick: (s: Run) => number) => summarize(samples.map(pick)).p50;
  return {
    importMs: median((s) => s.importMs),
    firstCallMs: median((s) => s.firstCallMs),
    initMs: median((s) => s.importMs + s.firstCallMs),
    sinceStartMs: median((s) => s.sinceStartMs),
    cpuMs: median((s) => s.cpuMs),
    status: samples[0]?.status ?? null,
  };
}

interface Target {
  /** The function's name (the floor's: `floor` or `floor-no-call`). */
  label: string;
  bundle: string;
  event: unknown;
  runs: Run[];
  error?: string;
}

/**
 * Round-robin: run 1 of every bundle, then run 2 of every bundle, ... so that a busy moment of the machine
 * (other processes, a GC in DynamoDB Local) spreads over all bundles and the floor alike instead of
 * landing on one of them.
 */
function coldRounds(targets: Target[], env: Record<string, string>, runs: number): void {
  for (let r = 0; r < runs; r++) {
    for (const t of targets) {
      if (t.error) continue;
      try {
        t.runs.push(coldOnce(t.bundle, t.event, env, t.label));
      } catch (error) {
        t.error = error instanceof Error ? error.message : String(error);
      }
    }
  }
}

const kb = (file: string) => statSync(file).size / 1024;

/** A split bundle's sizes: what index.mjs loads at cold start (itself and its static chunks), and all its code. */
function bundleKB(index: string): { sizeKB: number; totalKB: number } {
  const dir = resolve(index, '..');
  const initial = new Set(['index.mjs']);
  for (const file of initial) {
    for (const m of readFileSync(join(dir, file), 'utf8').matchAll(/(?:from|import)\s*"\.\/([^"]+\.mjs)"/g)) {
      initial.add(m[1] as string);
    }
  }
  const all = readdirSync(dir).filter((f) => f.endsWith('.mjs'));
  const sum = (files: Iterable<string>) => [...files].reduce((n, f) => n + kb(join(dir, f)), 0);
  return { sizeKB: sum(initial), totalKB: sum(all) };
}

export async function measureCold(input: ColdInput): Promise<ColdResult> {
  let found: { dir: string; source: string; synthMs?: number };
  try {
    found = assembly(input.root);
  } catch (error) {
    return { source: 'none', rows: [], error: error instanceof Error ? error.message : String(error) };
  }
  const node = coldNodeVersion();
  const baselineFile = await buildBaseline(input.root);
  const importOnly: Target = { label: 'floor-no-call', bundle: baselineFile, event: {}, runs: [] };
  const withGetItem: Target = { label: 'floor', bundle: baselineFile, event: { key: input.baselineKey }, runs: [] };
  const targets = bundles(found.dir).map((b) => {
    const event = input.events[b.fn];
    const target: Target | undefined =
      event === undefined ? undefined : { label: b.fn, bundle: b.file, event, runs: [] };
    const plan = input.planFloors?.[b.fn];
    const planTarget: Target | undefined =
      plan && target ? { label: `floor-${b.fn}-plan`, bundle: baselineFile, event: plan.event, runs: [] } : undefined;
    return { ...b, target, plan, planTarget };
  });
  coldRounds(
    [importOnly, withGetItem, ...targets.flatMap((b) => [b.target, b.planTarget].filter((t) => t !== undefined))],
    input.env,
    input.runs,
  );
  if (importOnly.error || withGetItem.error) {
    return { source: found.source, node, rows: [], error: importOnly.error ?? withGetItem.error };
  }
  const baseline = {
    sizeKB: kb(baselineFile),
    importOnly: medians(importOnly.runs),
    withGetItem: medians(withGetItem.runs),
  };
  const rows: ColdRow[] = targets.map((b) => {
    const row: ColdRow = { fn: b.fn, asset: b.asset, ...bundleKB(b.file) };
    if (!b.target) row.error = 'no event known for this function: size only';
    else if (b.target.error) row.error = b.target.error;
    else {
      row.cold = medians(b.target.runs);
      // meta serves a static document and never calls DynamoDB: its floor makes no call either.
      const floor = b.fn === 'meta' ? baseline.importOnly : baseline.withGetItem;
      row.floor = b.fn === 'meta' ? 'sdk import only' : 'sdk import + 1 GetItem';
      row.ratio = row.cold.initMs / floor.initMs;
      row.cpuRatio = row.cold.cpuMs / floor.cpuMs;
      if (b.plan && b.planTarget) {
        if (b.planTarget.error) row.error = `its plan's floor: ${b.planTarget.error}`;
        else {
          const cold = medians(b.planTarget.runs);
          row.planFloor = {
            plan: b.plan.plan,
            cold,
            ratio: row.cold.initMs / cold.initMs,
            cpuRatio: row.cold.cpuMs / cold.cpuMs,
          };
        }
      }
    }
    return row;
  });
  return {
    source: found.source,
    node,
    ...(found.synthMs !== undefined && { synthMs: found.synthMs }),
    baseline,
    rows,
  };
}
