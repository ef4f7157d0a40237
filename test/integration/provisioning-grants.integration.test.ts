/**
 * Grants made real in IAM Identity Center: the provisioning steps against DynamoDB Local and the local stand-in
 * (real SDK clients over HTTP), the stand-in on a manual clock of its own so that each AWS operation finishes
 * exactly when the test moves it. The steps are driven here as the workflow drives them (test/workflow has the
 * state machine itself): one step, wait what it says, the next.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type IdentityCenterEndpoint,
  LOCAL_IDC_INSTANCE_ARN,
  LOCAL_IDENTITY_STORE_ID,
  LOCAL_PERMISSION_SETS,
  LocalIdentityCenter,
  startIdentityCenterEndpoint,
} from '#infra/local/identity-center.ts';
import { ManualClock, useClock } from '#shared/clock.ts';
import { depsFromEnv } from '#shared/deps.ts';
import type { WorkflowInput } from '#shared/ports/workflow.ts';
import { keys } from '#shared/store/records.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import {
  IN_STEP_NAPS_MS,
  IN_STEP_WAIT_MS,
  type ProvisionResult,
  provisionStep,
  STALLED_MS,
} from '#shared/usecases/provisioning-steps.ts';
import { reconcile } from '#shared/usecases/reconcile.ts';
import { call } from '#test/support/invoke.ts';
import { createTestTable } from '#test/support/table.ts';

const awsClock = new ManualClock(new Date('2026-12-01T00:00:00Z'));
/** Elevate's own clock (the reconcile test moves it); the stand-in's runs apart. */
const elevateClock = new ManualClock(new Date('2026-12-01T00:00:00Z'));
/** The executions Elevate starts (no Step Functions here: the test drives the steps itself). */
const started: { name: string; input: WorkflowInput }[] = [];
const standIn = new LocalIdentityCenter({ clock: awsClock, latency: 'PT5S' });
let endpoint: IdentityCenterEndpoint;
const ENV = [
  'AWS_ENDPOINT_URL_SSO_ADMIN',
  'AWS_ENDPOINT_URL_IDENTITYSTORE',
  'AWS_ENDPOINT_URL_ORGANIZATIONS',
  'ELEVATE_IDC_INSTANCE_ARN',
  'ELEVATE_IDENTITY_STORE_ID',
];
const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
const ACCOUNT = '111111111111';
const SCOPE = `/accounts/${ACCOUNT}`;
const ADMIN_PS = LOCAL_PERMISSION_SETS.admin;
let userCount = 0;

beforeAll(async () => {
  endpoint = await startIdentityCenterEndpoint(standIn);
  await createTestTable();
  process.env.AWS_ENDPOINT_URL_SSO_ADMIN = endpoint.url;
  process.env.AWS_ENDPOINT_URL_IDENTITYSTORE = endpoint.url;
  process.env.AWS_ENDPOINT_URL_ORGANIZATIONS = endpoint.url;
  process.env.ELEVATE_IDC_INSTANCE_ARN = LOCAL_IDC_INSTANCE_ARN;
  process.env.ELEVATE_IDENTITY_STORE_ID = LOCAL_IDENTITY_STORE_ID;
  useClock(elevateClock);
  const deps = depsFromEnv();
  deps.workflow = {
    start: async (name, input) => {
      started.push({ name, input });
    },
    stop: async () => {},
    succeed: async () => false,
    fail: async () => false,
  };
  await bootstrap(deps, ['admin']);
  // Three roles that all deliver ps-admin (one grant of each overlaps the others in AWS), one with two targets.
  for (const [id, targets] of [
    ['ops-a', [ADMIN_PS]],
    ['ops-b', [ADMIN_PS]],
    ['ops-c', [ADMIN_PS]],
    ['ops-two', [ADMIN_PS, LOCAL_PERMISSION_SETS.readonly]],
  ] as const) {
    expect(
      (await call('POST', '/v1/roles', { as: 'admin', body: { id, displayName: id, privileged: true } })).status,
    ).toBe(201);
    const put = await call('PUT', `/v1/roles/${id}/targets`, {
      as: 'admin',
      body: {
        targets: targets.map((permissionSetArn) => ({ type: 'identityCenterAccountAssignment', permissionSetArn })),
      },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
  }
}, 240_000);

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await endpoint?.close();
});

