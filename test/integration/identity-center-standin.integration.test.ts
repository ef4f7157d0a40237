/**
 * The adapters of shared/ports, unchanged, against the local Identity Center / identity store / Organizations
 * stand-in over HTTP: the real SDK clients reach it through AWS_ENDPOINT_URL_SSO_ADMIN, _IDENTITYSTORE and
 * _ORGANIZATIONS, and its operations end on the manual clock.
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
import { ManualClock } from '#shared/clock.ts';
import { SsoAdminIdentityCenter } from '#shared/ports/identity-center.ts';
import { AwsIdentityStore } from '#shared/ports/identity-store.ts';
import { AwsOrganizations } from '#shared/ports/organizations.ts';
import type { RetryPolicy } from '#shared/ports/retry.ts';

const clock = new ManualClock(new Date('2026-12-01T10:00:00Z'));
const standIn = new LocalIdentityCenter({ clock, latency: 'PT5S' });
const retry: RetryPolicy = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2, sleep: async () => {}, random: () => 0 };
let endpoint: IdentityCenterEndpoint;
let idc: SsoAdminIdentityCenter;
let store: AwsIdentityStore;
let orgs: AwsOrganizations;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  endpoint = await startIdentityCenterEndpoint(standIn);
  for (const name of [
    'AWS_ENDPOINT_URL_SSO_ADMIN',
    'AWS_ENDPOINT_URL_IDENTITYSTORE',
    'AWS_ENDPOINT_URL_ORGANIZATIONS',
  ]) {
    saved[name] = process.env[name];
    process.env[name] = endpoint.url;
  }
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  idc = new SsoAdminIdentityCenter(LOCAL_IDC_INSTANCE_ARN, retry);
  store = new AwsIdentityStore(LOCAL_IDENTITY_STORE_ID, retry);
  orgs = new AwsOrganizations(retry);
});

afterAll(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await endpoint?.close();
});

describe('the Identity Center stand-in, through the real SDK clients', () => {
  it('creates an account assignment that stays IN_PROGRESS until the clock passes the latency', async () => {
    // Prepare
    const userId = await store.findUserId({ userName: 'alice' });
    expect(userId).toBeTruthy();
    const assignment = {
      accountId: '111111111111',
      permissionSetArn: LOCAL_PERMISSION_SETS.admin,
      principalId: userId as string,
      principalType: 'USER' as const,
    };
    // Act
    const started = await idc.createAccountAssignment(assignment);
    const before = await idc.describeAssignmentCreation(started.requestId);
    clock.advance(5_000);
    const after = await idc.describeAssignmentCreation(started.requestId);
    // Assess
    expect(started.status).toBe('IN_PROGRESS');
    expect(before.status).toBe('IN_PROGRESS');
    expect(after).toEqual({ requestId: started.requestId, status: 'SUCCEEDED', failureReason: null });
    expect(await idc.listAccountAssignments('111111111111', LOCAL_PERMISSION_SETS.admin)).toEqual([assignment]);
    expect(standIn.snapshot().accountAssignments).toContainEqual({
      accountId: '111111111111',
      permissionSetArn: LOCAL_PERMISSION_SETS.admin,
      principalId: userId,
      principalType: 'USER',
    });

    // A deletion the same way.
    const deleting = await idc.deleteAccountAssignment(assignment);
    clock.advance(5_000);
    expect((await idc.describeAssignmentDeletion(deleting.requestId)).status).toBe('SUCCEEDED');
    expect(await idc.listAccountAssignments('111111111111', LOCAL_PERMISSION_SETS.admin)).toEqual([]);
  });

  it('ends an injected fault FAILED with its reason and assigns nothing', async () => {
    // Prepare
    standIn.addFault({
      operation: 'CreateAccountAssignment',
      accountId: '222222222222',
      failureReason: 'Received a 404 status error: Not supported account',
      count: 1,
    });
    const userId = (await store.findUserId({ userName: 'bob' })) as string;
    // Act
    const started = await idc.createAccountAssignment({
      accountId: '222222222222',
      permissionSetArn: LOCAL_PERMISSION_SETS.readonly,
      principalId: userId,
      principalType: 'USER',
    });
    clock.advance(5_000);
    const status = await idc.describeAssignmentCreation(started.requestId);
    // Assess
    expect(status).toEqual({
      requestId: started.requestId,
      status: 'FAILED',
      failureReason: 'Received a 404 status error: Not supported account',
    });
    expect(await idc.listAccountAssignments('222222222222', LOCAL_PERMISSION_SETS.readonly)).toEqual([]);
  });

  it('refuses a second operation on an assignment in progress with ConflictException, which the adapter retries', async () => {
    const userId = (await store.findUserId({ userName: 'carol' })) as string;
    const a = {
      accountId: '333333333333',
      permissionSetArn: LOCAL_PERMISSION_SETS.admin,
      principalId: userId,
      principalType: 'USER' as const,
    };
    await idc.createAccountAssignment(a);
    await expect(idc.deleteAccountAssignment(a)).rejects.toMatchObject({ name: 'ConflictException' });
  });

  it('keeps the inline policy, describes permission sets and provisions them', async () => {
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }],
    });
    expect(await idc.describePermissionSet(LOCAL_PERMISSION_SETS.readonly)).toMatchObject({ sessionDuration: 'PT4H' });
    expect(await idc.describePermissionSet('arn:aws:sso:::permissionSet/ssoins-local/ps-nope')).toBeNull();
    expect(await idc.getInlinePolicy(LOCAL_PERMISSION_SETS.admin)).toBeNull();
    await idc.putInlinePolicy(LOCAL_PERMISSION_SETS.admin, policy);
    expect(await idc.getInlinePolicy(LOCAL_PERMISSION_SETS.admin)).toBe(policy);
    expect(standIn.snapshot().inlinePolicies[LOCAL_PERMISSION_SETS.admin]).toEqual(JSON.parse(policy));
    const provisioning = await idc.provisionPermissionSet(LOCAL_PERMISSION_SETS.admin, '111111111111');
    clock.advance(5_000);
    expect((await idc.describeProvisioning(provisioning.requestId)).status).toBe('SUCCEEDED');
    await idc.deleteInlinePolicy(LOCAL_PERMISSION_SETS.admin);
    expect(await idc.getInlinePolicy(LOCAL_PERMISSION_SETS.admin)).toBeNull();
  });

  it('refuses an inline policy over the documented limits: 32,768 characters or 10,240 non-whitespace', async () => {
    // Prepare: one statement whose condition carries n characters of user names.
    const policyOf = (n: number, pad = '') =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Deny',
            Action: '*',
            Resource: '*',
            Condition: { StringLike: { 'aws:userid': `*:${'a'.repeat(n)}` } },
          },
        ],
      }).replace('"Effect"', `${pad}"Effect"`);
    const fits = policyOf(10_000);
    const tooManyCharacters = policyOf(10_300);
    const tooLong = policyOf(100, ' '.repeat(33_000));
    // Act / Assess
    await idc.putInlinePolicy(LOCAL_PERMISSION_SETS.readonly, fits);
    await expect(idc.putInlinePolicy(LOCAL_PERMISSION_SETS.readonly, tooManyCharacters)).rejects.toMatchObject({
      name: 'ServiceQuotaExceededException',
    });
    await expect(idc.putInlinePolicy(LOCAL_PERMISSION_SETS.readonly, tooLong)).rejects.toMatchObject({
      name: 'ValidationException',
    });
    expect(await idc.getInlinePolicy(LOCAL_PERMISSION_SETS.readonly)).toBe(fits);
    await idc.deleteInlinePolicy(LOCAL_PERMISSION_SETS.readonly);
  });

  it('lists the accounts a permission set is provisioned to; one provisioning of a permission set at a time', async () => {
    // Prepare
    const before = await idc.listAccountsForPermissionSet(LOCAL_PERMISSION_SETS.readonly);
    standIn.assignOutside('333333333333', LOCAL_PERMISSION_SETS.readonly, 'dave');
    // Act
    const first = await idc.provisionPermissionSet(LOCAL_PERMISSION_SETS.readonly, '222222222222');
    const second = idc.provisionPermissionSet(LOCAL_PERMISSION_SETS.readonly, '111111111111');
    // Assess: the second is refused while the first runs (the adapter's retries do not move the manual clock).
    await expect(second).rejects.toMatchObject({ name: 'ConflictException' });
    clock.advance(5_000);
    expect((await idc.describeProvisioning(first.requestId)).status).toBe('SUCCEEDED');
    expect(before).not.toContain('333333333333');
    expect(await idc.listAccountsForPermissionSet(LOCAL_PERMISSION_SETS.readonly)).toEqual(
      expect.arrayContaining(['222222222222', '333333333333']),
    );
    const dave = (await store.findUserId({ userName: 'dave' })) as string;
    expect(await idc.listAccountAssignments('333333333333', LOCAL_PERMISSION_SETS.readonly)).toContainEqual({
      accountId: '333333333333',
      permissionSetArn: LOCAL_PERMISSION_SETS.readonly,
      principalId: dave,
      principalType: 'USER',
    });
  });

  it('ends an injected ProvisionPermissionSet fault FAILED with its reason', async () => {
    standIn.addFault({
      operation: 'ProvisionPermissionSet',
      accountId: '111111111111',
      failureReason: 'LimitExceeded: role policy size',
      count: 1,
    });
    const started = await idc.provisionPermissionSet(LOCAL_PERMISSION_SETS.admin, '111111111111');
    clock.advance(5_000);
    expect(await idc.describeProvisioning(started.requestId)).toEqual({
      requestId: started.requestId,
      status: 'FAILED',
      failureReason: 'LimitExceeded: role policy size',
    });
  });

  it('finds users by e-mail, checks groups and keeps memberships', async () => {
    const dave = (await store.findUserId({ email: 'dave@example.com' })) as string;
    expect(dave).toBeTruthy();
    expect(await store.findUserId({ userName: 'nobody' })).toBeNull();
    expect(await store.groupExists(LOCAL_GROUP_ID)).toBe(true);
    expect(await store.groupExists('g-nope')).toBe(false);
    const membership = await store.createMembership(LOCAL_GROUP_ID, dave);
    // A second membership of the same user is refused at once (not retried: the answer cannot change).
    await expect(store.createMembership(LOCAL_GROUP_ID, dave)).rejects.toMatchObject({ name: 'ConflictException' });
    expect(await store.membershipId(LOCAL_GROUP_ID, dave)).toBe(membership);
    expect(await store.listMemberships(LOCAL_GROUP_ID)).toEqual([
      { membershipId: membership, groupId: LOCAL_GROUP_ID, userId: dave },
    ]);
    await store.deleteMembership(membership);
    expect(await store.membershipId(LOCAL_GROUP_ID, dave)).toBeNull();
  });

  it('answers the organization: accounts, roots and children, and a moved account', async () => {
    expect(await orgs.describeAccount('111111111111')).toEqual({
      id: '111111111111',
      name: 'prod-a',
      status: 'ACTIVE',
    });
    expect(await orgs.describeAccount('999999999999')).toBeNull();
    expect(await orgs.listRoots()).toEqual([{ id: 'r-local', name: 'Root' }]);
    expect((await orgs.listChildren('r-local')).units.map((u) => u.id)).toEqual(['ou-local-prod', 'ou-local-dev']);
    standIn.move('333333333333', 'ou-local-prod');
    expect((await orgs.listChildren('ou-local-prod')).accounts.map((a) => a.id)).toEqual([
      '111111111111',
      '222222222222',
      '333333333333',
    ]);
  });
});
