/**
 * Grants held by an Elevate group, provisioned for each active member and following membership (provisioning.md,
 * "What is provisioned"): the provisioning steps against DynamoDB Local and the local stand-in (real SDK clients
 * over HTTP), the stand-in on a manual clock of its own. The steps are driven here as the workflow drives them.
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
import { keys, ops, StandingMoved } from '#shared/store/records.ts';
import { toAssignment } from '#shared/usecases/assignments.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { membershipLeaves } from '#shared/usecases/group-provisioning.ts';
import { type ProvisionResult, provisionStep } from '#shared/usecases/provisioning-steps.ts';
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
  // team-ops is granted to groups; direct-ops delivers the same ps-admin to a user directly (an overlap).
  for (const [id, targets] of [
    ['team-ops', [ADMIN_PS]],
    ['direct-ops', [ADMIN_PS]],
    ['team-two', [ADMIN_PS, LOCAL_PERMISSION_SETS.readonly]],
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

let groupCount = 0;

/** What the API answers a request (or a group) with, as far as these tests read it. */
interface Made {
  id: string;
  status: string;
  assignmentId: string;
}

const ok = async (res: ReturnType<typeof call>, status = 201): Promise<Made> => {
  const r = await res;
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  return r.body as Made;
};

/** A user of its own (the stand-in makes its Identity Center user unless told not to). */
function newUser(inIdentityCenter = true): string {
  const user = `gm-${++userCount}`;
  if (inIdentityCenter) standIn.ensureUser(user, `${user}@example.com`);
  return user;
}

const assign = (principalId: string, roleId: string, scope: string, principalType = 'user') =>
  call('POST', '/v1/requests', {
    as: 'admin',
    body: {
      action: 'adminAssign',
      assignmentType: 'active',
      principalId,
      principalType,
      roleId,
      scope,
      justification: 'x',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT8H' } },
    },
  });

const remove = (principalId: string, roleId: string, scope: string, principalType = 'user') =>
  call('POST', '/v1/requests', {
    as: 'admin',
    body: { action: 'adminRemove', assignmentType: 'active', principalId, principalType, roleId, scope },
  });

/** An Elevate group with these members (active memberships): its id and the membership assignment ids. */
async function newGroup(...members: string[]): Promise<{ id: string; memberships: string[] }> {
  const id = `team-${++groupCount}`;
  await ok(call('POST', '/v1/groups', { as: 'admin', body: { id, displayName: id } }));
  const memberships: string[] = [];
  for (const m of members) memberships.push((await ok(assign(m, `group-${id}-member`, '/'))).assignmentId);
  return { id, memberships };
}

/** The provisioning steps of one grant until they are done, moving the stand-in's clock by each wait asked for. */
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
const targetsOf = async (id: string) =>
  Object.fromEntries(
    (await assignment(id)).provisioning.targets.map((t: { principalId: string; status: string }) => [
      t.principalId,
      t.status,
    ]),
  );

/** A grant of team-ops to the group, provisioned: its assignment id. */
async function groupGranted(groupId: string, roleId = 'team-ops'): Promise<string> {
  const made = await ok(assign(groupId, roleId, SCOPE, 'group'));
  expect(made.status).toBe('Provisioning');
  await drive(made.assignmentId);
  expect((await request(made.id)).status).toBe('Granted');
  return made.assignmentId;
}