/** A user of its own per test (the stand-in makes its Identity Center user), eligible for the given roles. */
async function newUser(...roles: string[]): Promise<string> {
  const user = `user-${++userCount}`;
  standIn.ensureUser(user, `${user}@example.com`);
  for (const roleId of roles) {
    const given = await call('POST', '/v1/requests', {
      as: 'admin',
      body: {
        action: 'adminAssign',
        assignmentType: 'eligible',
        principalId: user,
        roleId,
        scope: SCOPE,
        justification: 'x',
      },
    });
    expect(given.status, JSON.stringify(given.body)).toBe(201);
  }
  return user;
}

const activate = (user: string, roleId: string) =>
  call('POST', '/v1/requests', {
    as: user,
    body: {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId,
      scope: SCOPE,
      justification: 'INC-9',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
    },
  });

const deactivate = (user: string, roleId: string) =>
  call('POST', '/v1/requests', {
    as: user,
    body: { action: 'selfDeactivate', assignmentType: 'active', roleId, scope: SCOPE },
  });

/**
 * The provisioning steps of one grant until they are done, moving the stand-in's clock by each wait asked for. A
 * grant may wait on another's removal (and its session fence), driven at the same time: so the bound is a real
 * minute, not a number of steps, and each wait lets the other driver run. (The steps' naps and the fence's poll sleep
 * on Elevate's manual clock, which spends no real time: they give up at once and leave the wait to the driver.)
 */
