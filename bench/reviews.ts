/**
 * npm run bench:reviews — the access-review campaign over 10,000 assignments (BENCH_REVIEW_ASSIGNMENTS) against
 * DynamoDB Local: the job's start run (instance + one decision item per assignment) and, past the end, its apply
 * run (the defaults and the removals), each in one run as in one 15-minute Lambda invocation. Prints the time, the
 * DynamoDB calls (Store.stats) and the memory of each run (the figures docs/reviews.md quotes). The campaign is
 * test/support/review-campaign.ts, the same one the integration test runs over 100 assignments; the outcome is
 * checked here too (the counts), the figures are not. Reads are counted as calls (a Query page, a GetItem, a
 * BatchGetItem of up to 100 keys: one each) and as the read units DynamoDB reports; per removed assignment, the
 * whole apply run's (its defaults' pages too). Merged into bench/results.json as `reviews`, keyed by size, with the
 * machine's load average before and after.
 */

import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal } from '#infra/local/dynamodb.ts';
import { tableDefinition } from '#infra/local/table.ts';
import { ManualClock, useClock } from '#shared/clock.ts';
import { type Deps, depsFromEnv } from '#shared/deps.ts';
import { ops } from '#shared/store/records.ts';
import { Store } from '#shared/store/store.ts';
import { runCampaign } from '#test/support/review-campaign.ts';
import { benchTable } from './event.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.ELEVATE_LOG ??= 'error';
for (const name of ['STATE_MACHINE_ARN', 'ELEVATE_SENDER_ADDRESS', 'EVENT_BUS_NAME']) delete process.env[name];

/** Merged into bench/results.json as `reviews` (the figures of this size; other sizes' runs are kept beside it). */
function record(figures: Record<string, unknown>): void {
  const file = new URL('./results.json', import.meta.url);
  const all = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  const runs = { ...((all.reviews as { runs?: Record<string, unknown> } | undefined)?.runs ?? {}) };
  runs[`${figures.assignments}${STREAM ? '-stream' : ''}`] = { ...figures, measuredAt: new Date().toISOString() };
  all.reviews = { runs };
  writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
  console.log(`wrote bench/results.json (reviews, ${figures.assignments} assignments)`);
}

/**
 * `BENCH_REVIEW_STREAM=1`: the product's table as it is, with its stream. By default without it, as the audit bench
 * (bench/README.md): DynamoDB Local looks the stream up on every write with a query that grows with the stream records
 * written so far, so a campaign's ~100,000 writes slow down quadratically there (AWS does not; the job never reads
 * the stream, and the bench's events port is a counter).
 */
const STREAM = process.env.BENCH_REVIEW_STREAM === '1';

async function streamlessTable(endpoint: string): Promise<void> {
  const tableName = `bench-reviews-${randomUUID()}`;
  Object.assign(process.env, {
    TABLE_NAME: tableName,
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1' });
  const { StreamSpecification: _stream, ...input } = (await tableDefinition()).createInput(tableName);
  await client.send(new CreateTableCommand(input));
  client.destroy();
}

const loadAverageBefore = loadavg().map((l) => +l.toFixed(2));
const N = Number(process.env.BENCH_REVIEW_ASSIGNMENTS ?? 10_000);
const USED_EVERY = 5;
const MB = 2 ** 20;

const dynamo = await startDynamoDbLocal({
  endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB ?? null,
  dataDir: ':memory:',
});
try {
  if (STREAM) await benchTable(dynamo.endpoint, 'bench-reviews');
  else await streamlessTable(dynamo.endpoint);
  const clock = new ManualClock(new Date('2026-06-01T00:00:00Z'));
  useClock(clock);
  const base = depsFromEnv();
  let events = 0;
  let mails = 0;
  const deps: Deps = {
    ...base,
    store: new Store(base.store.doc, base.store.tableName),
    mailer: {
      send: async () => {
        mails++;
      },
    },
    events: {
      publish: async (e) => {
        events += e.length;
      },
    },
  };
  await deps.store.transact([
    ops.putPrincipal({
      id: 'rita',
      type: 'user',
      displayName: 'Rita',
      email: 'rita@example.com',
      updatedAt: clock.now().toISOString(),
    }),
  ]);

  console.error(`[bench] a review campaign over ${N} assignments (seeding, then two runs of the job)`);
  const r = await runCampaign(deps, clock, { roleId: 'bulk', n: N, usedEvery: USED_EVERY });

  const kept = Math.ceil(N / USED_EVERY);
  const problems = [
    r.start.report.itemsCreated === N || `the start created ${r.start.report.itemsCreated} items, not ${N}`,
    !r.start.report.unfinished || 'the start did not finish in one run',
    r.apply.report.removed === N - kept || `the apply removed ${r.apply.report.removed}, not ${N - kept}`,
    !r.apply.report.unfinished || 'the apply did not finish in one run',
    r.applied.status === 'Applied' || `the instance is ${r.applied.status}, not Applied`,
    r.liveAfter === kept || `the role has ${r.liveAfter} live assignments, not ${kept}`,
  ].filter((p): p is string => typeof p === 'string');

  const row = (name: string, m: typeof r.start) => ({
    run: name,
    seconds: +(m.ms / 1000).toFixed(1),
    reads: m.reads,
    readUnits: m.readUnits,
    writes: m.writes,
    writeUnits: m.writeUnits,
  });
  const removals = r.apply.report.removed;
  const perRemoval = (n: number) => (removals ? +(n / removals).toFixed(2) : null);
  console.table([
    row(`start: instance + ${N} items`, r.start),
    row(`end: ${N} defaults + ${N - kept} removals`, r.apply),
  ]);
  const figures = {
    assignments: N,
    seedSeconds: +(r.seedMs / 1000).toFixed(1),
    peakRssMB: Math.round(r.peakRss / MB),
    peakHeapMB: Math.round(r.peakHeap / MB),
    baselineRssMB: Math.round(r.baseline.rss / MB),
    baselineHeapMB: Math.round(r.baseline.heapUsed / MB),
    events,
    mails,
    withinLambdaTimeout: r.start.ms < 15 * 60_000 && r.apply.ms < 15 * 60_000,
    start: row('start', r.start),
    apply: { ...row('apply', r.apply), removals },
    /** The whole apply run (the defaults' pages too) per removed assignment: calls, and read units. */
    applyReadsPerRemoval: perRemoval(r.apply.reads),
    applyReadUnitsPerRemoval: perRemoval(r.apply.readUnits),
    applyWritesPerRemoval: perRemoval(r.apply.writes),
    loadAverage: loadavg().map((l) => +l.toFixed(2)),
    loadAverageBefore,
    node: process.version,
    tableStream: STREAM,
  };
  console.log(`REVIEWS ${JSON.stringify(figures)}`);
  if (!problems.length) record(figures);
  if (problems.length) {
    console.error(`[bench] the campaign went wrong:\n- ${problems.join('\n- ')}`);
    process.exitCode = 1;
  }
} finally {
  await dynamo.stop();
}
