import {
  CreateGroupMembershipCommand,
  DeleteGroupMembershipCommand,
  DescribeGroupCommand,
  GetGroupMembershipIdCommand,
  GetUserIdCommand,
  IdentitystoreClient,
  ListGroupMembershipsCommand,
  ResourceNotFoundException as StoreNotFound,
} from '@aws-sdk/client-identitystore';
import {
  AccountNotFoundException,
  DescribeAccountCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  ListRootsCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import {
  ConflictException,
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DeleteInlinePolicyFromPermissionSetCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  DescribePermissionSetCommand,
  DescribePermissionSetProvisioningStatusCommand,
  GetInlinePolicyForPermissionSetCommand,
  ListAccountAssignmentsCommand,
  ListAccountsForProvisionedPermissionSetCommand,
  ProvisionPermissionSetCommand,
  PutInlinePolicyToPermissionSetCommand,
  ResourceNotFoundException,
  SSOAdminClient,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-sso-admin';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SsoAdminIdentityCenter } from '#shared/ports/identity-center.ts';
import { AwsIdentityStore } from '#shared/ports/identity-store.ts';
import { AwsOrganizations } from '#shared/ports/organizations.ts';
import type { RetryPolicy } from '#shared/ports/retry.ts';

const INSTANCE = 'arn:aws:sso:::instance/ssoins-0123456789abcdef';
const PS = 'arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef';
const STORE = 'd-0123456789';
const meta = { $metadata: {} };

/** No real waiting: the backoffs are recorded instead. */
function fastRetry(): RetryPolicy & { waits: number[] } {
  const waits: number[] = [];
  return {
    attempts: 4,
    baseDelayMs: 100,
    maxDelayMs: 1_000,
    sleep: async (ms) => void waits.push(ms),
    random: () => 0.5,
    waits,
  };
}

const sso = mockClient(SSOAdminClient);
const ids = mockClient(IdentitystoreClient);
const org = mockClient(OrganizationsClient);

beforeEach(() => {
  sso.reset();
  ids.reset();
  org.reset();
});
afterEach(() => {
  sso.reset();
});

describe('Identity Center adapter (sso-admin)', () => {
  const assignment = {
    accountId: '111111111111',
    permissionSetArn: PS,
    principalId: 'u-1',
    principalType: 'USER' as const,
  };

  it('creates an account assignment with the exact command and reads its status', async () => {
    // Prepare
    sso.on(CreateAccountAssignmentCommand).resolves({
      AccountAssignmentCreationStatus: { RequestId: 'req-1', Status: 'IN_PROGRESS' },
    });
    const idc = new SsoAdminIdentityCenter(INSTANCE, fastRetry());
    // Act
    const status = await idc.createAccountAssignment(assignment);
    // Assess
    expect(status).toEqual({ requestId: 'req-1', status: 'IN_PROGRESS', failureReason: null });
    expect(sso).toHaveReceivedCommandTimes(CreateAccountAssignmentCommand, 1);
    expect(sso.commandCalls(CreateAccountAssignmentCommand)[0]?.args[0].input).toEqual({
      InstanceArn: INSTANCE,
      TargetId: '111111111111',
      TargetType: 'AWS_ACCOUNT',
      PermissionSetArn: PS,
      PrincipalType: 'USER',
      PrincipalId: 'u-1',
    });
  });

  it('retries throttling and ConflictException with growing backoff, then succeeds', async () => {
    // Prepare
    sso
      .on(DeleteAccountAssignmentCommand)
      .rejectsOnce(new ThrottlingException({ message: 'rate exceeded', ...meta }))
      .rejectsOnce(new ConflictException({ message: 'operation in progress', ...meta }))
      .resolves({ AccountAssignmentDeletionStatus: { RequestId: 'del-1', Status: 'IN_PROGRESS' } });
    const retry = fastRetry();
    const idc = new SsoAdminIdentityCenter(INSTANCE, retry);
    // Act
    const status = await idc.deleteAccountAssignment(assignment);
    // Assess
    expect(status.requestId).toBe('del-1');
    expect(sso).toHaveReceivedCommandTimes(DeleteAccountAssignmentCommand, 3);
    expect(sso).toHaveReceivedCommandWith(DeleteAccountAssignmentCommand, {
      InstanceArn: INSTANCE,
      TargetId: '111111111111',
      TargetType: 'AWS_ACCOUNT',
      PermissionSetArn: PS,
      PrincipalType: 'USER',
      PrincipalId: 'u-1',
    });
    expect(retry.waits).toEqual([50, 100]);
  });

  it('gives up after the last try and rethrows the AWS error', async () => {
    sso.on(CreateAccountAssignmentCommand).rejects(new ThrottlingException({ message: 'rate exceeded', ...meta }));
    const idc = new SsoAdminIdentityCenter(INSTANCE, fastRetry());
    await expect(idc.createAccountAssignment(assignment)).rejects.toThrow('rate exceeded');
    expect(sso).toHaveReceivedCommandTimes(CreateAccountAssignmentCommand, 4);
  });

  it('does not retry an error that another try cannot fix', async () => {
    sso.on(CreateAccountAssignmentCommand).rejects(new ValidationException({ message: 'bad principal', ...meta }));
    const idc = new SsoAdminIdentityCenter(INSTANCE, fastRetry());
    await expect(idc.createAccountAssignment(assignment)).rejects.toThrow('bad principal');
    expect(sso).toHaveReceivedCommandTimes(CreateAccountAssignmentCommand, 1);
  });

  it('describes creation and deletion status with the FAILED reason', async () => {
    sso.on(DescribeAccountAssignmentCreationStatusCommand).resolves({
      AccountAssignmentCreationStatus: { RequestId: 'req-1', Status: 'FAILED', FailureReason: 'permission set quota' },
    });
    sso.on(DescribeAccountAssignmentDeletionStatusCommand).resolves({
      AccountAssignmentDeletionStatus: { RequestId: 'del-1', Status: 'SUCCEEDED' },
    });
    const idc = new SsoAdminIdentityCenter(INSTANCE, fastRetry());
    expect(await idc.describeAssignmentCreation('req-1')).toEqual({
      requestId: 'req-1',
      status: 'FAILED',
      failureReason: 'permission set quota',
    });
    expect(await idc.describeAssignmentDeletion('del-1')).toEqual({
      requestId: 'del-1',
      status: 'SUCCEEDED',
      failureReason: null,
    });
    expect(sso).toHaveReceivedCommandWith(DescribeAccountAssignmentCreationStatusCommand, {
      InstanceArn: INSTANCE,
      AccountAssignmentCreationRequestId: 'req-1',
    });
    expect(sso).toHaveReceivedCommandWith(DescribeAccountAssignmentDeletionStatusCommand, {
      InstanceArn: INSTANCE,
      AccountAssignmentDeletionRequestId: 'del-1',
    });
  });

  it('lists the account assignments of every page', async () => {
    sso
      .on(ListAccountAssignmentsCommand, { NextToken: undefined })
      .resolves({ AccountAssignments: [{ PrincipalId: 'u-1', PrincipalType: 'USER' }], NextToken: 'p2' })
      .on(ListAccountAssignmentsCommand, { NextToken: 'p2' })
      .resolves({ AccountAssignments: [{ PrincipalId: 'g-1', PrincipalType: 'GROUP' }] });
    const idc = new SsoAdminIdentityCenter(INSTANCE, fastRetry());
    const found = await idc.listAccountAssignments('111111111111', PS);
    expect(found.map((a) => `${a.principalType}:${a.principalId}`)).toEqual(['USER:u-1', 'GROUP:g-1']);
    expect(sso).toHaveReceivedNthCommandWith(ListAccountAssignmentsCommand, 2, {
      InstanceArn: INSTANCE,
      AccountId: '111111111111',
      PermissionSetArn: PS,
      NextToken: 'p2',
    });
  });

  it('deletes an account assignment with the same exact input as its creation', async () => {
    sso.on(CreateAccountAssignmentCommand).resolves({
      AccountAssignmentCreationStatus: { RequestId: 'c-1', Status: 'IN_PROGRESS' },
    });
    sso.on(DeleteAccountAssignmentCommand).resolves({
      AccountAssignmentDeletionStatus: { RequestId: 'd-1', Status: 'IN_PROGRESS' },
    });
    const idc = new SsoAdminIdentityCenter(INSTANCE, fastRetry());
    const group = {
      accountId: '222222222222',
      permissionSetArn: PS,
      principalId: 'g-9',
      principalType: 'GROUP' as const,
    };
    await idc.createAccountAssignment(group);
    await idc.deleteAccountAssignment(group);
    const expected = {
      InstanceArn: INSTANCE,
      TargetId: '222222222222',
      TargetType: 'AWS_ACCOUNT',
      PermissionSetArn: PS,
      PrincipalType: 'GROUP',
      PrincipalId: 'g-9',
    };
    expect(sso.commandCalls(CreateAccountAssignmentCommand)[0]?.args[0].input).toEqual(expected);
    expect(sso.commandCalls(DeleteAccountAssignmentCommand)[0]?.args[0].input).toEqual(expected);
  });

  it('lists the accounts a permission set is provisioned to, every page', async () => {
    sso
      .on(ListAccountsForProvisionedPermissionSetCommand, { NextToken: undefined })
      .resolves({ AccountIds: ['111111111111'], NextToken: 'p2' })
      .on(ListAccountsForProvisionedPermissionSetCommand, { NextToken: 'p2' })
      .resolves({ AccountIds: ['222222222222'] });
    const idc = new SsoAdminIdentityCenter(INSTANCE, fastRetry());
    expect(await idc.listAccountsForPermissionSet(PS)).toEqual(['111111111111', '222222222222']);
    expect(sso.commandCalls(ListAccountsForProvisionedPermissionSetCommand).map((c) => c.args[0].input)).toEqual([
      { InstanceArn: INSTANCE, PermissionSetArn: PS },
      { InstanceArn: INSTANCE, PermissionSetArn: PS, NextToken: 'p2' },
    ]);
  });

  it('describes a permission set, and answers null for one that does not exist', async () => {
    sso
      .on(DescribePermissionSetCommand, { PermissionSetArn: PS })
      .resolves({ PermissionSet: { PermissionSetArn: PS, Name: 'Admin', SessionDuration: 'PT4H' } })
      .on(DescribePermissionSetCommand, { PermissionSetArn: `${PS}x` })
      .rejects(new ResourceNotFoundException({ message: 'no such permission set', ...meta }));
    const idc = new SsoAdminIdentityCenter(INSTANCE, fastRetry());
    expect(await idc.describePermissionSet(PS)).toEqual({ arn: PS, name: 'Admin', sessionDuration: 'PT4H' });
    expect(await idc.describePermissionSet(`${PS}x`)).toBeNull();
    expect(sso).toHaveReceivedCommandWith(DescribePermissionSetCommand, {
      InstanceArn: INSTANCE,
      PermissionSetArn: PS,
    });
  });

  it('reads, writes and deletes the inline policy, and provisions the permission set to an account', async () => {
    sso.on(GetInlinePolicyForPermissionSetCommand).resolves({ InlinePolicy: '' });
    sso.on(PutInlinePolicyToPermissionSetCommand).resolves({});
    sso.on(DeleteInlinePolicyFromPermissionSetCommand).resolves({});
    sso.on(ProvisionPermissionSetCommand).resolves({
      PermissionSetProvisioningStatus: { RequestId: 'prov-1', Status: 'IN_PROGRESS' },
    });
    sso.on(DescribePermissionSetProvisioningStatusCommand).resolves({
      PermissionSetProvisioningStatus: { RequestId: 'prov-1', Status: 'SUCCEEDED' },
    });
    const idc = new SsoAdminIdentityCenter(INSTANCE, fastRetry());
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [] });
    expect(await idc.getInlinePolicy(PS)).toBeNull();
    await idc.putInlinePolicy(PS, policy);
    await idc.deleteInlinePolicy(PS);
    expect((await idc.provisionPermissionSet(PS, '111111111111')).requestId).toBe('prov-1');
    expect((await idc.describeProvisioning('prov-1')).status).toBe('SUCCEEDED');
    expect(sso).toHaveReceivedCommandWith(GetInlinePolicyForPermissionSetCommand, {
      InstanceArn: INSTANCE,
      PermissionSetArn: PS,
    });
    expect(sso).toHaveReceivedCommandWith(PutInlinePolicyToPermissionSetCommand, {
      InstanceArn: INSTANCE,
      PermissionSetArn: PS,
      InlinePolicy: policy,
    });
    expect(sso).toHaveReceivedCommandWith(DeleteInlinePolicyFromPermissionSetCommand, {
      InstanceArn: INSTANCE,
      PermissionSetArn: PS,
    });
    expect(sso).toHaveReceivedCommandWith(ProvisionPermissionSetCommand, {
      InstanceArn: INSTANCE,
      PermissionSetArn: PS,
      TargetType: 'AWS_ACCOUNT',
      TargetId: '111111111111',
    });
    expect(sso).toHaveReceivedCommandWith(DescribePermissionSetProvisioningStatusCommand, {
      InstanceArn: INSTANCE,
      ProvisionPermissionSetRequestId: 'prov-1',
    });
  });
});

