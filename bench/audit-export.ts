/**
 * npm run bench:audit — exports 20,000 and 200,000 audit events from DynamoDB Local to the local S3 (s3rver),
 * each size in a child process of its own, and prints the time, the peak RSS (sampled every 20 ms) and the
 * DynamoDB read units per 1,000 events (Store.stats). The events are seeded fast: pre-built, already chained
 * events written with BatchWriteItem straight into the table (not through the API), over one UTC day.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startDynamoDbLocal } from '#infra/local/dynamodb.ts';
import { LOCAL_AUDIT_BUCKET, startLocalS3 } from '#infra/local/s3.ts';
import { ensureTable } from '#infra/local/table.ts';
import { systemClock } from '#shared/clock.ts';
import { configFromEnv } from '#shared/config.ts';
import type { Deps } from '#shared/deps.ts';
import { type AuditEvent, emptyTarget, eventHash } from '#shared/domain/audit.ts';
import { linkEvents } from '#shared/domain/audit-chain.ts';
import { S3ObjectStore } from '#shared/ports/objects.ts';
import { ops } from '#shared/store/records.ts';
import { Store } from '#shared/store/store.ts';
import { newExport, runAuditExport } from '#shared/usecases/exports.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';

const DAY = '2026-01-05';

async function child(n: number, dynamoEndpoint: string): Promise<void> {
  const tableName = `bench-audit-${randomUUID()}`;
  console.error(`[bench] seeding ${n} events`);
  const client = new DynamoDBClient({ endpoint: dynamoEndpoint });
  await ensureTable(client, tableName);
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  // Seed: chained events, 4 shards, spread over the day, 25 per BatchWrite, 16 batches in flight.
  const t0 = Date.parse(`${DAY}T00:00:00.000Z`);
  const heads: ({ hash: string; seq: number } | null)[] = [null, null, null, null];
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
      id: `evt_${String(i).padStart(26, '0')}`,
      time,
      action: 'role.updated',
      actor: { id: `user-${i % 97}`, type: 'user' as const },
      target: { ...emptyTarget(), roleId: `role-${i % 31}`, principalId: `user-${i % 53}` },
      details: { field: 'displayName', i },
      previousHash: null,
    };
    const shard = i % 4;
    const linked = linkEvents(
      [{ ...body, hash: eventHash(body) } as AuditEvent],
      `${DAY}#${shard}`,
      heads[shard] ?? null,
    );
    heads[shard] = linked.head;
    const op = ops.audit(linked.events[0] as AuditEvent) as { Put: { Item: Record<string, unknown> } };
    batch.push(op.Put.Item);
    if (batch.length === 25) await flush();
  }
  await flush();
  await Promise.all(pending);
  const store = new Store(doc, tableName);
  const created = ops.createExport(
    newExport(`exp_BENCH${n}`, `${DAY}T00:00:00.000Z`, '2026-01-06T00:00:00.000Z', 'jsonl', new Date(), 'bench'),
  );
  const record = (created as { Put: { Item: Record<string, unknown> } }).Put.Item;
  await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: [{ PutRequest: { Item: record } }] } }));
  const deps = { store, clock: systemClock, config: { ...configFromEnv({ TABLE_NAME: tableName }) } } as Deps;
  console.error('[bench] exporting');
  global.gc?.();
  const baseRss = process.memoryUsage().rss;
  let peak = baseRss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const readUnits = store.stats.readUnits;
  const started = performance.now();
  const done = await runAuditExport(deps, `exp_BENCH${n}`, { objects: new S3ObjectStore(LOCAL_AUDIT_BUCKET) });
  const ms = performance.now() - started;
  clearInterval(sampler);
  if (done.status !== 'Completed' || done.recordCount !== n) throw new Error(`export ${done.status}: ${done.error}`);
  const units = store.stats.readUnits - readUnits;
  console.log(
    JSON.stringify({
      events: n,
      seconds: Number((ms / 1000).toFixed(2)),
      eventsPerSecond: Math.round((n / ms) * 1000),
      peakRssMiB: Math.round(peak / 2 ** 20),
      rssGrowthMiB: Math.round((peak - baseRss) / 2 ** 20),
      readUnitsPer1000: Number(((units / n) * 1000).toFixed(2)),
    }),
  );
  client.destroy();
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
  const sizes = (process.env.BENCH_SIZES ?? '20000,200000').split(',').map(Number);
  try {
    for (const n of sizes) {
      // Asynchronously: the S3 stand-in runs in this process and must keep answering.
      const { stdout: out } = await promisify(execFile)(
        process.execPath,
        ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--child', String(n), dynamo.endpoint],
        { env: { ...process.env, AWS_ENDPOINT_URL_S3: s3.endpoint }, encoding: 'utf8', maxBuffer: 1 << 20 },
      );
      console.log(out.trim().split('\n').at(-1));
    }
  } finally {
    await s3.stop();
    await dynamo.stop();
  }
}
