import { beforeAll, describe, expect, it } from 'vitest';
import { depsFromEnv } from '#shared/deps.ts';
import { AUDIT_SHARDS } from '#shared/domain/audit-chain.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { call } from '#test/support/invoke.ts';
import { type IoPlan, IoTracer } from '#test/support/io-trace.ts';
import { createTestTable } from '#test/support/table.ts';

/**
 * The DynamoDB plan of an activation and of an assignment (bench/README.md, "Activation and assignment I/O"): the
 * sequential round trips on the critical path (calls in flight together count once) and the calls made. These
 * are deterministic (what waits for what), never timings. The targets of issue 18: at most 4 round trips each.
 */
let tracer: IoTracer;

beforeAll(async () => {
  await createTestTable();
  const deps = depsFromEnv();
  await bootstrap(deps, ['admin']);
  tracer = new IoTracer(deps.store.doc);
  expect(
    (await call('POST', '/v1/roles', { as: 'admin', body: { id: 'io-role', displayName: 'IO', privileged: true } }))
      .status,
  ).toBe(201);
});

const assign = (principalId: string, assignmentType: 'active' | 'eligible') =>
  call('POST', '/v1/requests', {
    as: 'admin',
    body: { action: 'adminAssign', assignmentType, principalId, roleId: 'io-role', scope: '/', justification: 'io' },
  });

const activate = (as: string | Record<string, unknown>) =>
  call('POST', '/v1/requests', {
    as,
    body: {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId: 'io-role',
      justification: 'io',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
    },
  });

const commands = (plan: IoPlan, depth: number) =>
  plan.calls
    .filter((c) => c.depth === depth)
    .map((c) => c.command)
    .sort();

