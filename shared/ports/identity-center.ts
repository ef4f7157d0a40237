import type { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { SDK_SINGLE_ATTEMPT } from '../retry.ts';
import { lazyClient } from './lazy.ts';
import { DEFAULT_RETRY, isNotFound, type RetryPolicy, withBackoff } from './retry.ts';

/**
 * The IAM Identity Center port (sso-admin): account assignments, their asynchronous creation and deletion, and
 * the permission set's inline policy (the session fence). The adapter speaks to AWS, or to any endpoint in
 * AWS_ENDPOINT_URL_SSO_ADMIN (the local stand-in, an emulator): the SDK reads that variable itself.
 */
export type PrincipalKind = 'USER' | 'GROUP';

export interface AccountAssignment {
  accountId: string;
  permissionSetArn: string;
  /** The Identity Center user or group id. */
  principalId: string;
  principalType: PrincipalKind;
}

/** An asynchronous operation of Identity Center (assignment creation or deletion, permission set provisioning). */
export interface OperationStatus {
  requestId: string;
  status: 'IN_PROGRESS' | 'FAILED' | 'SUCCEEDED';
  failureReason: string | null;
}

export interface PermissionSet {
  arn: string;
  name: string;
  /** ISO 8601 duration of the sessions it issues (`PT1H` when AWS gives none). */
  sessionDuration: string;
}

export interface IdentityCenter {
  readonly instanceArn: string;
  createAccountAssignment(a: AccountAssignment): Promise<OperationStatus>;
  deleteAccountAssignment(a: AccountAssignment): Promise<OperationStatus>;
  describeAssignmentCreation(requestId: string): Promise<OperationStatus>;
  describeAssignmentDeletion(requestId: string): Promise<OperationStatus>;
  /** Every assignment of a permission set in an account (all pages). */
  listAccountAssignments(accountId: string, permissionSetArn: string): Promise<AccountAssignment[]>;
  /** The accounts the permission set is provisioned to (all pages): where its assignments can be (drift). */
  listAccountsForPermissionSet(permissionSetArn: string): Promise<string[]>;
  /** The permission set, or null when it does not exist. */
  describePermissionSet(permissionSetArn: string): Promise<PermissionSet | null>;
  /** The inline policy document (JSON text), or null when it has none. */
  getInlinePolicy(permissionSetArn: string): Promise<string | null>;
  putInlinePolicy(permissionSetArn: string, policy: string): Promise<void>;
  deleteInlinePolicy(permissionSetArn: string): Promise<void>;
  provisionPermissionSet(permissionSetArn: string, accountId: string): Promise<OperationStatus>;
  describeProvisioning(requestId: string): Promise<OperationStatus>;
}

type Status = { RequestId?: string | undefined; Status?: string | undefined; FailureReason?: string | undefined };

function operationStatus(s: Status | undefined, what: string): OperationStatus {
  if (!s?.RequestId || !s.Status) throw new Error(`identity center answered ${what} without a request id or status`);
  if (s.Status !== 'IN_PROGRESS' && s.Status !== 'FAILED' && s.Status !== 'SUCCEEDED') {
    throw new Error(`identity center answered ${what} with an unknown status ${s.Status}`);
  }
  return { requestId: s.RequestId, status: s.Status, failureReason: s.FailureReason ?? null };
}

export class SsoAdminIdentityCenter implements IdentityCenter {
  /** The SDK is loaded on first use (see lazy.ts); one attempt per call, the retries are `withBackoff`'s. */
  readonly #sso = lazyClient(
    () => import('@aws-sdk/client-sso-admin'),
    (m) => new m.SSOAdminClient({ maxAttempts: SDK_SINGLE_ATTEMPT }),
  );

  constructor(
    readonly instanceArn: string,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {}

  /** The client (public for tests). */
  client(): Promise<SSOAdminClient> {
    return this.#sso.client();
  }

  async createAccountAssignment(a: AccountAssignment): Promise<OperationStatus> {
    const { sdk, client } = await this.#sso.get();
    const out = await withBackoff(
      () => client.send(new sdk.CreateAccountAssignmentCommand(this.#assignmentInput(a))),
      this.retry,
    );
    return operationStatus(out.AccountAssignmentCreationStatus, 'CreateAccountAssignment');
  }

  async deleteAccountAssignment(a: AccountAssignment): Promise<OperationStatus> {
    const { sdk, client } = await this.#sso.get();
    const out = await withBackoff(
      () => client.send(new sdk.DeleteAccountAssignmentCommand(this.#assignmentInput(a))),
      this.retry,
    );
    return operationStatus(out.AccountAssignmentDeletionStatus, 'DeleteAccountAssignment');
  }

  /** The input CreateAccountAssignment and DeleteAccountAssignment share (one assignment, in one account). */
  #assignmentInput(a: AccountAssignment) {
    return {
      InstanceArn: this.instanceArn,
      TargetId: a.accountId,
      TargetType: 'AWS_ACCOUNT' as const,
      PermissionSetArn: a.permissionSetArn,
      PrincipalType: a.principalType,
      PrincipalId: a.principalId,
    };
  }

  async describeAssignmentCreation(requestId: string): Promise<OperationStatus> {
    const { sdk, client } = await this.#sso.get();
    const out = await withBackoff(
      () =>
        client.send(
          new sdk.DescribeAccountAssignmentCreationStatusCommand({
            InstanceArn: this.instanceArn,
            AccountAssignmentCreationRequestId: requestId,
          }),
        ),
      this.retry,
    );
    return operationStatus(out.AccountAssignmentCreationStatus, 'DescribeAccountAssignmentCreationStatus');
  }

  async describeAssignmentDeletion(requestId: string): Promise<OperationStatus> {
    const { sdk, client } = await this.#sso.get();
    const out = await withBackoff(
      () =>
        client.send(
          new sdk.DescribeAccountAssignmentDeletionStatusCommand({
            InstanceArn: this.instanceArn,
            AccountAssignmentDeletionRequestId: requestId,
          }),
        ),
      this.retry,
    );
    return operationStatus(out.AccountAssignmentDeletionStatus, 'DescribeAccountAssignmentDeletionStatus');
  }

  async listAccountAssignments(accountId: string, permissionSetArn: string): Promise<AccountAssignment[]> {
    const { sdk, client } = await this.#sso.get();
    const found: AccountAssignment[] = [];
    let token: string | undefined;
    do {
      const out = await withBackoff(
        () =>
          client.send(
            new sdk.ListAccountAssignmentsCommand({
              InstanceArn: this.instanceArn,
              AccountId: accountId,
              PermissionSetArn: permissionSetArn,
              ...(token ? { NextToken: token } : {}),
            }),
          ),
        this.retry,
      );
      for (const a of out.AccountAssignments ?? []) {
        if (!a.PrincipalId || (a.PrincipalType !== 'USER' && a.PrincipalType !== 'GROUP')) continue;
        found.push({ accountId, permissionSetArn, principalId: a.PrincipalId, principalType: a.PrincipalType });
      }
      token = out.NextToken;
    } while (token);
    return found;
  }

  async listAccountsForPermissionSet(permissionSetArn: string): Promise<string[]> {
    const { sdk, client } = await this.#sso.get();
    const found: string[] = [];
    let token: string | undefined;
    do {
      const out = await withBackoff(
        () =>
          client.send(
            new sdk.ListAccountsForProvisionedPermissionSetCommand({
              InstanceArn: this.instanceArn,
              PermissionSetArn: permissionSetArn,
              ...(token ? { NextToken: token } : {}),
            }),
          ),
        this.retry,
      );
      found.push(...(out.AccountIds ?? []));
      token = out.NextToken;
    } while (token);
    return found;
  }

  async describePermissionSet(permissionSetArn: string): Promise<PermissionSet | null> {
    const { sdk, client } = await this.#sso.get();
    try {
      const out = await withBackoff(
        () =>
          client.send(
            new sdk.DescribePermissionSetCommand({ InstanceArn: this.instanceArn, PermissionSetArn: permissionSetArn }),
          ),
        this.retry,
      );
      const ps = out.PermissionSet;
      if (!ps) return null;
      return {
        arn: ps.PermissionSetArn ?? permissionSetArn,
        name: ps.Name ?? '',
        sessionDuration: ps.SessionDuration ?? 'PT1H',
      };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async getInlinePolicy(permissionSetArn: string): Promise<string | null> {
    const { sdk, client } = await this.#sso.get();
    const out = await withBackoff(
      () =>
        client.send(
          new sdk.GetInlinePolicyForPermissionSetCommand({
            InstanceArn: this.instanceArn,
            PermissionSetArn: permissionSetArn,
          }),
        ),
      this.retry,
    );
    return out.InlinePolicy ? out.InlinePolicy : null;
  }

  async putInlinePolicy(permissionSetArn: string, policy: string): Promise<void> {
    const { sdk, client } = await this.#sso.get();
    await withBackoff(
      () =>
        client.send(
          new sdk.PutInlinePolicyToPermissionSetCommand({
            InstanceArn: this.instanceArn,
            PermissionSetArn: permissionSetArn,
            InlinePolicy: policy,
          }),
        ),
      this.retry,
    );
  }

  async deleteInlinePolicy(permissionSetArn: string): Promise<void> {
    const { sdk, client } = await this.#sso.get();
    await withBackoff(
      () =>
        client.send(
          new sdk.DeleteInlinePolicyFromPermissionSetCommand({
            InstanceArn: this.instanceArn,
            PermissionSetArn: permissionSetArn,
          }),
        ),
      this.retry,
    );
  }

  async provisionPermissionSet(permissionSetArn: string, accountId: string): Promise<OperationStatus> {
    const { sdk, client } = await this.#sso.get();
    const out = await withBackoff(
      () =>
        client.send(
          new sdk.ProvisionPermissionSetCommand({
            InstanceArn: this.instanceArn,
            PermissionSetArn: permissionSetArn,
            TargetType: 'AWS_ACCOUNT',
            TargetId: accountId,
          }),
        ),
      this.retry,
    );
    return operationStatus(out.PermissionSetProvisioningStatus, 'ProvisionPermissionSet');
  }

  async describeProvisioning(requestId: string): Promise<OperationStatus> {
    const { sdk, client } = await this.#sso.get();
    const out = await withBackoff(
      () =>
        client.send(
          new sdk.DescribePermissionSetProvisioningStatusCommand({
            InstanceArn: this.instanceArn,
            ProvisionPermissionSetRequestId: requestId,
          }),
        ),
      this.retry,
    );
    return operationStatus(out.PermissionSetProvisioningStatus, 'DescribePermissionSetProvisioningStatus');
  }
}