async function drive(assignmentId: string): Promise<ProvisionResult> {
  const deadline = performance.now() + 60_000;
  while (performance.now() < deadline) {
    const r = await provisionStep(depsFromEnv(), assignmentId);
    if (r.done) return r;
    expect(r.waitSeconds).toBeGreaterThanOrEqual(1);
    awsClock.advance(r.waitSeconds * 1000);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the provisioning of ${assignmentId} did not settle`);
}

const userIdOf = (user: string) => standIn.ensureUser(user).userId;
const inAws = (user: string, ps: string = ADMIN_PS) =>
  standIn
    .snapshot()
    .accountAssignments.some(
      (a) => a.accountId === ACCOUNT && a.permissionSetArn === ps && a.principalId === userIdOf(user),
    );
const assignment = async (id: string) => (await call('GET', `/v1/assignments/${id}`, { as: 'admin' })).body;
const request = async (id: string) => (await call('GET', `/v1/requests/${id}`, { as: 'admin' })).body;

/** A grant activated and provisioned: its request and assignment ids. */
async function granted(user: string, roleId: string): Promise<{ requestId: string; assignmentId: string }> {
  const made = await activate(user, roleId);
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  expect(made.body.status).toBe('Provisioning');
  await drive(made.body.assignmentId);
  expect((await request(made.body.id)).status).toBe('Granted');
  return { requestId: made.body.id, assignmentId: made.body.assignmentId };
}

describe('provisioning a grant', () => {
  it('goes Provisioning, creates the account assignment, and is Granted only once AWS says SUCCEEDED', async () => {
    // Prepare
    const user = await newUser('ops-a');
    // Act
    const made = await activate(user, 'ops-a');
    const first = await provisionStep(depsFromEnv(), made.body.assignmentId);
    const during = await request(made.body.id);
    const access = await call('GET', `/v1/access?roleId=ops-a&scope=${SCOPE}`, { as: user });
    await drive(made.body.assignmentId);
    // Assess
    expect(made.body.status).toBe('Provisioning');
    expect(first).toMatchObject({ done: false, waitSeconds: 1 });
    expect(during.status).toBe('Provisioning');
    expect(access.body).toMatchObject({ allowed: true, provisioning: 'InProgress' });
    expect((await request(made.body.id)).status).toBe('Granted');
    expect(inAws(user)).toBe(true);
    const a = await assignment(made.body.assignmentId);
    expect(a.provisioning).toEqual({
      status: 'Provisioned',
      targets: [
        {
          type: 'identityCenterAccountAssignment',
          permissionSetArn: ADMIN_PS,
          accountId: ACCOUNT,
          identityCenterUserId: userIdOf(user),
          status: 'Provisioned',
          failureReason: null,
          updatedAt: expect.any(String),
        },
      ],
    });
    const audit = await call('GET', `/v1/audit-events?principalId=${user}&action=assignment.provisioned`, {
      as: 'admin',
    });
    expect(audit.body.items).toHaveLength(1);
    expect((await call('GET', `/v1/access?roleId=ops-a&scope=${SCOPE}`, { as: user })).body.provisioning).toBe(
      'Provisioned',
    );
  });

  it('a FAILED creation fails the request with the AWS reason, rolls back what was made, and raises the alert', async () => {
    // Prepare: of two targets, the second fails in AWS
    const user = await newUser('ops-two');
    standIn.addFault({
      operation: 'CreateAccountAssignment',
      permissionSetArn: LOCAL_PERMISSION_SETS.readonly,
      accountId: ACCOUNT,
      failureReason: 'Received a 404 status error: the permission set is not provisioned',
      count: 1,
    });
    // Act
    const made = await activate(user, 'ops-two');
    await drive(made.body.assignmentId);
    // Assess
    const failed = await request(made.body.id);
    expect(failed.status).toBe('Failed');
    expect(failed.failureReason).toBe('Received a 404 status error: the permission set is not provisioned');
    const a = await assignment(made.body.assignmentId);
    expect(a.status).toBe('Revoked');
    expect(a.provisioning.status).toBe('Failed');
    expect(a.provisioning.targets.map((t: { status: string }) => t.status)).toEqual(['Deprovisioned', 'Failed']);
    expect(inAws(user, ADMIN_PS)).toBe(false);
    expect(inAws(user, LOCAL_PERMISSION_SETS.readonly)).toBe(false);
    const alerts = await call('GET', '/v1/alerts?status=active', { as: 'admin' });
    expect(alerts.body.items).toContainEqual(
      expect.objectContaining({
        type: 'provisioningFailed',
        severity: 'high',
        details: expect.objectContaining({ failureReason: failed.failureReason }),
      }),
    );
    const audit = await call('GET', `/v1/audit-events?principalId=${user}&action=assignment.provisioningFailed`, {
      as: 'admin',
    });
    expect(audit.body.items).toHaveLength(1);
    expect((await call('GET', `/v1/access?roleId=ops-two&scope=${SCOPE}`, { as: user })).body.allowed).toBe(false);
  });

  it('never removes an assignment that was in AWS before Elevate granted it (Retained)', async () => {
    // Prepare
    const user = await newUser('ops-a');
    standIn.assignOutside(ACCOUNT, ADMIN_PS, user);
    const grant = await granted(user, 'ops-a');
    // Act
    expect((await deactivate(user, 'ops-a')).status).toBe(201);
    await drive(grant.assignmentId);
    // Assess
    const a = await assignment(grant.assignmentId);
    expect(a.provisioning.status).toBe('Deprovisioned');
    expect(a.provisioning.targets[0].status).toBe('Retained');
    expect(inAws(user)).toBe(true);
  });
});

describe('looking again within the step', () => {
  /** A nap during which time passes, as it does in Lambda (both clocks move). */
  const napped: number[] = [];
  const nap = async (ms: number) => {
    napped.push(ms);
    awsClock.advance(ms);
    elevateClock.advance(ms);
  };

  it('grants in one step when AWS ends the creation within the in-step wait (no Wait state, no second invocation)', async () => {
    // Prepare
    const user = await newUser('ops-a');
    const made = await activate(user, 'ops-a');
    napped.length = 0;
    // Act: the stand-in takes 5 s; the step naps 0.25 s rising to 1 s, up to IN_STEP_WAIT_MS
    const r = await provisionStep(depsFromEnv(), made.body.assignmentId, { nap });
    // Assess: done within the step, looked at no later than 1 s after AWS ended it
    expect(r).toMatchObject({ done: true, granted: true });
    expect((await request(made.body.id)).status).toBe('Granted');
    expect(inAws(user)).toBe(true);
    const waited = napped.reduce((a, b) => a + b, 0);
    expect(waited).toBeGreaterThanOrEqual(5_000);
    expect(waited).toBeLessThanOrEqual(5_000 + 1_000);
    expect(napped).toEqual(IN_STEP_NAPS_MS.slice(0, napped.length));
  });

  it('leaves the wait to the workflow once the in-step wait is used up', async () => {
    // Prepare: AWS slower than the in-step wait (its 5 s take 20 s of the step's time)
    const user = await newUser('ops-a');
    const made = await activate(user, 'ops-a');
    let stepTime = 0;
    const slowAws = async (ms: number) => {
      stepTime += ms;
      awsClock.advance(ms / 4);
      elevateClock.advance(ms);
    };
    // Act
    const first = await provisionStep(depsFromEnv(), made.body.assignmentId, { nap: slowAws });
    // Assess
    expect(first).toMatchObject({ done: false, waitSeconds: 1 });
    expect(stepTime).toBeGreaterThan(0);
    expect(stepTime).toBeLessThanOrEqual(IN_STEP_WAIT_MS);
    expect((await request(made.body.id)).status).toBe('Provisioning');
    await drive(made.body.assignmentId);
    expect((await request(made.body.id)).status).toBe('Granted');
  });
});

describe('overlapping grants of one (user, permission set, account)', () => {
  it('the first ending leaves the AWS assignment (Retained), the second removes it', async () => {
    // Prepare
    const user = await newUser('ops-a', 'ops-b');
    const a = await granted(user, 'ops-a');
    const b = await granted(user, 'ops-b');
    expect(inAws(user)).toBe(true);
    // Act: the first ends
    expect((await deactivate(user, 'ops-a')).status).toBe(201);
    await drive(a.assignmentId);
    // Assess
    expect((await assignment(a.assignmentId)).provisioning.targets[0].status).toBe('Retained');
    expect(inAws(user)).toBe(true);
    expect((await call('GET', `/v1/access?roleId=ops-b&scope=${SCOPE}`, { as: user })).body.allowed).toBe(true);
    // Act: the second ends
    expect((await deactivate(user, 'ops-b')).status).toBe(201);
    await drive(b.assignmentId);
    // Assess
    const second = await assignment(b.assignmentId);
    expect(second.provisioning.status).toBe('Deprovisioned');
    expect(second.provisioning.targets[0].status).toBe('Deprovisioned');
    expect(inAws(user)).toBe(false);
    const audit = await call('GET', `/v1/audit-events?principalId=${user}&action=assignment.deprovisioned`, {
      as: 'admin',
    });
    expect(audit.body.items).toHaveLength(2);
  });

  it('two grants ending at once: removed once, never left behind', async () => {
    for (let round = 0; round < 3; round++) {
      // Prepare
      const user = await newUser('ops-a', 'ops-b');
      const a = await granted(user, 'ops-a');
      const b = await granted(user, 'ops-b');
      // Act: both end concurrently, and their removals run concurrently
      const ends = await Promise.all([deactivate(user, 'ops-a'), deactivate(user, 'ops-b')]);
      await Promise.all([drive(a.assignmentId), drive(b.assignmentId)]);
      // Assess
      expect(ends.map((e) => e.status)).toEqual([201, 201]);
      expect(inAws(user)).toBe(false);
      for (const id of [a.assignmentId, b.assignmentId]) {
        expect(['Deprovisioned', 'Retained']).toContain((await assignment(id)).provisioning.targets[0].status);
        expect((await assignment(id)).provisioning.status).toBe('Deprovisioned');
      }
      const ref = await depsFromEnv().store.get(keys.awsRef(`acct|${ACCOUNT}|${ADMIN_PS}|${userIdOf(user)}`));
      expect(ref?.holders).toBeUndefined();
      expect(ref?.state).toBe('absent');
    }
  }, 180_000); // three rounds of racing calls: minutes on a loaded 2-core machine

  it('a grant ending while another is made at once: the new grant keeps it in AWS', async () => {
    for (let round = 0; round < 3; round++) {
      // Prepare
      const user = await newUser('ops-a', 'ops-c');
      const a = await granted(user, 'ops-a');
      // Act: one ends while the other is made, and both are driven concurrently
      const [ended, made] = await Promise.all([deactivate(user, 'ops-a'), activate(user, 'ops-c')]);
      expect(ended.status).toBe(201);
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      await Promise.all([drive(a.assignmentId), drive(made.body.assignmentId)]);
      // Assess: whatever the order, the live grant's assignment is in AWS and its request Granted
      expect((await request(made.body.id)).status).toBe('Granted');
      expect((await assignment(made.body.assignmentId)).provisioning.status).toBe('Provisioned');
      expect(inAws(user)).toBe(true);
      expect((await assignment(a.assignmentId)).provisioning.status).toBe('Deprovisioned');
      // And once it ends too, nothing is left behind.
      expect((await deactivate(user, 'ops-c')).status).toBe(201);
      await drive(made.body.assignmentId);
      expect(inAws(user)).toBe(false);
    }
  }, 180_000); // three rounds of racing calls: minutes on a loaded 2-core machine
});

describe('the reconcile job and provisioning', () => {
  it('hands a grant whose provisioning stalled (its execution gave up) to a new execution, and a stalled removal too', async () => {
    // Prepare: a grant left Provisioning with no execution driving it
    const user = await newUser('ops-a');
    const made = await activate(user, 'ops-a');
    expect(made.body.status).toBe('Provisioning');
    elevateClock.advance(STALLED_MS + 60_000);
    // Act
    const report = await reconcile(depsFromEnv());
    // Assess
    expect(report.provisioningResumed).toBeGreaterThanOrEqual(1);
    const resumed = started.find((s) => s.name.startsWith(`${made.body.assignmentId}-resume-`));
    expect(resumed?.input).toMatchObject({
      phase: 'provision',
      grant: { provisioning: true, assignmentId: made.body.assignmentId },
    });
    await drive(made.body.assignmentId);
    expect((await request(made.body.id)).status).toBe('Granted');

    // Prepare: its removal left Deprovisioning
    expect((await deactivate(user, 'ops-a')).status).toBe(201);
    expect(started.some((s) => s.name === `${made.body.assignmentId}-end` && s.input.phase === 'deprovision')).toBe(
      true,
    );
    elevateClock.advance(STALLED_MS + 60_000);
    // Act
    await reconcile(depsFromEnv());
    // Assess
    const again = started.filter((s) => s.name.startsWith(`${made.body.assignmentId}-resume-`));
    expect(again.at(-1)?.input).toMatchObject({
      phase: 'deprovision',
      expiry: { deprovisioning: true, assignmentId: made.body.assignmentId },
    });
    await drive(made.body.assignmentId);
    expect(inAws(user)).toBe(false);
    // Nothing stalled any more: nothing is handed on.
    elevateClock.advance(STALLED_MS + 60_000);
    const count = started.length;
    await reconcile(depsFromEnv());
    expect(started.slice(count).filter((s) => s.name.startsWith(`${made.body.assignmentId}-resume-`))).toEqual([]);
  });
});