describe('identity store adapter', () => {
  it('finds a user by UserName or by primary e-mail, and answers null for nobody', async () => {
    ids
      .on(GetUserIdCommand, {
        AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: 'alice' } },
      })
      .resolves({ IdentityStoreId: STORE, UserId: 'u-alice' })
      .on(GetUserIdCommand, {
        AlternateIdentifier: { UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: 'bob@example.com' } },
      })
      .resolves({ IdentityStoreId: STORE, UserId: 'u-bob' })
      .on(GetUserIdCommand, {
        AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: 'nobody' } },
      })
      .rejects(new StoreNotFound({ message: 'no user', ...meta }));
    const store = new AwsIdentityStore(STORE, fastRetry());
    expect(await store.findUserId({ userName: 'alice' })).toBe('u-alice');
    expect(await store.findUserId({ email: 'bob@example.com' })).toBe('u-bob');
    expect(await store.findUserId({ userName: 'nobody' })).toBeNull();
    expect(ids.commandCalls(GetUserIdCommand)[0]?.args[0].input).toEqual({
      IdentityStoreId: STORE,
      AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: 'alice' } },
    });
  });

  it('checks groups and manages memberships with the exact commands', async () => {
    ids
      .on(DescribeGroupCommand, { GroupId: 'g-1' })
      .resolves({ IdentityStoreId: STORE, GroupId: 'g-1' })
      .on(DescribeGroupCommand, { GroupId: 'g-2' })
      .rejects(new StoreNotFound({ message: 'no group', ...meta }));
    ids.on(CreateGroupMembershipCommand).resolves({ IdentityStoreId: STORE, MembershipId: 'm-1' });
    ids.on(GetGroupMembershipIdCommand).resolves({ IdentityStoreId: STORE, MembershipId: 'm-1' });
    ids.on(DeleteGroupMembershipCommand).resolves({});
    ids.on(ListGroupMembershipsCommand).resolves({
      GroupMemberships: [{ IdentityStoreId: STORE, MembershipId: 'm-1', GroupId: 'g-1', MemberId: { UserId: 'u-1' } }],
    });
    const store = new AwsIdentityStore(STORE, fastRetry());
    expect(await store.groupExists('g-1')).toBe(true);
    expect(await store.groupExists('g-2')).toBe(false);
    expect(await store.createMembership('g-1', 'u-1')).toBe('m-1');
    expect(await store.membershipId('g-1', 'u-1')).toBe('m-1');
    await store.deleteMembership('m-1');
    expect(await store.listMemberships('g-1')).toEqual([{ membershipId: 'm-1', groupId: 'g-1', userId: 'u-1' }]);
    expect(ids.commandCalls(CreateGroupMembershipCommand)[0]?.args[0].input).toEqual({
      IdentityStoreId: STORE,
      GroupId: 'g-1',
      MemberId: { UserId: 'u-1' },
    });
    expect(ids).toHaveReceivedCommandWith(GetGroupMembershipIdCommand, {
      IdentityStoreId: STORE,
      GroupId: 'g-1',
      MemberId: { UserId: 'u-1' },
    });
    expect(ids).toHaveReceivedCommandWith(DeleteGroupMembershipCommand, {
      IdentityStoreId: STORE,
      MembershipId: 'm-1',
    });
    expect(ids).toHaveReceivedCommandWith(ListGroupMembershipsCommand, { IdentityStoreId: STORE, GroupId: 'g-1' });
  });
});