describe('the I/O plan of an activation and an assignment', () => {
  it('activates in 2 round trips: every read at once, then one transaction beside the mail lookups', async () => {
    // Prepare
    expect((await assign('io-alice', 'eligible')).status).toBe(201);
    // Act
    const { result, plan } = await tracer.trace(() => activate('io-alice'));
    // Assess
    expect(result.status).toBe(201);
    expect(plan.roundTrips).toBe(2);
    expect(commands(plan, 1)).toEqual(['GetItem', 'GetItem', 'GetItem', 'Query', 'Query', 'Query']);
    expect(plan.calls.filter((c) => c.command === 'TransactWriteItems')).toHaveLength(1);
    expect(plan.calls.find((c) => c.command === 'TransactWriteItems')?.depth).toBe(2);
  });

  it('keeps an activation by a caller with a recorded e-mail within 4 round trips (suppressions read too)', async () => {
    // Prepare: the caller's name and e-mail are recorded by its first change; its mail then has an address.
    expect((await assign('io-bob', 'eligible')).status).toBe(201);
    const bob = { sub: 'io-bob', amr: ['pwd', 'mfa'], email: 'bob@example.com', name: 'Bob' };
    expect(
      (
        await call('POST', '/v1/requests', {
          as: bob,
          body: { action: 'selfDeactivate', assignmentType: 'active', roleId: 'io-role', scope: '/' },
        })
      ).status,
    ).toBe(404);
    // Act
    const { result, plan } = await tracer.trace(() => activate(bob));
    // Assess
    expect(result.status).toBe(201);
    expect(plan.roundTrips).toBeLessThanOrEqual(4);
    expect(plan.calls.find((c) => c.command === 'TransactWriteItems')?.depth).toBe(2);
  });

  it('assigns in 3 round trips: the gate (authority and settings at once), the reads at once, the transaction', async () => {
    // Act
    const { result, plan } = await tracer.trace(() => assign('io-carol', 'active'));
    // Assess
    expect(result.status).toBe(201);
    expect(plan.roundTrips).toBe(3);
    expect(commands(plan, 1)).toEqual(['GetItem', 'Query']);
    expect(plan.calls.find((c) => c.command === 'TransactWriteItems')?.depth).toBe(3);
  });

  it('answers a refused activation with the same refusal, and writes only its audit event', async () => {
    // Act: a caller without an eligibility.
    const { result, plan } = await tracer.trace(() => activate('io-nobody'));
    // Assess
    expect(result.status).toBe(400);
    expect(result.body.code).toBe('NotEligible');
    const writes = plan.calls.filter((c) => c.command === 'TransactWriteItems');
    expect(writes).toHaveLength(1);
    expect(writes[0]?.what).not.toContain('LIVE#');
    expect(writes[0]?.what).toContain('AUDIT#');
  });

  it('reads a gated page beside the gate: the audit list in 1 round trip, the same 403 when refused', async () => {
    // Prepare: a first call of the function instance (its first page reads the same as any other).
    expect((await call('GET', '/v1/audit-events?limit=5', { as: 'admin' })).status).toBe(200);
    // Act
    const read = await tracer.trace(() => call('GET', '/v1/audit-events?limit=5', { as: 'admin' }));
    const refused = await tracer.trace(() => call('GET', '/v1/audit-events?limit=5', { as: 'io-nobody' }));
    const invalidRefused = await tracer.trace(() => call('GET', '/v1/audit-events?limit=0', { as: 'io-nobody' }));
    // Assess
    expect(read.result.status).toBe(200);
    expect(read.result.body.items.length).toBeGreaterThan(0);
    // The gate's authority Query beside today's shards, and nothing else: the events of this test are today's, so
    // they are the page (neither the days with events nor the install record is read).
    expect(read.plan.roundTrips).toBe(1);
    const first = read.plan.calls.filter((c) => c.depth === 1).map((c) => c.what);
    expect(first).toContain('P#user#admin LIVE#elevate-…');
    expect(first.filter((what) => what.startsWith('AUDIT#'))).toHaveLength(AUDIT_SHARDS);
    expect(read.plan.calls).toHaveLength(1 + AUDIT_SHARDS);
    expect(read.plan.calls.every((c) => c.command === 'Query')).toBe(true);
    expect(refused.result.status).toBe(403);
    expect(refused.result.body.items).toBeUndefined();
    expect(refused.plan.calls.some((c) => c.command === 'TransactWriteItems')).toBe(false);
    expect(invalidRefused.result.status).toBe(403);
  });

  it('approves (the last stage, which grants) in 3 round trips to its commit: request and approver, grant reads, transaction', async () => {
    // Prepare: a role whose activation needs one approval by bob; carol eligible, her activation pending.
    const policy = await call('GET', '/v1/roles/io-role/policy', { as: 'admin' });
    const approval = {
      required: true,
      stages: [{ approvers: [{ type: 'user', id: 'io-bob' }], requiredApprovals: 1, timeout: 'PT4H' }],
    };
    const put = await call('PUT', '/v1/roles/io-role/policy', {
      as: 'admin',
      body: { ...policy.body, activation: { ...policy.body.activation, approval } },
    });
    expect(put.status).toBe(200);
    expect((await assign('io-dave', 'eligible')).status).toBe(201);
    const asked = await activate('io-dave');
    expect(asked.status).toBe(202);
    // Act
    const { result, plan } = await tracer.trace(() =>
      call('POST', `/v1/requests/${asked.body.id}/approve`, { as: 'io-bob', body: { justification: 'ok' } }),
    );
    // Assess
    expect(result.status).toBe(200);
    expect(result.body.status).toBe('Granted');
    const writes = plan.calls.filter((c) => c.command === 'TransactWriteItems');
    expect(writes).toHaveLength(1);
    expect(writes[0]?.depth).toBe(3);
    expect(commands(plan, 1)).toEqual(['GetItem', 'GetItem', 'Query', 'Query']);
    // Only the mail's recipients (read beside the transaction) may come after it.
    expect(plan.roundTrips).toBeLessThanOrEqual(4);
  });
});
