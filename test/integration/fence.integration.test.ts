/**
 * The session fence against DynamoDB Local and the Identity Center stand-in (the real SDK client over HTTP), on the
 * manual clock: the contract statement after fenceSession, kept until SessionDuration + 5 minutes and then taken out
 * by unfenceDue; foreign statements untouched; two racing fences both kept; a fence over AWS's size limit refused
 * loudly (sessionFenceFailed).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type IdentityCenterEndpoint,
  LOCAL_IDC_INSTANCE_ARN,
  LOCAL_IDENTITY_STORE_ID,
  LOCAL_PERMISSION_SETS,
  LocalIdentityCenter,
  startIdentityCenterEndpoint,
} from '#infra/local/identity-center.ts';
import { ManualClock, useClock } from '#shared/clock.ts';
import { type Deps, depsFromEnv } from '#shared/deps.ts';
import { fenceStatement, INLINE_POLICY_MAX_NON_WHITESPACE, policySize } from '#shared/domain/fence.ts';
import { type IdentityCenter, SsoAdminIdentityCenter } from '#shared/ports/identity-center.ts';
import { AwsIdentityStore } from '#shared/ports/identity-store.ts';
import { AwsOrganizations } from '#shared/ports/organizations.ts';
import type { RetryPolicy } from '#shared/ports/retry.ts';
import { type FenceRecord, keys, stored } from '#shared/store/records.ts';
import { alertId } from '#shared/usecases/alerts.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { fenceSession, type PollPolicy, unfenceDue } from '#shared/usecases/fence.ts';
import { reconcile } from '#shared/usecases/reconcile.ts';
import { call } from '#test/support/invoke.ts';
import { createTestTable } from '#test/support/table.ts';

const clock = new ManualClock(new Date('2026-12-01T09:00:00Z'));
const standIn = new LocalIdentityCenter({ clock, latency: 'PT2S' });
/** Waiting passes time on the manual clock (the stand-in's operations end once it has passed their latency). */
const retry: RetryPolicy = {
  attempts: 6,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  sleep: async (ms) => clock.advance(ms),
  random: () => 0.5,
};
const poll: PollPolicy = { attempts: 8, baseDelayMs: 500, maxDelayMs: 4_000, sleep: async (ms) => clock.advance(ms) };
const ENV = [
  'AWS_ENDPOINT_URL_SSO_ADMIN',
  'AWS_ENDPOINT_URL_IDENTITYSTORE',
  'AWS_ENDPOINT_URL_ORGANIZATIONS',
  'ELEVATE_IDC_INSTANCE_ARN',
  'ELEVATE_IDENTITY_STORE_ID',
  'ELEVATE_FENCE_SESSIONS',
];
const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
let endpoint: IdentityCenterEndpoint;
let deps: Deps;
let idc: SsoAdminIdentityCenter;

const ADMIN = LOCAL_PERMISSION_SETS.admin; // SessionDuration PT1H
const READONLY = LOCAL_PERMISSION_SETS.readonly; // PT4H
const FOREIGN = { Sid: 'TeamReadsLogs', Effect: 'Allow', Action: ['logs:Get*'], Resource: '*' };

const withIdentityCenter = (identityCenter: IdentityCenter): Deps => ({
  ...deps,
  provisioning: { ...(deps.provisioning as NonNullable<Deps['provisioning']>), identityCenter },
});

const policyOf = (arn: string) => standIn.snapshot().inlinePolicies[arn] as { Statement: unknown[] } | null;

async function record(arn: string): Promise<FenceRecord | undefined> {
  const item = await deps.store.get(keys.fences(arn));
  return item ? stored.fences.fromItem(item) : undefined;
}

async function auditOf(action: string) {
  const res = await call('GET', `/v1/audit-events?action=${action}`, { as: 'admin' });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.items as { details: Record<string, unknown>; target: Record<string, unknown> }[];
}

