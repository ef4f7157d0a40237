/**
 * npm run bench:audit — exports 20,000 and 200,000 audit events from DynamoDB Local to the local S3 (s3rver),
 * each size in a child process of its own, and prints the time, the peak RSS (sampled every 20 ms) and the
 * DynamoDB read units per 1,000 events (Store.stats); progress lines on stderr time the seeding and the export apart.
 * The events are seeded fast: pre-built, already chained events (the items the product writes, `ops.audit`) written
 * with BatchWriteItem straight into the table (not through the API), over one UTC day. Merged into
 * bench/results.json as `audit`. `BENCH_SIZES` (20000,200000); `BENCH_NODE_ARGS` are passed to each child
 * (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startDynamoDbLocal } from '#infra/local/dynamodb.ts';
import { LOCAL_AUDIT_BUCKET, startLocalS3 } from '#infra/local/s3.ts';
import { tableDefinition } from '#infra/local/table.ts';
import { systemClock } from '#shared/clock.ts';
import { configFromEnv } from '#shared/config.ts';
import type { Deps } from '#shared/deps.ts';
import { type AuditEvent, emptyTarget, eventHash } from '#shared/domain/audit.ts';
import { AUDIT_SHARDS, chainId, linkEvents } from '#shared/domain/audit-chain.ts';
import { S3ObjectStore } from '#shared/ports/objects.ts';
import { ops } from '#shared/store/records.ts';
import { Store } from '#shared/store/store.ts';
import { newExport, runAuditExport } from '#shared/usecases/exports.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';

const DAY = '2026-01-05';
const WARM_UP_DAY = '2026-01-04';
const WARM_UP_EVENTS = 2_000;

function progress(what: string, count: number, since: number): void {
  const s = (performance.now() - since) / 1000;
  console.error(`[bench] ${what} ${count} in ${s.toFixed(1)} s (${Math.round(count / s)}/s)`);
}

/** Writes `n` chained events of `day` (the items the product writes), spread over the day, over its shards. */
async function seed(doc: DynamoDBDocumentClient, tableName: string, day: string, n: number): Promise<number> {
  const started = performance.now();
  let seeded = 0;
  // 25 per BatchWrite, 16 batches in flight.
  const t0 = Date.parse(`${day}T00:00:00.000Z`);
  const heads: ({ hash: string; seq: number } | null)[] = Array.from({ length: AUDIT_SHARDS }, () => null);
  let pending: Promise<unknown>[] = [];
  let batch: Record<string, unknown>[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const items = batch;
    batch = [];
    pending.push(
      (async () => {
        let request: Record<string, unknown>[] | undefined = items.map((Item) => ({ PutRequest: { Item } }));
        while (request?.length) {
          const out = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: request as never } }));
          request = out.UnprocessedItems?.[tableName] as Record<string, unknown>[] | undefined;
        }
        seeded += items.length;
        if (seeded % 10_000 < items.length) progress('seeded', seeded, started);
      })(),
    );
    if (pending.length >= 16) {
      await Promise.all(pending);
      pending = [];
    }
  };
  for (let i = 0; i < n; i++) {
    const time = new Date(t0 + Math.floor((i * 86_000_000) / n)).toISOString();
    const body = {
      id: `evt_${day.replaceAll('-', '')}${String(i).padStart(18, '0')}`,
      time,
      action: 'role.updated',
      actor: { id: `user-${i % 97}`, type: 'user' as const },
      target: { ...emptyTarget(), roleId: `role-${i % 31}`, principalId: `user-${i % 53}` },
      details: { field: 'displayName', i },
      previousHash: null,
    };
    const shard = i % AUDIT_SHARDS;
    const linked = linkEvents(
      [{ ...body, hash: eventHash(body) } as AuditEvent],
      chainId(day, shard),
      heads[shard] ?? null,
    );
    heads[shard] = linked.head;
    const op = ops.audit(linked.events[0] as AuditEvent) as { Put: { Item: Record<string, unknown> } };
    batch.push(op.Put.Item);
    if (batch.length === 25) await flush();
  }
  await flush();
  await Promise.all(pending);
  return performance.now() - started;
}

/** A Pending export of `day` (the product's record), then its run. */
async function exportDay(deps: Deps, doc: DynamoDBDocumentClient, tableName: string, day: string, id: string) {
  const next = new Date(Date.parse(`${day}T00:00:00.000Z`) + 86_400_000).toISOString();
  const created = ops.createExport(newExport(id, `${day}T00:00:00.000Z`, next, 'jsonl', new Date(), 'bench'));
  const record = (created as { Put: { Item: Record<string, unknown> } }).Put.Item;
  await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: [{ PutRequest: { Item: record } }] } }));
  return runAuditExport(deps, id, { objects: new S3ObjectStore(LOCAL_AUDIT_BUCKET) });
}

