/**
 * `npm run bench`: what the hot paths cost, each as a ratio against a floor measured in the same run
 * (the raw DynamoDB calls the operation needs; an SDK-only bundle for cold starts). Not a test: nothing
 * here passes or fails on a number. See bench/README.md for what each figure means.
 *
 * Runs against its own in-memory DynamoDB Local (or AWS_ENDPOINT_URL_DYNAMODB when set), a fresh table
 * made from the synthesized template, bootstrapped with admin `admin`, seeded through the real handlers.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  type TransactWriteItemsCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  type GetCommandOutput,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { startDynamoDbLocal } from '#infra/local/dynamodb.ts';
import { ensureTable } from '#infra/local/table.ts';
import { depsFromEnv } from '#shared/deps.ts';
import { AUDIT_SHARDS } from '#shared/domain/audit-chain.ts';
import { userRef } from '#shared/domain/primitives.ts';
import { keys, partitionAttr, type QueryPart, queries, sortAttr } from '#shared/store/records.ts';
import type { StoreStats } from '#shared/store/store.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { type IoPlan, IoTracer } from '#test/support/io-trace.ts';
import { attributeValuesSize } from '#test/support/item-size.ts';
import { type ColdResult, measureCold } from './cold.ts';
import { apiEvent, type Built, benchTable, invoke } from './event.ts';
import { pair, type Sample, type Step } from './measure.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** `BENCH_ONLY=cold`: seed, then only the bundles' cold table (no timed latency pairs): to iterate on cold starts. */
const COLD_ONLY = process.env.BENCH_ONLY === 'cold';
const ITERATIONS = COLD_ONLY ? 0 : Number(process.env.BENCH_ITERATIONS ?? 300);
const WARMUP = COLD_ONLY ? 0 : Number(process.env.BENCH_WARMUP ?? 30);
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 7);
const OTHER_PRINCIPALS = 200;
const REGION = 'us-east-1';
/** The machine's load when the figures were taken (1, 5, 15 min): the figures of a shared machine say it. */
const loadAverage = () => loadavg().map((n) => Number(n.toFixed(2)));

// The AWS SDK's Node 20 end-of-support notice and the per-call warnings of ports that are not configured
// here (workflow, mail, events) would drown the tables; errors still show.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.ELEVATE_LOG ??= 'error';
// Never reach a real AWS service from a bench: those ports stay unconfigured.
for (const name of ['STATE_MACHINE_ARN', 'ELEVATE_SENDER_ADDRESS', 'EVENT_BUS_NAME']) delete process.env[name];

interface Units {
  calls: number;
  read: number;
  write: number;
  reported: boolean;
}

interface Row {
  name: string;
  floor: string;
  handler: Sample;
  floorSample: Sample;
  ratioP50: number;
  ratioP99: number;
  /** Sequential DynamoDB round trips (calls in flight together count once) of one traced call, and of the floor. */
  roundTrips: number;
  floorRoundTrips: number;
  /** DynamoDB calls per operation (from Store.stats) and per floor. */
  handlerCalls: number;
  floorCalls: number;
  handlerRcu: number;
  handlerWcu: number;
  floorRcu: number;
  floorWcu: number;
}

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** What a transaction's items cost one by one, as AWS bills them: the table's write and each index copy's. */
interface BilledWrites {
  items: number;
  table: number;
  indexes: number;
  total: number;
  /** Per item: its kind, key, size as DynamoDB counts it (a Put's item; 0 otherwise) and table + index units. */
  each: { op: string; key: string; bytes: number; table: number; indexes: number }[];
}

/**
 * DynamoDB Local's `TOTAL` for a TransactWriteItems is the sum of the DISTINCT per-item costs (measured: 12 Puts of
 * 100 B report 2 WCU, a 1,500 B Put and a 100 B Put 6, two 100 B Puts 2), so it is no bill. This replays each item of
 * a captured transaction alone, as a one-item transaction into a fresh scratch table with `ReturnConsumedCapacity:
 * INDEXES` (conditions dropped: the cost is the item's size and the indexes its keys put it in), and sums them. The
 * captured transaction already committed, so this runs after it, untimed.
 */
