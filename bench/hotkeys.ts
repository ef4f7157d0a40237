/**
 * Hot keys (issue 12, item 12): the single items many writers meet, measured on DynamoDB Local.
 *
 *   npm run bench:hotkeys      (BENCH_WRITERS=16, BENCH_SECONDS=10)
 *
 * 1. One role: N concurrent writers grant it (adminAssign, a new principal each time) for the duration. Every
 *    grant adds 1 to the role's live-assignment counter (ROLE#<id>/ROLE) and writes one audit chain head
 *    (AUDITHEAD#<day>#<shard>) in the same transaction.
 * 2. N roles, one writer each: the role counters are disjoint, only the day's 8 audit chain heads are shared.
 * 3. The floor of 1: raw TransactWriteItems of the counter's own update (ADD liveAssignments 1 on one role item, with
 *    a Put of a new item), N concurrent writers, no handler: what the one item takes on this DynamoDB.
 * A warm-up of 3 s (JIT of Node and of DynamoDB Local's JVM) runs first and is not reported.
 *
 * Committed grants/s, and the transactions DynamoDB cancelled (TransactionConflict on an item another transaction
 * held, or a moved chain head) that the store retried; refused = answered 409 after the store's retries.
 */
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { startDynamoDbLocal } from '#infra/local/dynamodb.ts';
import { depsFromEnv } from '#shared/deps.ts';
import { keys } from '#shared/store/records.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { apiEvent, benchTable, invoke } from './event.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.ELEVATE_LOG ??= 'silent';
for (const name of ['STATE_MACHINE_ARN', 'ELEVATE_SENDER_ADDRESS', 'EVENT_BUS_NAME']) delete process.env[name];

const WRITERS = Number(process.env.BENCH_WRITERS ?? 16);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

// Every TransactWriteItems the store sends, and how each cancelled one was cancelled.
const tx = { sent: 0, conflict: 0, conditionFailed: 0 };
const send = DynamoDBDocumentClient.prototype.send;
DynamoDBDocumentClient.prototype.send = async function (this: DynamoDBDocumentClient, command: unknown, ...rest: []) {
  const isTx = (command as { constructor: { name: string } }).constructor.name === 'TransactWriteCommand';
  if (isTx) tx.sent++;
  try {
    return await (send as (c: unknown, ...r: []) => Promise<unknown>).call(this, command, ...rest);
  } catch (error) {
    const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
    if (isTx && reasons.some((r) => r.Code === 'TransactionConflict')) tx.conflict++;
    else if (isTx && reasons.some((r) => r.Code === 'ConditionalCheckFailed')) tx.conditionFailed++;
    throw error;
  }
} as typeof send;

const dynamo = await startDynamoDbLocal({ dataDir: ':memory:' });
try {
  const { raw: client } = await benchTable(dynamo.endpoint, 'bench-hotkeys');
  await bootstrap(depsFromEnv(), ['admin']);
  for (let w = 0; w < WRITERS; w++) {
    const id = `role-${w}`;
    const out = await invoke(
      apiEvent('POST', '/v1/roles', { as: 'admin', body: { id, displayName: id, privileged: false } }),
    );
    if (out.status !== 201) throw new Error(`role ${id}: ${out.status} ${JSON.stringify(out.body)}`);
  }

  const run = async (name: string, roleOf: (writer: number) => string, seconds = SECONDS, quiet = false) => {
    Object.assign(tx, { sent: 0, conflict: 0, conditionFailed: 0 });
    const result = { committed: 0, refused: 0, failed: 0 };
    const end = performance.now() + seconds * 1000;
    let n = 0;
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        while (performance.now() < end) {
          const body = {
            action: 'adminAssign',
            assignmentType: 'active',
            roleId: roleOf(w),
            principalId: `${name}-${w}-${n++}`,
            justification: 'bench',
          };
          const out = await invoke(apiEvent('POST', '/v1/requests', { as: 'admin', body }));
          if (out.status === 201) result.committed++;
          else if (out.status === 409) result.refused++;
          else result.failed++;
        }
      }),
    );
    const line = {
      scenario: name,
      writers: WRITERS,
      seconds,
      committedPerSecond: Number((result.committed / seconds).toFixed(1)),
      ...result,
      transactionsSent: tx.sent,
      cancelledAndRetried: tx.conflict + tx.conditionFailed - result.refused,
      transactionConflicts: tx.conflict,
      conditionFailures: tx.conditionFailed,
    };
    if (!quiet) console.log(JSON.stringify(line));
    return line;
  };

  const raw = async () => {
    const doc = DynamoDBDocumentClient.from(client);
    Object.assign(tx, { sent: 0, conflict: 0, conditionFailed: 0 });
    const result = { committed: 0, cancelled: 0 };
    const end = performance.now() + SECONDS * 1000;
    let n = 0;
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        while (performance.now() < end) {
          try {
            await doc.send(
              new TransactWriteCommand({
                TransactItems: [
                  {
                    Update: {
                      TableName: process.env.TABLE_NAME,
                      Key: keys.role('role-0'),
                      UpdateExpression: 'ADD liveAssignments :one',
                      ExpressionAttributeValues: { ':one': 1 },
                    },
                  },
                  { Put: { TableName: process.env.TABLE_NAME, Item: { pk: `BENCH#${n++}`, sk: 'X' } } },
                ],
              }),
            );
            result.committed++;
          } catch {
            result.cancelled++;
          }
        }
      }),
    );
    console.log(
      JSON.stringify({
        scenario: 'raw-counter',
        writers: WRITERS,
        seconds: SECONDS,
        committedPerSecond: Number((result.committed / SECONDS).toFixed(1)),
        ...result,
        transactionConflicts: tx.conflict,
      }),
    );
  };

  await run('warm-up', (w) => `role-${w}`, 3, true);
  await run('one-role', () => 'role-0');
  await run('distinct-roles', (w) => `role-${w}`);
  await raw();
} finally {
  await dynamo.stop();
}