describe('a grant held by a group', () => {
  it('is provisioned for each active member, and taken away from the one whose membership ends (the other keeps it)', async () => {
    // Prepare
    const [ann, ben] = [newUser(), newUser()];
    const group = await newGroup(ann, ben);
    // Act
    const grant = await groupGranted(group.id);
    // Assess
    expect(inAws(ann) && inAws(ben)).toBe(true);
    const a = await assignment(grant);
    expect(a.provisioning.status).toBe('Provisioned');
    expect(a.provisioning.targets).toHaveLength(2);
    expect(a.provisioning.targets).toEqual(
      expect.arrayContaining(
        [ann, ben].map((principalId) => ({
          type: 'identityCenterAccountAssignment',
          permissionSetArn: ADMIN_PS,
          accountId: ACCOUNT,
          identityCenterUserId: userIdOf(principalId),
          principalId,
          status: 'Provisioned',
          failureReason: null,
          updatedAt: expect.any(String),
        })),
      ),
    );
    // Act: ann's membership ends
    started.length = 0;
    await ok(remove(ann, `group-${group.id}-member`, '/'));
    expect(started.map((s) => s.name)).toContain(`${grant}-leave-${group.memberships[0]}`);
    await drive(grant);
    // Assess: gone for ann (and her sessions fenced), kept for ben; the grant stands
    expect(inAws(ann)).toBe(false);
    expect(inAws(ben)).toBe(true);
    expect(await targetsOf(grant)).toEqual({ [ann]: 'Deprovisioned', [ben]: 'Provisioned' });
    const after = await assignment(grant);
    expect(after.status).toBe('Active');
    expect(after.provisioning.status).toBe('Provisioned');
    expect(JSON.stringify(standIn.snapshot().inlinePolicies[ADMIN_PS])).toContain(`*:${ann}`);
    expect(JSON.stringify(standIn.snapshot().inlinePolicies[ADMIN_PS])).not.toContain(`*:${ben}"`);
  });

  it('provisions a member who joins later, and the grant ending removes it for every member', async () => {
    // Prepare
    const [cat, dan] = [newUser(), newUser()];
    const group = await newGroup(cat);
    const grant = await groupGranted(group.id);
    expect(inAws(dan)).toBe(false);
    // Act: dan joins
    started.length = 0;
    const joined = await ok(assign(dan, `group-${group.id}-member`, '/'));
    expect(joined.status).toBe('Granted');
    expect(started.map((s) => s.name)).toContain(`${grant}-join-${joined.assignmentId}`);
    expect((await targetsOf(grant))[dan]).toBe('InProgress');
    await drive(grant);
    // Assess
    expect(inAws(cat) && inAws(dan)).toBe(true);
    expect(await targetsOf(grant)).toEqual({ [cat]: 'Provisioned', [dan]: 'Provisioned' });
    // Act: the group's grant ends
    await ok(remove(group.id, 'team-ops', SCOPE, 'group'));
    await drive(grant);
    // Assess
    expect(inAws(cat) || inAws(dan)).toBe(false);
    const ended = await assignment(grant);
    expect(ended.status).toBe('Revoked');
    expect(ended.provisioning.status).toBe('Deprovisioned');
    expect(await targetsOf(grant)).toEqual({ [cat]: 'Deprovisioned', [dan]: 'Deprovisioned' });
    // A member leaving after the grant ended changes nothing of it.
    await ok(remove(dan, `group-${group.id}-member`, '/'));
    expect((await assignment(grant)).version).toBe(ended.version);
  });

  it('leaves the AWS assignment of a member who leaves while a direct grant of theirs still needs it (Retained)', async () => {
    // Prepare: eve holds ps-admin in the account twice, through the group and directly
    const eve = newUser();
    const group = await newGroup(eve);
    const grant = await groupGranted(group.id);
    const direct = await ok(assign(eve, 'direct-ops', SCOPE));
    await drive(direct.assignmentId);
    expect((await request(direct.id)).status).toBe('Granted');
    // Act: she leaves the group
    await ok(remove(eve, `group-${group.id}-member`, '/'));
    await drive(grant);
    // Assess
    expect(await targetsOf(grant)).toEqual({ [eve]: 'Retained' });
    expect(inAws(eve)).toBe(true);
    // Act: the direct grant ends too: now nothing needs it
    await ok(remove(eve, 'direct-ops', SCOPE));
    await drive(direct.assignmentId);
    // Assess
    expect(inAws(eve)).toBe(false);
  });

  it('rolls back a member whose creation FAILED alone, and raises the alert naming them', async () => {
    // Prepare: the group's grant delivers two permission sets; gus's second one fails in AWS
    const [fay, gus] = [newUser(), newUser()];
    const group = await newGroup(fay);
    const grant = await groupGranted(group.id, 'team-two');
    standIn.addFault({
      operation: 'CreateAccountAssignment',
      permissionSetArn: LOCAL_PERMISSION_SETS.readonly,
      accountId: ACCOUNT,
      failureReason: 'Received a 404 status error: the permission set is not provisioned',
      count: 1,
    });
    // Act
    await ok(assign(gus, `group-${group.id}-member`, '/'));
    await drive(grant);
    // Assess: gus has nothing, fay keeps both, the grant stands
    expect(inAws(gus, ADMIN_PS) || inAws(gus, LOCAL_PERMISSION_SETS.readonly)).toBe(false);
    expect(inAws(fay, ADMIN_PS) && inAws(fay, LOCAL_PERMISSION_SETS.readonly)).toBe(true);
    const a = await assignment(grant);
    expect(a.status).toBe('Active');
    expect(a.provisioning.status).toBe('Provisioned');
    const gusTargets = a.provisioning.targets.filter((t: { principalId: string }) => t.principalId === gus);
    expect(gusTargets.map((t: { status: string }) => t.status).sort()).toEqual(['Deprovisioned', 'Failed']);
    const alerts = await call('GET', '/v1/alerts?status=active', { as: 'admin' });
    expect(alerts.body.items).toContainEqual(
      expect.objectContaining({
        type: 'provisioningFailed',
        details: expect.objectContaining({ member: gus, failureReason: expect.stringContaining('404') }),
      }),
    );
  });

  it('is refused (TargetNotReady, nothing written) when a member has no Identity Center user, and so is such a member joining', async () => {
    // Prepare
    const [hal, ghost] = [newUser(), newUser(false)];
    const group = await newGroup(hal, ghost);
    // Act
    const refused = await assign(group.id, 'team-ops', SCOPE, 'group');
    // Assess
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('TargetNotReady');
    expect(refused.body.detail).toContain(`member '${ghost}'`);
    const none = await call('GET', `/v1/assignments?principalId=${group.id}&principalType=group`, { as: 'admin' });
    expect(none.body.items).toHaveLength(0);
    // Act: without ghost, the grant is made; ghost cannot join again while it lives
    await ok(remove(ghost, `group-${group.id}-member`, '/'));
    const grant = await groupGranted(group.id);
    const rejoin = await assign(ghost, `group-${group.id}-member`, '/');
    // Assess
    expect(rejoin.status).toBe(400);
    expect(rejoin.body.code).toBe('TargetNotReady');
    expect(await targetsOf(grant)).toEqual({ [hal]: 'Provisioned' });
  });
  it("plans a member's leaving again when the group's grant moved meanwhile (never writes over the step's move)", async () => {
    // Prepare: a leaving planned, then the grant's provisioning step writes the grant first
    const ivy = newUser();
    const group = await newGroup(ivy);
    const grant = await groupGranted(group.id);
    const deps = depsFromEnv();
    const membership = toAssignment((await deps.store.get(keys.assignment(group.memberships[0] as string))) ?? {});
    const planned = await membershipLeaves(deps, membership, elevateClock.now());
    const g = toAssignment((await deps.store.get(keys.assignment(grant))) ?? {});
    await deps.store.transact(ops.replaceAssignment({ ...g, version: g.version + 1 }, g.version));
    // Act
    const outcome = await deps.store.transact(planned.writes).catch((error: unknown) => error);
    // Assess: refused as a moved standing (the API re-plans it), and ivy's target untouched
    expect(planned.writes.length).toBeGreaterThan(0);
    expect(outcome).toBeInstanceOf(StandingMoved);
    expect(await targetsOf(grant)).toEqual({ [ivy]: 'Provisioned' });
    expect(inAws(ivy)).toBe(true);
  });
});