async function billedWrites(
  raw: DynamoDBClient,
  source: string,
  tx: TransactWriteItemsCommandInput,
): Promise<BilledWrites> {
  // A table of its own: an item written again unchanged costs its index copies nothing.
  const scratch = `bench-billed-${randomBytes(6).toString('hex')}`;
  await ensureTable(raw, scratch);
  // An Update or a ConditionCheck costs by the size of the item it meets (the role item's count update is billed
  // for the whole role item): copy that item from the bench's table first (the Puts write new items).
  for (const item of tx.TransactItems ?? []) {
    const key = item.Update?.Key ?? item.ConditionCheck?.Key;
    if (!key) continue;
    const found = await raw.send(new GetItemCommand({ TableName: source, Key: key, ConsistentRead: true }));
    if (found.Item) await raw.send(new PutItemCommand({ TableName: scratch, Item: found.Item }));
  }
  const each: BilledWrites['each'] = [];
  const used = (expr: string, names?: Record<string, string>, values?: Record<string, AttributeValue>) => ({
    ...(names && {
      ExpressionAttributeNames: Object.fromEntries(Object.entries(names).filter(([k]) => expr.includes(k))),
    }),
    ...(values && {
      ExpressionAttributeValues: Object.fromEntries(Object.entries(values).filter(([k]) => expr.includes(k))),
    }),
  });
  for (const item of tx.TransactItems ?? []) {
    const single: TransactWriteItem = item.Put
      ? { Put: { TableName: scratch, Item: item.Put.Item } }
      : item.Update
        ? {
            Update: {
              TableName: scratch,
              Key: item.Update.Key,
              UpdateExpression: item.Update.UpdateExpression,
              ...used(
                item.Update.UpdateExpression ?? '',
                item.Update.ExpressionAttributeNames,
                item.Update.ExpressionAttributeValues,
              ),
            },
          }
        : item.Delete
          ? { Delete: { TableName: scratch, Key: item.Delete.Key } }
          : {
              ConditionCheck: {
                TableName: scratch,
                Key: item.ConditionCheck?.Key,
                ConditionExpression: 'attribute_not_exists(#none)',
                ExpressionAttributeNames: { '#none': 'billedWritesNone' },
              },
            };
    const out = await raw.send(
      new TransactWriteItemsCommand({ TransactItems: [single], ReturnConsumedCapacity: 'INDEXES' }),
    );
    const used0 = out.ConsumedCapacity?.[0];
    const indexes = Object.values(used0?.GlobalSecondaryIndexes ?? {}).reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
    const [op, body] = Object.entries(single)[0] as [
      string,
      { Item?: Record<string, { S?: string }>; Key?: Record<string, { S?: string }> },
    ];
    const keyOf = body.Item ?? body.Key ?? {};
    each.push({
      op,
      key: `${keyOf.pk?.S} ${keyOf.sk?.S}`,
      bytes: item.Put?.Item ? attributeValuesSize(item.Put.Item) : 0,
      table: used0?.Table?.CapacityUnits ?? 0,
      indexes,
    });
  }
  const table = each.reduce((n, e) => n + e.table, 0);
  const indexes = each.reduce((n, e) => n + e.indexes, 0);
  return { items: each.length, table, indexes, total: table + indexes, each };
}

/**
 * A captured call sequence as text (the replays rename principals and ids in it) and back: binary attributes (an
 * audit event's hashes and compressed details) as `{ "$b64": ... }`, which plain JSON would turn into objects.
 */
function toTemplate(captured: object[]): string {
  return JSON.stringify(captured, function (this: Record<string, unknown>, key, value) {
    const raw = this[key];
    return raw instanceof Uint8Array ? { $b64: Buffer.from(raw).toString('base64') } : value;
  });
}

function fromTemplate(text: string): unknown {
  return JSON.parse(text, (_key, value) =>
    value && typeof value === 'object' && typeof value.$b64 === 'string' ? Buffer.from(value.$b64, 'base64') : value,
  );
}

