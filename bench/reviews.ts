/**
 * npm run bench:reviews — the access-review campaign over 10,000 assignments (BENCH_REVIEW_ASSIGNMENTS) against
 * DynamoDB Local: the job's start run (instance + one decision item per assignment) and, past the end, its apply
 * run (the defaults and the removals), each in one run as in one 15-minute Lambda invocation. Prints the time, the
 * DynamoDB calls (Store.stats) and the memory of each run (the figures docs/reviews.md quotes). The campaign is
 * test/support/review-campaign.ts, the same one the integration test runs over 100 assignments; the outcome is
 * checked here too (the counts), the figures are not.
 */
import { startDynamoDbLocal } from '#infra/local/dynamodb.ts';
import { ManualClock, useClock } from '#shared/clock.ts';
import { type Deps, depsFromEnv } from '#shared/deps.ts';
import { ops } from '#shared/store/records.ts';
import { Store } from '#shared/store/store.ts';
import { runCampaign } from '#test/support/review-campaign.ts';
import { benchTable } from './event.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.ELEVATE_LOG ??= 'error';
for (const name of ['STATE_MACHINE_ARN', 'ELEVATE_SENDER_ADDRESS', 'EVENT_BUS_NAME']) delete process.env[name];

const N = Number(process.env.BENCH_REVIEW_ASSIGNMENTS ?? 10_000);
const USED_EVERY = 5;
const MB = 2 ** 20;

const dynamo = await startDynamoDbLocal({
  endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB ?? null,
  dataDir: ':memory:',
});
try {
  await benchTable(dynamo.endpoint, 'bench-reviews');
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
    writes: m.writes,
    writeUnits: m.writeUnits,
  });
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
  };
  console.log(`REVIEWS ${JSON.stringify(figures)}`);
  if (problems.length) {
    console.error(`[bench] the campaign went wrong:\n- ${problems.join('\n- ')}`);
    process.exitCode = 1;
  }
} finally {
  await dynamo.stop();
}
