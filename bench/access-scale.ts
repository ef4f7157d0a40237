import {
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DynamoDBDocumentClient,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { startDynamoDbLocal } from '#infra/local/dynamodb.ts';
import { depsFromEnv } from '#shared/deps.ts';
import type { Assignment } from '#shared/domain/assignment.ts';
import { userRef } from '#shared/domain/primitives.ts';
import { newId } from '#shared/ids.ts';
import { type Item, ops, queries } from '#shared/store/records.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { apiEvent, benchTable, invoke } from './event.ts';
import { pair } from './measure.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.ELEVATE_LOG ??= 'error';
for (const name of ['STATE_MACHINE_ARN', 'ELEVATE_SENDER_ADDRESS', 'EVENT_BUS_NAME']) delete process.env[name];

const TOTAL = Number(process.env.BENCH_ASSIGNMENTS ?? 100_000);
const ROLES = 20;
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 300);
const REGION = 'us-east-1';

const dynamo = await startDynamoDbLocal({ dataDir: ':memory:' });
try {
  const { tableName, raw } = await benchTable(dynamo.endpoint, 'bench-access', REGION);
  const doc = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  const deps = depsFromEnv();
  await bootstrap(deps, ['admin']);
  const now = new Date();
  const nowIso = now.toISOString();
  const end = new Date(now.getTime() + 86_400_000).toISOString();

  const assignment = (i: number): Assignment => ({
    id: newId('asg', now),
    principalId: `p-${String(Math.floor(i / ROLES)).padStart(6, '0')}`,
    principalType: 'user',
    roleId: `role-${i % ROLES}`,
    scope: i % 2 ? '/accounts/1' : '/',
    assignmentType: i % 3 === 0 ? 'eligible' : 'active',
    origin: 'assigned',
    status: 'Active',
    startDateTime: nowIso,
    endDateTime: end,
    requestId: null,
    eligibilityId: null,
    extensions: 0,
    justification: 'bench',
    createdAt: nowIso,
    updatedAt: nowIso,
    version: 1,
  });
  const started = performance.now();
  const items: Item[] = [];
  const flush = async (batch: Item[]) => {
    let request: Record<string, { PutRequest: { Item: Item } }[]> | undefined = {
      [tableName]: batch.map((Item) => ({ PutRequest: { Item } })),
    };
    while (request) {
      const out: BatchWriteCommandOutput = await doc.send(new BatchWriteCommand({ RequestItems: request }));
      const rest = out.UnprocessedItems?.[tableName];
      request = rest?.length ? { [tableName]: rest as { PutRequest: { Item: Item } }[] } : undefined;
    }
  };
  const pending: Promise<void>[] = [];
  for (let i = 0; i < TOTAL; i++) {
    for (const op of ops.createAssignment(assignment(i))) if ('Put' in op) items.push(op.Put.Item);
    while (items.length >= 25) {
      pending.push(flush(items.splice(0, 25)));
      if (pending.length >= 16) await Promise.all(pending.splice(0));
    }
    if (i % 20_000 === 0 && i) console.log(`seeded ${i} assignments…`);
  }
  if (items.length) pending.push(flush(items.splice(0)));
  await Promise.all(pending);
  console.log(
    `seeded ${TOTAL} assignments (${TOTAL * 2} items: record + live slot) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  const principal = 'p-000123';
  const roleId = 'role-4';
  const check = apiEvent('GET', `/v1/access?roleId=${roleId}&scope=/accounts/1`, { as: principal });
  const floorQuery = queries.live(userRef(principal), roleId, 'active');
  const first = await invoke(check);
  if (first.status !== 200) throw new Error(`access check answered ${first.status}`);
  const result = await pair({
    warmup: 30,
    iterations: ITERATIONS,
    op: () => () => invoke(check),
    floor: () => () =>
      doc.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :p)',
          ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
          ExpressionAttributeValues: { ':pk': floorQuery.pk, ':p': floorQuery.beginsWith },
          ConsistentRead: true,
        }),
      ),
  });
  console.log(
    `\naccess check with ${TOTAL} assignments in the table (${ITERATIONS} iterations; answer ${JSON.stringify(first.body)})`,
  );
  console.log(`  handler: p50 ${result.op.p50.toFixed(2)} ms  p99 ${result.op.p99.toFixed(2)} ms`);
  console.log(
    `  floor (one strongly consistent Query): p50 ${result.floor.p50.toFixed(2)} ms  p99 ${result.floor.p99.toFixed(2)} ms`,
  );
  console.log(
    `  ratio p50 ${(result.op.p50 / result.floor.p50).toFixed(2)}  p99 ${(result.op.p99 / result.floor.p99).toFixed(2)}`,
  );
} finally {
  await dynamo.stop();
}