async function main(): Promise<void> {
  const dynamo = await startDynamoDbLocal({ dataDir: ':memory:' });
  try {
    // The floors' own client: same endpoint and settings as the store's, but its calls are not in Store.stats.
    const { tableName, raw } = await benchTable(dynamo.endpoint, 'bench', REGION);
    const rawDoc = DynamoDBDocumentClient.from(raw);
    const deps = depsFromEnv();
    await bootstrap(deps, ['admin']);

    console.log(`DynamoDB Local at ${dynamo.endpoint}, table ${tableName}; seeding through the handlers…`);
    const must = async (built: Built, expected: number) => {
      const out = await invoke(built);
      if (out.status !== expected) {
        throw new Error(`${built.event.routeKey} answered ${out.status}, not ${expected}: ${JSON.stringify(out.body)}`);
      }
      return out.body;
    };
    const assign = (principalId: string, roleId: string, assignmentType: 'active' | 'eligible', scope: string) =>
      apiEvent('POST', '/v1/requests', {
        as: 'admin',
        body: { action: 'adminAssign', assignmentType, principalId, roleId, scope, justification: 'bench seed' },
      });
    const roles = [1, 2, 3, 4, 5].map((n) => `bench-role-${n}`);
    for (const id of roles) {
      await must(apiEvent('POST', '/v1/roles', { as: 'admin', body: { id, displayName: id, privileged: true } }), 201);
    }
    // alice: 10 live slots (each role active at one account, eligible at /), what "my assignments" lists.
    for (const roleId of roles) {
      await must(assign('alice', roleId, 'active', '/accounts/111111111111'), 201);
      await must(assign('alice', roleId, 'eligible', '/'), 201);
    }
    for (let i = 0; i < OTHER_PRINCIPALS; i++) {
      await must(assign(`bench-p-${String(i).padStart(6, '0')}`, 'bench-role-1', 'active', '/'), 201);
    }

    const store = deps.store;
    // Records every command the store sends (already marshalled: the document client's marshalling runs
    // before the build step) while `capturing`, so a floor can replay exactly the calls a handler made.
    const captured: object[] = [];
    let capturing = false;
    store.doc.middlewareStack.add(
      (next) => async (args) => {
        if (capturing) captured.push(structuredClone(args.input as object));
        return next(args);
      },
      { step: 'build', name: 'elevateBenchCapture' },
    );
    const capture = async (built: Built, expected: number): Promise<string> => {
      captured.length = 0;
      capturing = true;
      try {
        await must(built, expected);
      } finally {
        capturing = false;
      }
      return toTemplate(captured);
    };

    const rawQueryInput = (q: QueryPart, consistent: boolean, limit?: number): QueryCommandInput => ({
      TableName: tableName,
      KeyConditionExpression: q.beginsWith
        ? '#pk = :pk AND begins_with(#sk, :prefix)'
        : q.between
          ? '#pk = :pk AND #sk BETWEEN :lo AND :hi'
          : '#pk = :pk',
      ...(q.index && { IndexName: q.index }),
      ExpressionAttributeNames: {
        '#pk': partitionAttr(q.index),
        ...((q.beginsWith !== undefined || q.between) && { '#sk': sortAttr(q.index) }),
      },
      ExpressionAttributeValues: {
        ':pk': q.pk,
        ...(q.beginsWith !== undefined && { ':prefix': q.beginsWith }),
        ...(q.between && { ':lo': q.between[0], ':hi': q.between[1] }),
      },
      ScanIndexForward: q.forward ?? true,
      ConsistentRead: consistent,
      ...(limit !== undefined && { Limit: limit }),
      ReturnConsumedCapacity: 'TOTAL',
    });
    const floorUnits: Units = { calls: 0, read: 0, write: 0, reported: false };
    const tally = (out: GetCommandOutput | QueryCommandOutput, kind: 'read' | 'write') => {
      floorUnits.calls++;
      const units = out.ConsumedCapacity?.CapacityUnits;
      if (units !== undefined) floorUnits.reported = true;
      floorUnits[kind] += units ?? 0;
    };
    const query = async (input: QueryCommandInput) => tally(await rawDoc.send(new QueryCommand(input)), 'read');
    const rows: Row[] = [];
    let handlerReported = false;
    // The round trips of one call of each operation, traced outside the timed iterations (test/support/io-trace.ts).
    const tracer = new IoTracer(store.doc);
    const traced = async (step: Step): Promise<IoPlan> => (await tracer.trace(step(-1))).plan;
    const measure = async (name: string, floor: string, op: Step, floorStep: Step, floorRoundTrips: number) => {
      if (COLD_ONLY) return;
      const plan = await traced(op);
      let before: StoreStats = { ...store.stats };
      let floorBefore: Units = { ...floorUnits };
      const { op: handler, floor: floorSample } = await pair({
        warmup: WARMUP,
        iterations: ITERATIONS,
        op,
        floor: floorStep,
        onTimedStart: () => {
          before = { ...store.stats };
          floorBefore = { ...floorUnits };
        },
      });
      const after = store.stats;
      if (after.readUnits + after.writeUnits > 0) handlerReported = true;
      const per = (n: number) => n / ITERATIONS;
      rows.push({
        name,
        floor,
        handler,
        floorSample,
        ratioP50: handler.p50 / floorSample.p50,
        ratioP99: handler.p99 / floorSample.p99,
        roundTrips: plan.roundTrips,
        floorRoundTrips,
        handlerCalls: per(after.reads - before.reads + after.writes - before.writes),
        floorCalls: per(floorUnits.calls - floorBefore.calls),
        handlerRcu: per(after.readUnits - before.readUnits),
        handlerWcu: per(after.writeUnits - before.writeUnits),
        floorRcu: per(floorUnits.read - floorBefore.read),
        floorWcu: per(floorUnits.write - floorBefore.write),
      });
      console.log(`  measured ${name}`);
    };
    const handlerStep =
      (built: (i: number) => Built, expected: number): Step =>
      (i) => {
        const b = built(i);
        return async () => {
          const out = await invoke(b);
          if (out.status !== expected)
            throw new Error(`${b.event.routeKey}: ${out.status} ${JSON.stringify(out.body)}`);
        };
      };

    console.log(`measuring (${WARMUP} warm-up + ${ITERATIONS} timed iterations each, handler and floor interleaved)…`);

    // 1. The access check, self: one strongly consistent Query of the principal's live active slots of the role.
    const scope = encodeURIComponent('/accounts/111111111111/regions/eu-west-1');
    const selfCheck = apiEvent('GET', `/v1/access?roleId=bench-role-1&scope=${scope}`, { as: 'alice' });
    const answer = (await invoke(selfCheck)).body as { allowed?: boolean } | undefined;
    if (answer?.allowed !== true) throw new Error(`the seeded access check is not allowed: ${JSON.stringify(answer)}`);
    const liveQuery = rawQueryInput(queries.live(userRef('alice'), 'bench-role-1', 'active'), true);
    await measure(
      'GET /v1/access (self)',
      '1 Query: live active slots of the role',
      handlerStep(() => selfCheck, 200),
      () => () => query(liveQuery),
      1,
    );

    // 2. The access check of another principal by an admin: the caller's authority Query comes first.
    const otherCheck = apiEvent('GET', `/v1/access?principalId=alice&roleId=bench-role-1&scope=${scope}`, {
      as: 'admin',
    });
    const authorityQuery = rawQueryInput(queries.liveRolePrefix(userRef('admin'), 'elevate-'), true);
    await measure(
      'GET /v1/access (admin, other)',
      '2 Queries: authority + live slots',
      handlerStep(() => otherCheck, 200),
      () => async () => {
        await query(authorityQuery);
        await query(liveQuery);
      },
      2,
    );

    // Replays a captured call sequence with the raw client: every read as the handler sent it, then its
    // transaction, with the principal renamed (same length) and every Elevate id made fresh (same length), so
    // the items, their sizes and their conditions are the handler's. An audit chain head is moved to a chain
    // of the floor's own (read, then created under attribute_not_exists): a replayed `seq = :seq` guard on
    // the handler's chain would fail, and reading + writing a head is work the handler does too.
    const idAlphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    const freshIds = (text: string) => {
      const renamed = new Map<string, string>();
      return text.replace(/\b([a-z]{3})_([0-9A-HJKMNP-TV-Z]{10})([0-9A-HJKMNP-TV-Z]{16})\b/g, (id, kind, time) => {
        let next = renamed.get(id);
        if (!next) {
          const random = Array.from(randomBytes(16), (b) => idAlphabet[b % 32]).join('');
          next = `${kind}_${time}${random}`;
          renamed.set(id, next);
        }
        return next;
      });
    };
    let floorChains = 0;
    /**
     * The minimal plan of a change (bench/README.md): its reads, all at once, then one TransactWriteItems of only the
     * indispensable items of the handler's own transaction (captured once; principal and ids made fresh, same sizes
     * and conditions). `reads(principal)` are document-client inputs naming the template's principal.
     */
    type FloorRead = { query: QueryCommandInput } | { get: GetCommandInput };
    const indispensable = (
      item: Record<string, { Item?: Record<string, { S?: string }>; Key?: Record<string, { S?: string }> }>,
    ) => {
      const [kind, body] = Object.entries(item)[0] as [
        string,
        { Item?: Record<string, { S?: string }>; Key?: Record<string, { S?: string }> },
      ];
      const pk = (body.Item ?? body.Key)?.pk?.S ?? '';
      const sk = (body.Item ?? body.Key)?.sk?.S ?? '';
      // The eligibility guard: a check of its version, or (issue 18) the activation's one update of its live slot.
      if (kind === 'ConditionCheck' || kind === 'Update') return sk.includes('#eligible#');
      if (kind !== 'Put') return false;
      return pk.startsWith('REQ#') || sk === 'ASG' || sk.startsWith('LIVE#') || pk.startsWith('AUDIT');
    };
    /** The minimal plan's items of a handler's transaction: the indispensable ones, one audit event. */
    const minimalItems = (items: TransactWriteItem[]): TransactWriteItem[] => {
      let audits = 0;
      return items.filter((item) => {
        if (!indispensable(item as never)) return false;
        // One audit event (the change's): the handler writes no other since cut 3 (one event per change).
        return !item.Put?.Item?.pk?.S?.startsWith('AUDIT#') || ++audits === 1;
      });
    };
    /** The handler's transaction (as captured) and the minimal plan's, billed item by item. */
    const billed: Record<string, { handler: BilledWrites; minimal: BilledWrites }> = {};
    const bill = async (name: string, template: string) => {
      const tx = (fromTemplate(template) as object[]).find(
        (c) => 'TransactItems' in c,
      ) as TransactWriteItemsCommandInput;
      billed[name] = {
        handler: await billedWrites(raw, tableName, tx),
        minimal: await billedWrites(raw, tableName, { TransactItems: minimalItems(tx.TransactItems ?? []) }),
      };
    };
    const minimalStep =
      (template: string, principal: string, floorPrincipal: (i: number) => string, reads: FloorRead[]): Step =>
      (i) => {
        const chain = `FLOOR${String(++floorChains).padStart(7, '0')}`;
        const fresh = (text: string) =>
          freshIds(text.replaceAll(principal, floorPrincipal(i))).replace(
            /AUDITHEAD#\d{4}-\d{2}-\d{2}#\d+/g,
            `AUDITHEAD#${chain}`,
          );
        const tx = (fromTemplate(fresh(template)) as object[]).find((c) => 'TransactItems' in c) as
          | TransactWriteItemsCommandInput
          | undefined;
        if (!tx?.TransactItems) throw new Error('the captured call made no transaction');
        delete tx.ClientRequestToken;
        tx.TransactItems = minimalItems(tx.TransactItems);
        for (const item of tx.TransactItems) {
          const put = item.Put;
          if (put?.Item?.pk?.S?.startsWith('AUDITHEAD#')) {
            put.ConditionExpression = 'attribute_not_exists(pk)';
            delete put.ExpressionAttributeValues;
          }
        }
        const floorReads = JSON.parse(fresh(JSON.stringify(reads))) as FloorRead[];
        return async () => {
          await Promise.all(
            floorReads.map(async (r) =>
              'query' in r
                ? tally(await rawDoc.send(new QueryCommand(r.query)), 'read')
                : tally(await rawDoc.send(new GetCommand(r.get)), 'read'),
            ),
          );
          const out = await raw.send(new TransactWriteItemsCommand(tx));
          floorUnits.calls++;
          const units = out.ConsumedCapacity?.reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
          if (units !== undefined && out.ConsumedCapacity?.length) floorUnits.reported = true;
          floorUnits.write += units ?? 0;
        };
      };
    const getInput = (key: Record<string, unknown>): GetCommandInput => ({
      TableName: tableName,
      Key: key,
      ConsistentRead: true,
      ReturnConsumedCapacity: 'TOTAL',
    });
    const headRead: FloorRead = { get: getInput(keys.auditHead('2000-01-01#0')) };
    const MINIMAL_TX =
      '1 TransactWrite: request, assignment, live slot, one audit event, chain head (+ the eligibility guard)';

    // 3. adminAssign, a new principal each time. The floor: its minimal plan (bench/README.md).
    const pad = (i: number) => String(i).padStart(6, '0');
    const assignTemplate = await capture(assign('bench-c-000000', 'bench-role-2', 'active', '/'), 201);
    await bill('POST /v1/requests (adminAssign)', assignTemplate);
    await measure(
      'POST /v1/requests (adminAssign)',
      `reads at once: authority Query + settings GetItem + role Query + live slots Query + head GetItem; ${MINIMAL_TX}`,
      handlerStep((i) => assign(`bench-h-${pad(i)}`, 'bench-role-2', 'active', '/'), 201),
      minimalStep(assignTemplate, 'bench-c-000000', (i) => `bench-f-${pad(i)}`, [
        { query: rawQueryInput(queries.liveRolePrefix(userRef('admin'), 'elevate-'), true) },
        { get: getInput(keys.settings()) },
        { query: rawQueryInput(queries.roleItems('bench-role-2'), true) },
        { query: rawQueryInput(queries.live(userRef('bench-c-000000'), 'bench-role-2'), true) },
        headRead,
      ]),
      2,
    );

    // 3b. selfActivate without approval (bench-role-3 keeps the default policy: no approval stage). Every
    //     iteration's principal, handler and floor alike, holds an eligibility seeded beforehand, so the
    //     floor's reads find what the handler's find.
    const activation = {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId: 'bench-role-3',
      justification: 'bench activation',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
    };
    const activationCount = WARMUP + ITERATIONS;
    for (let i = -1; i < activationCount; i++) {
      for (const who of i < 0
        ? ['bench-sc-000000', `bench-sh-${pad(i)}`]
        : [`bench-sh-${pad(i)}`, `bench-sf-${pad(i)}`]) {
        await must(assign(who, 'bench-role-3', 'eligible', '/'), 201);
      }
    }
    const activateTemplate = await capture(
      apiEvent('POST', '/v1/requests', { as: 'bench-sc-000000', body: activation }),
      201,
    );
    await bill('POST /v1/requests (selfActivate)', activateTemplate);
    const activating = userRef('bench-sc-000000');
    await measure(
      'POST /v1/requests (selfActivate)',
      `reads at once: role Query + live slots Query + pending GetItem + head GetItem; ${MINIMAL_TX}`,
      handlerStep((i) => apiEvent('POST', '/v1/requests', { as: `bench-sh-${pad(i)}`, body: activation }), 201),
      minimalStep(activateTemplate, 'bench-sc-000000', (i) => `bench-sf-${pad(i)}`, [
        { query: rawQueryInput(queries.roleItems('bench-role-3'), true) },
        { query: rawQueryInput(queries.live(activating, 'bench-role-3'), true) },
        {
          get: getInput(keys.pending({ ...activating, roleId: 'bench-role-3', assignmentType: 'active', scope: '/' })),
        },
        headRead,
      ]),
      2,
    );

    // 4. "My assignments": one strongly consistent Query of the caller's live slots.
    const mine = apiEvent('GET', '/v1/me/assignments', { as: 'alice' });
    const allLive = rawQueryInput(queries.live(userRef('alice')), true);
    await measure(
      'GET /v1/me/assignments',
      '1 Query: all live slots',
      handlerStep(() => mine, 200),
      () => () => query(allLive),
      1,
    );

    // 5. The audit list, newest 50: a Query of 50 items of one of the newest day's shard partitions.
    const audit = apiEvent('GET', '/v1/audit-events?limit=50', { as: 'admin' });
    const newest = (await invoke(audit)).body as { items?: { time?: string }[] } | undefined;
    const newestTime = newest?.items?.[0]?.time;
    if (!newestTime) throw new Error('the audit list returned no events');
    // The page's minimal plan (issue 18 item 2): the newest day's shard partitions, as many items each as the listing
    // asks of each (audit.ts), and the gate's authority Query, all at once: one round trip. The days with events are
    // read only when the newest day does not fill the page (not here: the seeded day holds ~400 events).
    const day = newestTime.slice(0, 10);
    const perShard = Math.max(4, Math.ceil((2 * 50) / AUDIT_SHARDS) + 1);
    const shardQueries = queries
      .auditDay(day, '0', `${newestTime}\uffff`, false)
      .map((q) => rawQueryInput(q, false, perShard));
    await measure(
      'GET /v1/audit-events?limit=50',
      `the page's reads at once: ${AUDIT_SHARDS} shard Queries (${perShard} items each) and the gate's authority Query`,
      handlerStep(() => audit, 200),
      () => async () => {
        await Promise.all([query(authorityQuery), ...shardQueries.map(query)]);
      },
      1,
    );

    // 6. An approval that grants (issue 18 item 5): the approve call's own DynamoDB plan, traced once (its latency
    //    from approve to the access check saying yes is bench/workflow.ts's). Its minimal plan: the request, the
    //    approver's authority and groups and the chain head at once; the grant's reads at once (live slots, role
    //    partition, name); one transaction: 3 round trips.
    await must(
      apiEvent('POST', '/v1/roles', {
        as: 'admin',
        body: { id: 'bench-approved', displayName: 'approved', privileged: false },
      }),
      201,
    );
    const approvalPolicy = (await must(apiEvent('GET', '/v1/roles/bench-approved/policy', { as: 'admin' }), 200)) as {
      activation: Record<string, unknown>;
    };
    approvalPolicy.activation.approval = {
      required: true,
      stages: [{ approvers: [{ type: 'user', id: 'bench-approver' }], requiredApprovals: 1, timeout: 'PT4H' }],
    };
    await must(apiEvent('PUT', '/v1/roles/bench-approved/policy', { as: 'admin', body: approvalPolicy }), 200);
    await must(assign('bench-asker', 'bench-approved', 'eligible', '/'), 201);
    const asked = (await must(
      apiEvent('POST', '/v1/requests', { as: 'bench-asker', body: { ...activation, roleId: 'bench-approved' } }),
      202,
    )) as { id: string };
    const statsBefore = { ...store.stats };
    const approvePlan = await tracer.trace(() =>
      must(
        apiEvent('POST', `/v1/requests/${asked.id}/approve`, { as: 'bench-approver', body: { justification: 'ok' } }),
        200,
      ),
    );
    const approve = {
      name: 'POST /v1/requests/{id}/approve (grants)',
      roundTrips: approvePlan.plan.roundTrips,
      roundTripsToCommit: approvePlan.plan.calls.find((c) => c.command === 'TransactWriteItems')?.depth ?? null,
      minimalRoundTrips: 3,
      calls: approvePlan.plan.calls.length,
      rcu: store.stats.readUnits - statsBefore.readUnits,
      wcu: store.stats.writeUnits - statsBefore.writeUnits,
    };
    console.log(
      `\n${approve.name}: ${approve.roundTrips} round trips (${approve.roundTripsToCommit} to its commit; minimal plan ${approve.minimalRoundTrips}), ${approve.calls} calls, ${fmt(approve.rcu, 1)} RCU, ${fmt(approve.wcu, 1)} WCU`,
    );

    const capacityReported = handlerReported || floorUnits.reported;
    console.log(
      `\nLatency per call in ms (p50/p99 over ${ITERATIONS}), ratio = handler / floor; trips = sequential DynamoDB round trips, handler/floor; capacity units per call${capacityReported ? '' : ' (DynamoDB Local reported no ConsumedCapacity: shown as 0)'}:\n`,
    );
    console.log(
      table(
        [
          'operation',
          'trips',
          'calls',
          'p50',
          'p99',
          'floor p50',
          'floor p99',
          'x p50',
          'x p99',
          'RCU',
          'WCU',
          'floor RCU',
          'floor WCU',
        ],
        rows.map((r) => [
          r.name,
          `${r.roundTrips}/${r.floorRoundTrips}`,
          `${fmt(r.handlerCalls, 1)}/${fmt(r.floorCalls, 1)}`,
          fmt(r.handler.p50),
          fmt(r.handler.p99),
          fmt(r.floorSample.p50),
          fmt(r.floorSample.p99),
          fmt(r.ratioP50),
          fmt(r.ratioP99),
          fmt(r.handlerRcu, 1),
          fmt(r.handlerWcu, 1),
          fmt(r.floorRcu, 1),
          fmt(r.floorWcu, 1),
        ]),
      ),
    );
    console.log('\nfloors:');
    for (const r of rows) console.log(`  ${r.name}: ${r.floor}`);

    // The WCU column above is DynamoDB Local's TOTAL (a sum of distinct item costs); the bill, item by item:
    console.log("\nwrites billed item by item (table + index copies; DynamoDB Local's TOTAL above is no bill):");
    console.log(
      table(
        ['operation', 'items', 'table WCU', 'index WCU', 'WCU', 'plan items', 'plan table', 'plan index', 'plan WCU'],
        Object.entries(billed).map(([name, b]) => [
          name,
          String(b.handler.items),
          String(b.handler.table),
          String(b.handler.indexes),
          String(b.handler.total),
          String(b.minimal.items),
          String(b.minimal.table),
          String(b.minimal.indexes),
          String(b.minimal.total),
        ]),
      ),
    );
    // Each item of the handler's transaction (what bench/README.md's item-by-item tables quote).
    for (const [name, b] of Object.entries(billed)) {
      console.log(`${name}, item by item:`);
      for (const e of b.handler.each) {
        const kind = e.key.split(' ')[0]?.replace(/#.*/, '#') ?? '';
        console.log(
          `  ${e.op.padEnd(14)} ${kind.padEnd(12)} ${String(e.bytes).padStart(5)} B  ${e.table} + ${e.indexes}`,
        );
      }
    }

    // Cold starts: the same DynamoDB Local and table, so the first call of each bundle does real work.
    console.log(`\ncold init (${COLD_RUNS} fresh node processes per bundle, medians)…`);
    const userCalls: Record<string, Built> = {
      meta: apiEvent('GET', '/v1/openapi.json'),
      roles: apiEvent('GET', '/v1/roles/bench-role-1', { as: 'alice' }),
      principals: apiEvent('GET', '/v1/principals/alice', { as: 'alice' }),
      requests: apiEvent('GET', '/v1/requests?limit=10', { as: 'alice' }),
      assignments: mine,
      access: selfCheck,
      audit,
    };
    const events: Record<string, unknown> = Object.fromEntries(
      Object.entries(userCalls).map(([fn, b]) => [fn, b.event]),
    );
    events.bootstrap = {
      RequestType: 'Update',
      ResourceProperties: { ServiceToken: 'bench', BootstrapAdmins: 'admin' },
      OldResourceProperties: { ServiceToken: 'bench', BootstrapAdmins: 'admin' },
      PhysicalResourceId: 'elevate-bootstrap',
    };
    const coldResult: ColdResult = await measureCold({
      root: ROOT,
      events,
      baselineKey: keys.install() as Record<string, string>,
      planFloors: {
        audit: {
          plan: `the page's minimal plan: the gate's authority Query and ${AUDIT_SHARDS} shard Queries at once`,
          event: {
            queries: [authorityQuery, ...shardQueries].map(({ ReturnConsumedCapacity: _, ...q }) => q),
          },
        },
      },
      env: {
        TABLE_NAME: tableName,
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        AWS_REGION: REGION,
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        ELEVATE_LOG: 'error',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      runs: COLD_RUNS,
    });
    if (coldResult.error) {
      console.log(`bundles: not measured: ${coldResult.error}`);
    } else {
      const b = coldResult.baseline;
      console.log(
        `bundles from ${coldResult.source}${coldResult.synthMs ? ` (${fmt(coldResult.synthMs / 1000, 1)} s)` : ''}, run on Node ${coldResult.node}`,
      );
      if (b) {
        console.log(
          `floor bundle (client-dynamodb + lib-dynamodb only): ${fmt(b.sizeKB, 1)} KB; init ${fmt(b.importOnly.initMs, 1)} ms without a call, ${fmt(b.withGetItem.initMs, 1)} ms with one GetItem (${fmt(b.withGetItem.sinceStartMs, 1)} ms since process start; CPU ${fmt(b.withGetItem.cpuMs, 1)} ms)\n`,
        );
      }
      console.log(
        table(
          [
            'function',
            'cold-start KB',
            'total KB',
            'import ms',
            '1st call ms',
            'init ms',
            'since start ms',
            'cpu ms',
            'floor',
            'x init',
            'x cpu',
            'status',
          ],
          coldResult.rows.map((r) => [
            r.fn,
            fmt(r.sizeKB, 1),
            fmt(r.totalKB, 1),
            r.cold ? fmt(r.cold.importMs, 1) : '-',
            r.cold ? fmt(r.cold.firstCallMs, 1) : '-',
            r.cold ? fmt(r.cold.initMs, 1) : '-',
            r.cold ? fmt(r.cold.sinceStartMs, 1) : '-',
            r.cold ? fmt(r.cold.cpuMs, 1) : '-',
            r.floor ?? '-',
            r.ratio !== undefined ? fmt(r.ratio) : '-',
            r.cpuRatio !== undefined ? fmt(r.cpuRatio) : '-',
            r.cold ? String(r.cold.status ?? '-') : '-',
          ]),
        ),
      );
      for (const r of coldResult.rows) if (r.error) console.log(`  ${r.fn}: ${r.error}`);
      for (const r of coldResult.rows) {
        if (!r.planFloor) continue;
        const p = r.planFloor;
        console.log(
          `${r.fn} against the floor bundle replaying ${p.plan}: floor init ${fmt(p.cold.initMs, 1)} ms (1st call ${fmt(p.cold.firstCallMs, 1)} ms, CPU ${fmt(p.cold.cpuMs, 1)} ms); x init ${fmt(p.ratio)}, x cpu ${fmt(p.cpuRatio)}`,
        );
      }
    }

    const results = {
      node: process.version,
      iterations: ITERATIONS,
      warmup: WARMUP,
      dynamodb: dynamo.started ? 'DynamoDB Local (in memory, started by the bench)' : dynamo.endpoint,
      capacityReported,
      /** Per operation: round trips (handler / minimal plan), capacity, latency and the ratio to the plan's replay. */
      operations: Object.fromEntries(
        rows.map((r) => [
          r.name,
          {
            roundTrips: r.roundTrips,
            minimalRoundTrips: r.floorRoundTrips,
            rcu: r.handlerRcu,
            wcu: r.handlerWcu,
            p50: r.handler.p50,
            p99: r.handler.p99,
            minimalPlanP50: r.floorSample.p50,
            minimalPlanP99: r.floorSample.p99,
            ratioP50: r.ratioP50,
            ratioP99: r.ratioP99,
            minimalRcu: r.floorRcu,
            minimalWcu: r.floorWcu,
            ...(billed[r.name] && {
              /** The transaction billed item by item (table + index copies), the handler's and the plan's. */
              billedWcu: {
                table: billed[r.name]?.handler.table,
                indexes: billed[r.name]?.handler.indexes,
                total: billed[r.name]?.handler.total,
                items: billed[r.name]?.handler.each,
              },
              minimalBilledWcu: {
                table: billed[r.name]?.minimal.table,
                indexes: billed[r.name]?.minimal.indexes,
                total: billed[r.name]?.minimal.total,
              },
            }),
          },
        ]),
      ),
      approve,
      load: loadAverage(),
      latency: rows,
      cold: coldResult,
    };
    // A cold-only run does not overwrite the full run's record.
    const out = join(ROOT, 'bench', COLD_ONLY ? 'results-cold.json' : 'results.json');
    // The audit export's and the review campaign's figures (npm run bench:audit, bench:reviews: minutes each)
    // survive this run's rewrite of the file.
    const before = existsSync(out)
      ? (JSON.parse(readFileSync(out, 'utf8')) as { audit?: unknown; reviews?: unknown })
      : {};
    const kept = {
      ...(before.audit === undefined ? {} : { audit: before.audit }),
      ...(before.reviews === undefined ? {} : { reviews: before.reviews }),
    };
    writeFileSync(out, `${JSON.stringify({ ...results, ...kept }, null, 2)}\n`);
    console.log(`\nwrote ${out}`);
    raw.destroy();
  } finally {
    await dynamo.stop();
  }
}

await main();