beforeAll(async () => {
  useClock(clock);
  endpoint = await startIdentityCenterEndpoint(standIn);
  await createTestTable();
  process.env.AWS_ENDPOINT_URL_SSO_ADMIN = endpoint.url;
  process.env.AWS_ENDPOINT_URL_IDENTITYSTORE = endpoint.url;
  process.env.AWS_ENDPOINT_URL_ORGANIZATIONS = endpoint.url;
  process.env.ELEVATE_IDC_INSTANCE_ARN = LOCAL_IDC_INSTANCE_ARN;
  process.env.ELEVATE_IDENTITY_STORE_ID = LOCAL_IDENTITY_STORE_ID;
  delete process.env.ELEVATE_FENCE_SESSIONS;
  idc = new SsoAdminIdentityCenter(LOCAL_IDC_INSTANCE_ARN, retry);
  deps = {
    ...depsFromEnv(),
    provisioning: {
      identityCenter: idc,
      identityStore: new AwsIdentityStore(LOCAL_IDENTITY_STORE_ID, retry),
      organizations: new AwsOrganizations(retry),
    },
  };
  await bootstrap(depsFromEnv(), ['admin']);
}, 180_000);

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await endpoint?.close();
});

beforeEach(() => {
  clock.advance(60_000);
});

describe('fenceSession and unfenceDue', () => {
  it('puts the contract statement next to the foreign ones, provisions it, and takes it out after PT1H + 5 min', async () => {
    // Prepare: the permission set has a policy of its own.
    await idc.putInlinePolicy(ADMIN, JSON.stringify({ Version: '2012-10-17', Statement: [FOREIGN] }));
    const end = clock.now();
    // Act
    const result = await fenceSession(
      deps,
      {
        permissionSetArn: ADMIN,
        accountId: '111111111111',
        userName: 'alice',
        end,
        requestId: 'req-1',
        principalId: 'alice',
      },
      { poll },
    );
    // Assess: the statement is there, exactly, and provisioned to the account.
    expect(result).toMatchObject({ status: 'fenced', provisioning: 'SUCCEEDED' });
    const endIso = `${end.toISOString().slice(0, 19)}Z`;
    expect(policyOf(ADMIN)?.Statement).toEqual([FOREIGN, fenceStatement('alice', '111111111111', endIso)]);
    const fenced = await auditOf('session.fenced');
    expect(fenced[0]?.details).toMatchObject({
      permissionSetArn: ADMIN,
      accountId: '111111111111',
      userName: 'alice',
      end: endIso,
      sessionDuration: 'PT1H',
      provisioning: { status: 'SUCCEEDED' },
    });
    expect(fenced[0]?.target).toMatchObject({ principalId: 'alice', requestId: 'req-1' });

    // Act: the reconcile job before and after end + SessionDuration + 5 minutes.
    clock.set(new Date(end.getTime() + 64 * 60_000));
    const early = await unfenceDue(deps, clock.now(), undefined, { poll });
    const earlyPolicy = policyOf(ADMIN);
    clock.set(new Date(end.getTime() + 65 * 60_000 + 1_000));
    const due = await unfenceDue(deps, clock.now(), undefined, { poll });
    // Assess
    expect(early.unfenced).toBe(0);
    expect(earlyPolicy?.Statement).toHaveLength(2);
    expect(due).toMatchObject({ unfenced: 1, failed: 0, complete: true });
    expect(policyOf(ADMIN)?.Statement).toEqual([FOREIGN]);
    expect((await record(ADMIN))?.fences).toEqual([]);
    const unfenced = await auditOf('session.unfenced');
    expect(unfenced[0]?.details).toMatchObject({ permissionSetArn: ADMIN, userName: 'alice', end: endIso });
    expect(unfenced[0]?.details.provisioning).toMatchObject({ status: 'SUCCEEDED' });
    // Nothing is left for the index: the next run has no work.
    expect(await unfenceDue(deps, clock.now(), undefined, { poll })).toMatchObject({ unfenced: 0, followed: 0 });
    await idc.deleteInlinePolicy(ADMIN);
  });

  it('keeps both statements of two fences racing on one permission set (the stale write is written again)', async () => {
    // Prepare: force the lost update: A reads the record before B's fence is in it, and A's policy lands last.
    let describes = 0;
    let reads = 0;
    let aRead!: () => void;
    let bRead!: () => void;
    let fullWritten!: () => void;
    const aHasRead = new Promise<void>((r) => {
      aRead = r;
    });
    const bHasRead = new Promise<void>((r) => {
      bRead = r;
    });
    const fullLanded = new Promise<void>((r) => {
      fullWritten = r;
    });
    let staleHeld = false;
    let stalePuts = 0;
    const gated = new Proxy(idc, {
      get(target, prop) {
        if (prop === 'describePermissionSet') {
          return async (arn: string) => {
            if (++describes === 2) await aHasRead; // B starts once A has read its record
            return target.describePermissionSet(arn);
          };
        }
        if (prop === 'getInlinePolicy') {
          return async (arn: string) => {
            const n = ++reads;
            if (n === 1) {
              aRead();
              await bHasRead; // A's policy is read after B's fence is recorded: A's view is stale
            }
            if (n === 2) bRead();
            return target.getInlinePolicy(arn);
          };
        }
        if (prop === 'putInlinePolicy') {
          return async (arn: string, policy: string) => {
            const full = policy.includes('*:alice') && policy.includes('*:bob');
            if (!full) stalePuts++;
            if (!full && !staleHeld) {
              staleHeld = true;
              await fullLanded; // the stale write lands after the full one
            }
            await target.putInlinePolicy(arn, policy);
            if (full) fullWritten();
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const racing = withIdentityCenter(gated);
    const end = clock.now();
    // Act
    const [a, b] = await Promise.all([
      fenceSession(
        racing,
        { permissionSetArn: READONLY, accountId: '111111111111', userName: 'alice', end, requestId: 'req-a' },
        { poll },
      ),
      fenceSession(
        racing,
        { permissionSetArn: READONLY, accountId: '222222222222', userName: 'bob', end, requestId: 'req-b' },
        { poll },
      ),
    ]);
    // Assess
    expect(a.status, JSON.stringify(a)).toBe('fenced');
    expect(b.status, JSON.stringify(b)).toBe('fenced');
    expect(stalePuts).toBeGreaterThan(0);
    const statements = JSON.stringify(policyOf(READONLY));
    expect(statements).toContain('*:alice');
    expect(statements).toContain('*:bob');
    expect((await record(READONLY))?.fences.map((f) => f.userName).sort()).toEqual(['alice', 'bob']);
  });

  it('refuses loudly a fence that would outgrow the inline policy limit, and changes nothing', async () => {
    // Prepare: a foreign statement that leaves no room for one more statement.
    const resources: string[] = [];
    const doc = () => JSON.stringify({ Version: '2012-10-17', Statement: [{ ...FOREIGN, Resource: resources }] });
    while (policySize(doc()).nonWhitespace < INLINE_POLICY_MAX_NON_WHITESPACE - 100) {
      resources.push(`arn:aws:logs:us-east-1:111111111111:log-group:g${resources.length}`);
    }
    await idc.putInlinePolicy(ADMIN, doc());
    // Act
    const result = await fenceSession(
      deps,
      { permissionSetArn: ADMIN, accountId: '222222222222', userName: 'carol', end: clock.now(), requestId: 'req-c' },
      { poll },
    );
    // Assess
    expect(result.status).toBe('failed');
    expect((result as { reason: string }).reason).toMatch(/over AWS's limits/);
    expect(await idc.getInlinePolicy(ADMIN)).toBe(doc());
    expect((await record(ADMIN))?.fences.some((f) => f.userName === 'carol')).toBe(false);
    const alert = await call('GET', '/v1/alerts?status=active', { as: 'admin' });
    const raised = alert.body.items.find(
      (a: { id: string }) => a.id === alertId('sessionFenceFailed', `${ADMIN}|222222222222|carol`),
    );
    expect(raised).toMatchObject({ type: 'sessionFenceFailed', severity: 'high', status: 'active' });
    expect((await auditOf('session.fenceFailed'))[0]?.details).toMatchObject({ userName: 'carol' });
    await idc.deleteInlinePolicy(ADMIN);
  });

  it('raises sessionFenceFailed when AWS ends the provisioning FAILED; the next fence that works resolves it', async () => {
    // Prepare
    standIn.addFault({
      operation: 'ProvisionPermissionSet',
      accountId: '333333333333',
      failureReason: 'Role policy size exceeded',
      count: 1,
    });
    const input = { permissionSetArn: ADMIN, accountId: '333333333333', userName: 'dave', requestId: 'req-d' };
    // Act
    const failed = await fenceSession(deps, { ...input, end: clock.now() }, { poll });
    clock.advance(60_000);
    const retried = await fenceSession(deps, { ...input, end: clock.now() }, { poll });
    // Assess
    expect(failed).toMatchObject({ status: 'failed' });
    expect((failed as { reason: string }).reason).toMatch(/FAILED: Role policy size exceeded/);
    expect(retried).toMatchObject({ status: 'fenced', provisioning: 'SUCCEEDED' });
    const alerts = await call('GET', '/v1/alerts?status=resolved', { as: 'admin' });
    expect(alerts.body.items.map((a: { id: string }) => a.id)).toContain(
      alertId('sessionFenceFailed', `${ADMIN}|333333333333|dave`),
    );
  });

  it('leaves a provisioning it stopped waiting for to the reconcile job, which follows it', async () => {
    // Act: nobody waits.
    const result = await fenceSession(
      deps,
      { permissionSetArn: READONLY, accountId: '333333333333', userName: 'erin', end: clock.now(), requestId: 'req-e' },
      { poll: { ...poll, attempts: 0 } },
    );
    const pending = (await record(READONLY))?.pending ?? [];
    clock.advance(3_000);
    const followed = await unfenceDue(deps, clock.now(), undefined, { poll });
    // Assess
    expect(result).toMatchObject({ status: 'fenced', provisioning: 'IN_PROGRESS' });
    expect(pending).toEqual([expect.objectContaining({ accountId: '333333333333', purpose: 'fence' })]);
    expect(followed.followed).toBe(1);
    expect((await record(READONLY))?.pending).toEqual([]);
  });

  it('is taken out by the reconcile job (every 5 minutes) once its time has come', async () => {
    // Prepare
    const end = clock.now();
    const fenced = await fenceSession(
      deps,
      { permissionSetArn: ADMIN, accountId: '222222222222', userName: 'grace', end, requestId: 'req-g' },
      { poll },
    );
    expect(fenced.status).toBe('fenced');
    expect(JSON.stringify(policyOf(ADMIN))).toContain('*:grace');
    // Act
    clock.set(new Date(end.getTime() + 66 * 60_000));
    const report = await reconcile(deps);
    // Assess
    expect(report.unfenced).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(policyOf(ADMIN) ?? null)).not.toContain('*:grace');
    expect((await record(ADMIN))?.fences.some((f) => f.userName === 'grace')).toBe(false);
  });

  it('fences nothing with FenceSessions off', async () => {
    // Prepare
    const ic = deps.config.identityCenter as NonNullable<Deps['config']['identityCenter']>;
    const off: Deps = { ...deps, config: { ...deps.config, identityCenter: { ...ic, fenceSessions: false } } };
    const before = JSON.stringify(standIn.snapshot().inlinePolicies);
    // Act
    const result = await fenceSession(off, {
      permissionSetArn: ADMIN,
      accountId: '111111111111',
      userName: 'frank',
      end: clock.now(),
      requestId: 'req-f',
    });
    // Assess
    expect(result).toEqual({ status: 'skipped', reason: 'FenceSessions is off' });
    expect(JSON.stringify(standIn.snapshot().inlinePolicies)).toBe(before);
  });
});