async function child(n: number, dynamoEndpoint: string): Promise<void> {
  const tableName = `bench-audit-${randomUUID()}`;
  const client = new DynamoDBClient({ endpoint: dynamoEndpoint });
  // The product's table without its stream: DynamoDB Local keeps stream records in SQLite and, on every write,
  // looks up the stream's description with a query that grows with the records written so far
  // (SQLiteDBAccessJob.getStreamDescription, seen in jstack), so seeding 200,000 items into a streamed table takes
  // most of an hour there (AWS does not slow down so). The export reads the table, never the stream.
  const { StreamSpecification: _stream, ...input } = (await tableDefinition()).createInput(tableName);
  await client.send(new CreateTableCommand(input));
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const store = new Store(doc, tableName);
  const deps = { store, clock: systemClock, config: { ...configFromEnv({ TABLE_NAME: tableName }) } } as Deps;
  // A warm-up: a small export of the day before, untimed, so that loading and compiling the code is not billed
  // to the first size only (a fresh process per size).
  await seed(doc, tableName, WARM_UP_DAY, WARM_UP_EVENTS);
  const warmStarted = performance.now();
  const warm = await exportDay(deps, doc, tableName, WARM_UP_DAY, `exp_WARMUP${n}`);
  console.error(
    `[bench] warm-up: ${WARM_UP_EVENTS} events exported in ${((performance.now() - warmStarted) / 1000).toFixed(2)} s`,
  );
  if (warm.recordCount !== WARM_UP_EVENTS) throw new Error(`warm-up export ${warm.status}: ${warm.error}`);
  console.error(`[bench] seeding ${n} events`);
  const seedMs = await seed(doc, tableName, DAY, n);
  console.error(`[bench] seeded ${n} events in ${(seedMs / 1000).toFixed(1)} s; exporting`);
  global.gc?.();
  const baseRss = process.memoryUsage().rss;
  let peak = baseRss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const readUnits = store.stats.readUnits;
  const reads = store.stats.reads;
  const started = performance.now();
  const ticker = setInterval(() => {
    const s = (performance.now() - started) / 1000;
    const units = Math.round(store.stats.readUnits - readUnits);
    console.error(`[bench] export ${s.toFixed(0)} s: ${store.stats.reads - reads} queries, ${units} RCU`);
  }, 10_000);
  const done = await exportDay(deps, doc, tableName, DAY, `exp_BENCH${n}`);
  const ms = performance.now() - started;
  clearInterval(sampler);
  clearInterval(ticker);
  if (done.status !== 'Completed' || done.recordCount !== n) throw new Error(`export ${done.status}: ${done.error}`);
  const units = store.stats.readUnits - readUnits;
  console.log(
    JSON.stringify({
      events: n,
      seedSeconds: Number((seedMs / 1000).toFixed(1)),
      seconds: Number((ms / 1000).toFixed(2)),
      eventsPerSecond: Math.round((n / ms) * 1000),
      peakRssMiB: Math.round(peak / 2 ** 20),
      rssGrowthMiB: Math.round((peak - baseRss) / 2 ** 20),
      readUnitsPer1000: Number(((units / n) * 1000).toFixed(2)),
      queries: store.stats.reads - reads,
    }),
  );
  client.destroy();
}

/**
 * Merged into bench/results.json as `audit`: each size's figures, the machine's load average when it finished, and
 * the largest size's rate against the smallest's (the target: >= 0.8).
 */
function record(runs: Record<string, unknown>[]): void {
  const file = new URL('./results.json', import.meta.url);
  const all = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  const rates = runs.map((r) => Number(r.eventsPerSecond));
  const ratio = rates.length > 1 ? Number(((rates.at(-1) as number) / (rates[0] as number)).toFixed(2)) : null;
  all.audit = { node: process.version, runs, largestToSmallestRate: ratio };
  writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
  console.log(`largest/smallest rate: ${ratio}; wrote bench/results.json (audit)`);
}

const args = process.argv.slice(2);
if (args[0] === '--child') {
  await child(Number(args[1]), String(args[2]));
} else {
  const dynamo = await startDynamoDbLocal({
    endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB ?? null,
    dataDir: ':memory:',
  });
  const s3 = await startLocalS3(':memory:');
  console.error(`[bench] dynamodb ${dynamo.endpoint}, s3 ${s3.endpoint}`);
  const runs: Record<string, unknown>[] = [];
  const sizes = (process.env.BENCH_SIZES ?? '20000,200000').split(',').map(Number);
  try {
    for (const n of sizes) {
      // Asynchronously: the S3 stand-in runs in this process and must keep answering. The child's progress
      // lines (stderr) pass through; its last stdout line is the result.
      const child = spawn(
        process.execPath,
        [
          ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
          '--expose-gc',
          '--import',
          'tsx',
          fileURLToPath(import.meta.url),
          '--child',
          String(n),
          dynamo.endpoint,
        ],
        { env: { ...process.env, AWS_ENDPOINT_URL_S3: s3.endpoint }, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
      });
      const [code] = (await once(child, 'exit')) as [number | null];
      if (code !== 0) throw new Error(`the ${n}-event child exited with ${code}`);
      const line = out.trim().split('\n').at(-1) as string;
      console.log(line);
      runs.push({ ...(JSON.parse(line) as Record<string, unknown>), load: loadavg().map((l) => Number(l.toFixed(2))) });
    }
    record(runs);
  } finally {
    await s3.stop();
    await dynamo.stop();
  }
}