describe('identity store adapter: group memberships for drift', () => {
  it("lists every page of a group's memberships and skips members that are not users", async () => {
    ids
      .on(ListGroupMembershipsCommand, { NextToken: undefined })
      .resolves({
        GroupMemberships: [
          { IdentityStoreId: STORE, MembershipId: 'm-1', GroupId: 'g-1', MemberId: { UserId: 'u-1' } },
          { IdentityStoreId: STORE, MembershipId: 'm-x', GroupId: 'g-1', MemberId: undefined },
        ],
        NextToken: 't2',
      })
      .on(ListGroupMembershipsCommand, { NextToken: 't2' })
      .resolves({
        GroupMemberships: [
          { IdentityStoreId: STORE, MembershipId: 'm-2', GroupId: 'g-1', MemberId: { UserId: 'u-2' } },
        ],
      });
    const store = new AwsIdentityStore(STORE, fastRetry());
    expect(await store.listMemberships('g-1')).toEqual([
      { membershipId: 'm-1', groupId: 'g-1', userId: 'u-1' },
      { membershipId: 'm-2', groupId: 'g-1', userId: 'u-2' },
    ]);
    expect(ids.commandCalls(ListGroupMembershipsCommand).map((c) => c.args[0].input)).toEqual([
      { IdentityStoreId: STORE, GroupId: 'g-1' },
      { IdentityStoreId: STORE, GroupId: 'g-1', NextToken: 't2' },
    ]);
  });
});

