/**
 * Role targets, the pre-grant checks and organization scopes, through the handlers against DynamoDB Local and the
 * local Identity Center / Organizations stand-in (reached by the real SDK clients over HTTP).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type IdentityCenterEndpoint,
  LOCAL_GROUP_ID,
  LOCAL_IDC_INSTANCE_ARN,
  LOCAL_IDENTITY_STORE_ID,
  LOCAL_PERMISSION_SETS,
  LocalIdentityCenter,
  startIdentityCenterEndpoint,
} from '#infra/local/identity-center.ts';
import { clock } from '#shared/clock.ts';
import { depsFromEnv } from '#shared/deps.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { syncOrganization } from '#shared/usecases/scopes.ts';
import { call } from '#test/support/invoke.ts';
import { createTestTable } from '#test/support/table.ts';

const standIn = new LocalIdentityCenter({ clock: clock() });
let endpoint: IdentityCenterEndpoint;
const ENV = [
  'AWS_ENDPOINT_URL_SSO_ADMIN',
  'AWS_ENDPOINT_URL_IDENTITYSTORE',
  'AWS_ENDPOINT_URL_ORGANIZATIONS',
  'ELEVATE_IDC_INSTANCE_ARN',
  'ELEVATE_IDENTITY_STORE_ID',
];
const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));

beforeAll(async () => {
  endpoint = await startIdentityCenterEndpoint(standIn);
  await createTestTable();
  process.env.AWS_ENDPOINT_URL_SSO_ADMIN = endpoint.url;
  process.env.AWS_ENDPOINT_URL_IDENTITYSTORE = endpoint.url;
  process.env.AWS_ENDPOINT_URL_ORGANIZATIONS = endpoint.url;
  process.env.ELEVATE_IDC_INSTANCE_ARN = LOCAL_IDC_INSTANCE_ARN;
  process.env.ELEVATE_IDENTITY_STORE_ID = LOCAL_IDENTITY_STORE_ID;
  await bootstrap(depsFromEnv(), ['admin']);
  // A role whose grants are account assignments of ps-admin, and one without targets.
  for (const id of ['ops-admin', 'viewer']) {
    expect(
      (await call('POST', '/v1/roles', { as: 'admin', body: { id, displayName: id, privileged: true } })).status,
    ).toBe(201);
  }
  const put = await call('PUT', '/v1/roles/ops-admin/targets', {
    as: 'admin',
    body: { targets: [{ type: 'identityCenterAccountAssignment', permissionSetArn: LOCAL_PERMISSION_SETS.admin }] },
  });
  expect(put.status, JSON.stringify(put.body)).toBe(200);
}, 180_000);

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await endpoint?.close();
});

const eligible = (principalId: string, roleId: string, scope: string) =>
  call('POST', '/v1/requests', {
    as: 'admin',
    body: { action: 'adminAssign', assignmentType: 'eligible', principalId, roleId, scope, justification: 'setup' },
  });

const activate = (as: string, roleId: string, scope: string, validateOnly = false) =>
  call('POST', '/v1/requests', {
    as,
    body: {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId,
      scope,
      justification: 'INC-7',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
      validateOnly,
    },
  });

async function traces(principalId: string) {
  const requests = await call('GET', `/v1/requests?principalId=${principalId}`, { as: 'admin' });
  const assignments = await call('GET', `/v1/assignments?principalId=${principalId}&assignmentType=active`, {
    as: 'admin',
  });
  return { requests: requests.body.items.length, active: assignments.body.items.length };
}

describe('role targets', () => {
  it('an admin sets targets that exist; anyone reads them; the change is audited with old and new', async () => {
    // Prepare
    const targets = [
      { type: 'identityCenterAccountAssignment', permissionSetArn: LOCAL_PERMISSION_SETS.readonly },
      { type: 'identityCenterGroupMembership', groupId: LOCAL_GROUP_ID },
    ];
    await call('POST', '/v1/roles', { as: 'admin', body: { id: 'reader-role', displayName: 'r', privileged: false } });
    // Act
    const first = await call('PUT', '/v1/roles/reader-role/targets', { as: 'admin', body: { targets } });
    const second = await call('PUT', '/v1/roles/reader-role/targets', { as: 'admin', body: { targets: [targets[1]] } });
    const read = await call('GET', '/v1/roles/reader-role/targets', { as: 'someone' });
    // Assess
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ targets });
    expect(second.status).toBe(200);
    expect(read.body).toEqual({ targets: [targets[1]] });
    const events = await call('GET', '/v1/audit-events?roleId=reader-role&action=role.targetsUpdated', { as: 'admin' });
    expect(events.body.items.map((e: { details: unknown }) => e.details)).toEqual([
      { old: targets, new: [targets[1]] },
      { old: [], new: targets },
    ]);
  });

  it('refuses a permission set or group that does not exist with TargetNotReady, and changes nothing', async () => {
    const put = await call('PUT', '/v1/roles/ops-admin/targets', {
      as: 'admin',
      body: {
        targets: [
          {
            type: 'identityCenterAccountAssignment',
            permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-local/ps-gone',
          },
          { type: 'identityCenterGroupMembership', groupId: 'g-gone' },
        ],
      },
    });
    expect(put.status).toBe(400);
    expect(put.body.code).toBe('TargetNotReady');
    expect(put.body.detail).toContain('ps-gone');
    expect(put.body.detail).toContain('g-gone');
    expect((await call('GET', '/v1/roles/ops-admin/targets', { as: 'admin' })).body.targets).toEqual([
      { type: 'identityCenterAccountAssignment', permissionSetArn: LOCAL_PERMISSION_SETS.admin },
    ]);
  });

  it('is for admins only, on roles that exist, with a strict body', async () => {
    const body = { targets: [] };
    expect((await call('PUT', '/v1/roles/ops-admin/targets', { as: 'mallory', body })).status).toBe(403);
    expect((await call('PUT', '/v1/roles/no-such-role/targets', { as: 'admin', body })).status).toBe(404);
    expect((await call('GET', '/v1/roles/no-such-role/targets', { as: 'admin' })).status).toBe(404);
    const extra = await call('PUT', '/v1/roles/ops-admin/targets', { as: 'admin', body: { targets: [], more: 1 } });
    expect(extra.status).toBe(400);
    expect(extra.body.code).toBe('ValidationFailed');
  });
});

describe('pre-grant checks', () => {
  it('refuses an activation whose scope names no account with ScopeNotProvisionable, writing nothing', async () => {
    // Prepare
    expect((await eligible('alice', 'ops-admin', '/')).status).toBe(201);
    const before = await traces('alice');
    // Act
    const refused = await activate('alice', 'ops-admin', '/');
    // Assess
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('ScopeNotProvisionable');
    expect(await traces('alice')).toEqual(before);
  });

  it('refuses an account that is not in the organization with TargetNotReady, validateOnly too, writing nothing', async () => {
    const before = await traces('alice');
    const dry = await activate('alice', 'ops-admin', '/accounts/999999999999', true);
    const real = await activate('alice', 'ops-admin', '/accounts/999999999999');
    for (const refused of [dry, real]) {
      expect(refused.status).toBe(400);
      expect(refused.body.code).toBe('TargetNotReady');
      expect(refused.body.detail).toContain('account 999999999999 is not a member of the organization');
    }
    expect(await traces('alice')).toEqual(before);
  });

  it('refuses an account that is not ACTIVE', async () => {
    standIn.addOrgNode({
      id: '444444444444',
      name: 'closing',
      parentId: 'ou-local-dev',
      kind: 'account',
      status: 'SUSPENDED',
    });
    const refused = await activate('alice', 'ops-admin', '/accounts/444444444444/regions/eu-west-1');
    expect(refused.status).toBe(400);
    expect(refused.body.detail).toContain('account 444444444444 is SUSPENDED, not ACTIVE');
  });

  it('refuses a principal without an Identity Center user (admin assignment, validateOnly)', async () => {
    const refused = await call('POST', '/v1/requests', {
      as: 'admin',
      body: {
        action: 'adminAssign',
        assignmentType: 'active',
        principalId: 'zed',
        roleId: 'ops-admin',
        scope: '/accounts/111111111111',
        justification: 'x',
        schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
        validateOnly: true,
      },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('TargetNotReady');
    expect(refused.body.detail).toContain("no IAM Identity Center user with the UserName 'zed'");
  });

  it('lets a ready grant through, and never checks an eligible assignment', async () => {
    const valid = await activate('alice', 'ops-admin', '/accounts/111111111111', true);
    expect(valid.status).toBe(200);
    const granted = await activate('alice', 'ops-admin', '/accounts/111111111111');
    expect(granted.status, JSON.stringify(granted.body)).toBe(201);
    // Made in AWS before it is Granted (provisioning-grants.integration.test.ts follows it through).
    expect(granted.body.status).toBe('Provisioning');
    // An eligibility of an unknown principal at / is fine: eligible assignments are never provisioned.
    expect((await eligible('zed', 'ops-admin', '/')).status).toBe(201);
  });
});

describe('organization scopes', () => {
  it('syncs the organization into scopes, audited, and writes nothing when nothing changed', async () => {
    // Act
    const first = await syncOrganization(depsFromEnv());
    const again = await syncOrganization(depsFromEnv());
    const scopes = await call('GET', '/v1/scopes', { as: 'someone' });
    // Assess
    expect(first).toMatchObject({ added: 7, removed: 0, changed: 0 });
    expect(again).toMatchObject({ added: 0, removed: 0, changed: 0 });
    expect(scopes.body.items).toContainEqual({
      scope: '/ous/ou-local-prod',
      type: 'organizationalUnit',
      id: 'ou-local-prod',
      name: 'Production',
      parentScope: '/',
    });
    expect(scopes.body.items).toContainEqual({
      scope: '/accounts/111111111111',
      type: 'account',
      id: '111111111111',
      name: 'prod-a',
      parentScope: '/ous/ou-local-prod',
    });
    expect(scopes.body.items[0]).toMatchObject({ scope: '/', type: 'root', id: 'r-local', parentScope: null });
    const audits = await call('GET', '/v1/audit-events?action=organization.synced', { as: 'admin' });
    expect(audits.body.items).toHaveLength(1);
  });

  it('an eligibility at an OU covers an account moved into the OU after it was given', async () => {
    // Prepare: bob is eligible at ou-local-prod; 333333333333 is in ou-local-dev
    expect((await eligible('bob', 'viewer', '/ous/ou-local-prod')).status).toBe(201);
    expect((await activate('bob', 'viewer', '/accounts/333333333333')).body.code).toBe('NotEligible');
    // Act: the account moves, and the hourly sync sees it
    standIn.move('333333333333', 'ou-local-prod');
    const sync = await syncOrganization(depsFromEnv());
    const activated = await activate('bob', 'viewer', '/accounts/333333333333/regions/eu-west-1');
    // Assess
    expect(sync).toMatchObject({ changed: 1 });
    expect(activated.status, JSON.stringify(activated.body)).toBe(201);
    const audits = await call('GET', '/v1/audit-events?action=organization.synced', { as: 'admin' });
    expect(audits.body.items[0].details.changes).toEqual([
      {
        change: 'changed',
        scope: '/accounts/333333333333',
        before: { parentScope: '/ous/ou-local-dev', name: 'dev', status: 'ACTIVE' },
        after: { parentScope: '/ous/ou-local-prod', name: 'dev', status: 'ACTIVE' },
      },
    ]);
  });

  it('an active assignment at an OU answers the access check for the accounts under it', async () => {
    const assigned = await call('POST', '/v1/requests', {
      as: 'admin',
      body: {
        action: 'adminAssign',
        assignmentType: 'active',
        principalId: 'carol',
        roleId: 'viewer',
        scope: '/ous/ou-local-prod',
        justification: 'x',
        schedule: { expiration: { type: 'afterDuration', duration: 'P1D' } },
      },
    });
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(201);
    const inside = await call('GET', '/v1/access?principalId=carol&roleId=viewer&scope=/accounts/111111111111', {
      as: 'admin',
    });
    const outside = await call('GET', '/v1/access?principalId=carol&roleId=viewer&scope=/accounts/444444444444', {
      as: 'admin',
    });
    expect(inside.body.allowed).toBe(true);
    expect(outside.body.allowed).toBe(false);
  });
});