describe('Organizations adapter', () => {
  it('describes an account by its State, and answers null for a non-member', async () => {
    org
      .on(DescribeAccountCommand, { AccountId: '111111111111' })
      .resolves({ Account: { Id: '111111111111', Name: 'prod', State: 'ACTIVE', Status: 'ACTIVE' } })
      .on(DescribeAccountCommand, { AccountId: '999999999999' })
      .rejects(new AccountNotFoundException({ message: 'not a member', ...meta }));
    const orgs = new AwsOrganizations(fastRetry());
    expect(await orgs.describeAccount('111111111111')).toEqual({ id: '111111111111', name: 'prod', status: 'ACTIVE' });
    expect(await orgs.describeAccount('999999999999')).toBeNull();
    expect(org).toHaveReceivedCommandWith(DescribeAccountCommand, { AccountId: '111111111111' });
  });

  it('walks roots and the children of a parent, every page', async () => {
    org.on(ListRootsCommand).resolves({ Roots: [{ Id: 'r-ab12', Name: 'Root' }] });
    org
      .on(ListOrganizationalUnitsForParentCommand, { ParentId: 'r-ab12', NextToken: undefined })
      .resolves({ OrganizationalUnits: [{ Id: 'ou-ab12-11111111', Name: 'Prod' }], NextToken: 't2' })
      .on(ListOrganizationalUnitsForParentCommand, { ParentId: 'r-ab12', NextToken: 't2' })
      .resolves({ OrganizationalUnits: [{ Id: 'ou-ab12-22222222', Name: 'Dev' }] });
    org
      .on(ListAccountsForParentCommand)
      .resolves({ Accounts: [{ Id: '333333333333', Name: 'mgmt', Status: 'ACTIVE' }] });
    const orgs = new AwsOrganizations(fastRetry());
    expect(await orgs.listRoots()).toEqual([{ id: 'r-ab12', name: 'Root' }]);
    expect(await orgs.listChildren('r-ab12')).toEqual({
      units: [
        { id: 'ou-ab12-11111111', name: 'Prod' },
        { id: 'ou-ab12-22222222', name: 'Dev' },
      ],
      accounts: [{ id: '333333333333', name: 'mgmt', status: 'ACTIVE' }],
    });
    expect(org).toHaveReceivedCommandWith(ListAccountsForParentCommand, { ParentId: 'r-ab12' });
    expect(org).toHaveReceivedCommandTimes(ListOrganizationalUnitsForParentCommand, 2);
  });
});
