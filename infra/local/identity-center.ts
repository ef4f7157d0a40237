/**
 * The local stand-in of AWS IAM Identity Center (sso-admin), its identity store and AWS Organizations
 * (provisioning.md, "Local runtime"). It speaks the AWS JSON 1.1 protocol the real SDK clients use
 * (`X-Amz-Target: SWBExternalService.*`, `AWSIdentityStore.*`, `AWSOrganizationsV20161128.*`), so the adapters of
 * shared/ports run unchanged against it, served on the local runtime's port (AWS_ENDPOINT_URL_SSO_ADMIN,
 * _IDENTITYSTORE and _ORGANIZATIONS point there) or on a port of its own (`startIdentityCenterEndpoint`).
 *
 * Account assignment creations and deletions and permission set provisioning report IN_PROGRESS, then SUCCEEDED
 * (or FAILED, when a fault was injected) once the latency has passed on the runtime's clock: under the manual
 * clock they stay IN_PROGRESS until the clock is moved past it. An operation on an assignment that another one is
 * still working on is refused with ConflictException, as AWS does. Requests are SigV4-signed by the SDK; the
 * signature is not checked. State is in memory (a restart starts from the seed below).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '#shared/clock.ts';
import { durationMs } from '#shared/domain/duration.ts';
import type { HttpResult } from './http-event.ts';

export const LOCAL_IDC_INSTANCE_ARN = 'arn:aws:sso:::instance/ssoins-local';
export const LOCAL_IDENTITY_STORE_ID = 'd-local';
export const LOCAL_PERMISSION_SETS = {
  admin: 'arn:aws:sso:::permissionSet/ssoins-local/ps-admin',
  readonly: 'arn:aws:sso:::permissionSet/ssoins-local/ps-readonly',
} as const;
export const LOCAL_GROUP_ID = 'g-local-oncall';
export const LOCAL_ROOT_ID = 'r-local';
export const LOCAL_USERS = ['alice', 'bob', 'carol', 'dave'] as const;
export const DEFAULT_LOCAL_IDC_LATENCY = 'PT2S';

const JSON_11 = 'application/x-amz-json-1.1';
const TARGETS = {
  sso: 'SWBExternalService.',
  store: 'AWSIdentityStore.',
  org: 'AWSOrganizationsV20161128.',
} as const;
/**
 * AWS's limits on a permission set's inline policy (IAM Identity Center quotas: "Maximum size of inline policy per
 * permission set: 32,768 bytes; maximum size of non-whitespace characters ... 10,240 bytes"; the API's pattern
 * allows tab, LF, CR and U+0020..U+00FF only).
 */
export const MAX_INLINE_POLICY_BYTES = 32_768;
export const MAX_INLINE_POLICY_NON_WHITESPACE = 10_240;
/** The API's pattern for a policy: tab, LF, CR and U+0020..U+00FF. */
const ALLOWED_POLICY_CHAR = (code: number): boolean =>
  code === 0x09 || code === 0x0a || code === 0x0d || (code >= 0x20 && code <= 0xff);

type Body = Record<string, unknown>;
type Kind = 'create' | 'delete' | 'provision';
export type FaultOperation =
  | 'CreateAccountAssignment'
  | 'DeleteAccountAssignment'
  | 'CreateGroupMembership'
  | 'ProvisionPermissionSet';
const FAULT_OPERATIONS: FaultOperation[] = [
  'CreateAccountAssignment',
  'DeleteAccountAssignment',
  'CreateGroupMembership',
  'ProvisionPermissionSet',
];

export interface Fault {
  operation: FaultOperation;
  accountId?: string;
  permissionSetArn?: string;
  failureReason: string;
  count: number;
}

interface Operation {
  requestId: string;
  kind: Kind;
  key: string;
  accountId: string;
  permissionSetArn: string;
  principalType: string;
  principalId: string;
  startedAt: number;
  failureReason: string | null;
  done: boolean;
}

interface User {
  userId: string;
  userName: string;
  email: string | null;
}

interface OrgNode {
  id: string;
  name: string;
  parentId: string | null;
  kind: 'root' | 'ou' | 'account';
  status?: string;
}

export interface IdentityCenterSnapshot {
  accountAssignments: { accountId: string; permissionSetArn: string; principalId: string; principalType: string }[];
  groupMemberships: { groupId: string; userId: string }[];
  inlinePolicies: Record<string, unknown>;
  users: { userId: string; userName: string; email: string | null }[];
}

class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly extra: Body = {},
  ) {
    super(message);
  }
}

const str = (body: Body, key: string): string => {
  const v = body[key];
  if (typeof v !== 'string' || v === '') throw new AwsError('ValidationException', `'${key}' must not be null`);
  return v;
};

/** A stable identity store id for a user name (a UUID shape, as AWS's are). */
function userIdOf(userName: string): string {
  const h = createHash('sha256').update(userName).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export interface LocalIdentityCenterOptions {
  clock: Clock;
  /** ISO 8601 duration until an operation reports its end. @default PT2S (ELEVATE_LOCAL_IDC_LATENCY) */
  latency?: string;
}

export class LocalIdentityCenter {
  readonly instanceArn = LOCAL_IDC_INSTANCE_ARN;
  readonly identityStoreId = LOCAL_IDENTITY_STORE_ID;
  readonly #clock: Clock;
  #latencyMs: number;
  readonly #users = new Map<string, User>();
  readonly #groups = new Map<string, { groupId: string; displayName: string }>();
  readonly #memberships = new Map<string, { membershipId: string; groupId: string; userId: string }>();
  readonly #permissionSets = new Map<
    string,
    { arn: string; name: string; sessionDuration: string; inline: string | null }
  >();
  readonly #assignments = new Set<string>();
  /** The accounts each permission set is provisioned to (ListAccountsForProvisionedPermissionSet): never shrinks. */
  readonly #provisioned = new Map<string, Set<string>>();
  readonly #operations = new Map<string, Operation>();
  readonly #org = new Map<string, OrgNode>();
  #faults: Fault[] = [];

  constructor(opts: LocalIdentityCenterOptions) {
    this.#clock = opts.clock;
    this.#latencyMs = durationMs(opts.latency ?? DEFAULT_LOCAL_IDC_LATENCY);
    for (const name of LOCAL_USERS) this.ensureUser(name, `${name}@example.com`);
    this.#groups.set(LOCAL_GROUP_ID, { groupId: LOCAL_GROUP_ID, displayName: 'On-call' });
    this.#permissionSets.set(LOCAL_PERMISSION_SETS.admin, {
      arn: LOCAL_PERMISSION_SETS.admin,
      name: 'AdministratorAccess',
      sessionDuration: 'PT1H',
      inline: null,
    });
    this.#permissionSets.set(LOCAL_PERMISSION_SETS.readonly, {
      arn: LOCAL_PERMISSION_SETS.readonly,
      name: 'ReadOnlyAccess',
      sessionDuration: 'PT4H',
      inline: null,
    });
    const add = (n: OrgNode) => this.#org.set(n.id, n);
    add({ id: LOCAL_ROOT_ID, name: 'Root', parentId: null, kind: 'root' });
    add({ id: 'ou-local-prod', name: 'Production', parentId: LOCAL_ROOT_ID, kind: 'ou' });
    add({ id: 'ou-local-dev', name: 'Development', parentId: LOCAL_ROOT_ID, kind: 'ou' });
    add({ id: '111111111111', name: 'prod-a', parentId: 'ou-local-prod', kind: 'account', status: 'ACTIVE' });
    add({ id: '222222222222', name: 'prod-b', parentId: 'ou-local-prod', kind: 'account', status: 'ACTIVE' });
    add({ id: '333333333333', name: 'dev', parentId: 'ou-local-dev', kind: 'account', status: 'ACTIVE' });
  }

  get latencyMs(): number {
    return this.#latencyMs;
  }

  // ---- controls (the local runtime's /_local routes and tests) ------------------------------------------

  /** The user for a principal (UserName = the principal id), made on first sight; the e-mail follows the token. */
  ensureUser(userName: string, email?: string | null): User {
    let user = [...this.#users.values()].find((u) => u.userName === userName);
    if (!user) {
      user = { userId: userIdOf(userName), userName, email: email ?? null };
      this.#users.set(user.userId, user);
    } else if (email && user.email !== email) {
      user.email = email;
    }
    return user;
  }

  addFault(fault: Fault): void {
    this.#faults.push({ ...fault });
  }

  /** An account assignment made outside Elevate (drift), in force at once. */
  assignOutside(accountId: string, permissionSetArn: string, userName: string): void {
    if (!this.#permissionSets.has(permissionSetArn))
      throw new AwsError('ResourceNotFoundException', 'no such permission set');
    const account = this.#org.get(accountId);
    if (account?.kind !== 'account') throw new AwsError('ResourceNotFoundException', `no account ${accountId}`);
    const user = this.ensureUser(userName);
    this.#assignments.add(assignmentKey(accountId, permissionSetArn, 'USER', user.userId));
    this.#markProvisioned(permissionSetArn, accountId);
  }

  /** Moves an account (or an OU) under another parent: the organization changes as it can in AWS. */
  move(id: string, parentId: string): void {
    const node = this.#org.get(id);
    const parent = this.#org.get(parentId);
    if (!node || node.kind === 'root') throw new AwsError('ResourceNotFoundException', `no account or OU ${id}`);
    if (!parent || parent.kind === 'account')
      throw new AwsError('ResourceNotFoundException', `no root or OU ${parentId}`);
    node.parentId = parentId;
  }

  /** An account or OU added to the organization. */
  addOrgNode(node: { id: string; name: string; parentId: string; kind: 'ou' | 'account'; status?: string }): void {
    this.#org.set(node.id, { ...node, ...(node.kind === 'account' ? { status: node.status ?? 'ACTIVE' } : {}) });
  }

  snapshot(): IdentityCenterSnapshot {
    this.#settle();
    return {
      accountAssignments: [...this.#assignments].sort().map((k) => {
        const [accountId = '', permissionSetArn = '', principalType = '', principalId = ''] = k.split('|');
        return { accountId, permissionSetArn, principalId, principalType };
      }),
      groupMemberships: [...this.#memberships.values()].map((m) => ({ groupId: m.groupId, userId: m.userId })),
      inlinePolicies: Object.fromEntries(
        [...this.#permissionSets.values()].map((p) => [p.arn, p.inline === null ? null : JSON.parse(p.inline)]),
      ),
      users: [...this.#users.values()].map((u) => ({ ...u })),
    };
  }

  // ---- the protocol ---------------------------------------------------------------------------------

  /** Whether a request is for this stand-in (by its X-Amz-Target). */
  static handles(req: IncomingMessage): boolean {
    const target = req.headers['x-amz-target'];
    return typeof target === 'string' && Object.values(TARGETS).some((p) => target.startsWith(p));
  }

  /** Answers one JSON 1.1 call. */
  request(req: IncomingMessage, body: Buffer): HttpResult {
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.slice(target.indexOf('.') + 1);
    const handler = this.#operationsOf(target)[operation];
    try {
      if (req.method !== 'POST' || !handler)
        throw new AwsError('UnknownOperationException', `unknown operation ${target}`);
      let input: unknown;
      try {
        input = body.length ? JSON.parse(body.toString('utf8')) : {};
      } catch {
        throw new AwsError('SerializationException', 'the request body is not JSON');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        throw new AwsError('SerializationException', 'the request body must be a JSON object');
      }
      this.#settle();
      return reply(200, handler(input as Body));
    } catch (error) {
      if (error instanceof AwsError) return reply(400, { __type: error.type, message: error.message, ...error.extra });
      return reply(500, { __type: 'InternalServerException', message: String(error) });
    }
  }

  #operationsOf(target: string): Record<string, (b: Body) => Body> {
    if (target.startsWith(TARGETS.sso)) return this.#sso;
    if (target.startsWith(TARGETS.store)) return this.#store;
    if (target.startsWith(TARGETS.org)) return this.#orgOps;
    return {};
  }

  #instance(b: Body): void {
    if (str(b, 'InstanceArn') !== this.instanceArn) {
      throw new AwsError('ResourceNotFoundException', `no instance ${String(b.InstanceArn)}`);
    }
  }

  #permissionSet(b: Body) {
    const ps = this.#permissionSets.get(str(b, 'PermissionSetArn'));
    if (!ps) throw new AwsError('ResourceNotFoundException', `no permission set ${String(b.PermissionSetArn)}`);
    return ps;
  }

  #storeId(b: Body): void {
    if (str(b, 'IdentityStoreId') !== this.identityStoreId) {
      throw new AwsError('ResourceNotFoundException', `no identity store ${String(b.IdentityStoreId)}`);
    }
  }

  /** Completes the operations whose latency has passed (on the clock). */
  #settle(): void {
    const now = this.#clock.now().getTime();
    for (const op of this.#operations.values()) {
      if (op.done || now < op.startedAt + this.#latencyMs) continue;
      op.done = true;
      if (op.failureReason !== null) continue;
      if (op.kind === 'create') this.#assignments.add(op.key);
      if (op.kind === 'delete') this.#assignments.delete(op.key);
      if (op.kind === 'create' || op.kind === 'provision') this.#markProvisioned(op.permissionSetArn, op.accountId);
    }
  }

  #markProvisioned(permissionSetArn: string, accountId: string): void {
    const accounts = this.#provisioned.get(permissionSetArn) ?? new Set<string>();
    accounts.add(accountId);
    this.#provisioned.set(permissionSetArn, accounts);
  }

  #takeFault(operation: FaultOperation, accountId?: string, permissionSetArn?: string): string | null {
    const fault = this.#faults.find(
      (f) =>
        f.operation === operation &&
        f.count > 0 &&
        (f.accountId === undefined || f.accountId === accountId) &&
        (f.permissionSetArn === undefined || f.permissionSetArn === permissionSetArn),
    );
    if (!fault) return null;
    fault.count -= 1;
    this.#faults = this.#faults.filter((f) => f.count > 0);
    return fault.failureReason;
  }

  #startAssignmentOperation(kind: 'create' | 'delete', b: Body): Body {
    this.#instance(b);
    const ps = this.#permissionSet(b);
    const accountId = str(b, 'TargetId');
    if (str(b, 'TargetType') !== 'AWS_ACCOUNT')
      throw new AwsError('ValidationException', 'TargetType must be AWS_ACCOUNT');
    const principalType = str(b, 'PrincipalType');
    const principalId = str(b, 'PrincipalId');
    if (principalType === 'USER' && !this.#users.has(principalId))
      throw new AwsError('ValidationException', `no user ${principalId}`);
    if (principalType === 'GROUP' && !this.#groups.has(principalId))
      throw new AwsError('ValidationException', `no group ${principalId}`);
    if (this.#org.get(accountId)?.kind !== 'account')
      throw new AwsError('ValidationException', `no account ${accountId}`);
    const key = assignmentKey(accountId, ps.arn, principalType, principalId);
    if ([...this.#operations.values()].some((op) => op.key === key && !op.done && op.kind !== 'provision')) {
      throw new AwsError('ConflictException', 'an operation on this account assignment is in progress');
    }
    const op: Operation = {
      requestId: randomUUID(),
      kind,
      key,
      accountId,
      permissionSetArn: ps.arn,
      principalType,
      principalId,
      startedAt: this.#clock.now().getTime(),
      failureReason: this.#takeFault(
        kind === 'create' ? 'CreateAccountAssignment' : 'DeleteAccountAssignment',
        accountId,
        ps.arn,
      ),
      done: false,
    };
    this.#operations.set(op.requestId, op);
    this.#settle();
    return statusOf(op, this.#clock);
  }

  #describe(kind: Kind, requestId: unknown): Body {
    const op = typeof requestId === 'string' ? this.#operations.get(requestId) : undefined;
    if (!op || op.kind !== kind) throw new AwsError('ResourceNotFoundException', `no request ${String(requestId)}`);
    return statusOf(op, this.#clock);
  }

  readonly #sso: Record<string, (b: Body) => Body> = {
    CreateAccountAssignment: (b) => ({ AccountAssignmentCreationStatus: this.#startAssignmentOperation('create', b) }),
    DeleteAccountAssignment: (b) => ({ AccountAssignmentDeletionStatus: this.#startAssignmentOperation('delete', b) }),
    DescribeAccountAssignmentCreationStatus: (b) => {
      this.#instance(b);
      return { AccountAssignmentCreationStatus: this.#describe('create', b.AccountAssignmentCreationRequestId) };
    },
    DescribeAccountAssignmentDeletionStatus: (b) => {
      this.#instance(b);
      return { AccountAssignmentDeletionStatus: this.#describe('delete', b.AccountAssignmentDeletionRequestId) };
    },
    ListAccountAssignments: (b) => {
      this.#instance(b);
      const ps = this.#permissionSet(b);
      const accountId = str(b, 'AccountId');
      const found = [...this.#assignments]
        .map((k) => k.split('|'))
        .filter(([account, arn]) => account === accountId && arn === ps.arn)
        .map(([AccountId, PermissionSetArn, PrincipalType, PrincipalId]) => ({
          AccountId,
          PermissionSetArn,
          PrincipalType,
          PrincipalId,
        }));
      return { AccountAssignments: found };
    },
    ListAccountsForProvisionedPermissionSet: (b) => {
      this.#instance(b);
      const ps = this.#permissionSet(b);
      return { AccountIds: [...(this.#provisioned.get(ps.arn) ?? [])].sort() };
    },
    DescribePermissionSet: (b) => {
      this.#instance(b);
      const ps = this.#permissionSet(b);
      return { PermissionSet: { PermissionSetArn: ps.arn, Name: ps.name, SessionDuration: ps.sessionDuration } };
    },
    GetInlinePolicyForPermissionSet: (b) => {
      this.#instance(b);
      const ps = this.#permissionSet(b);
      return ps.inline === null ? {} : { InlinePolicy: ps.inline };
    },
    PutInlinePolicyToPermissionSet: (b) => {
      this.#instance(b);
      const ps = this.#permissionSet(b);
      const policy = str(b, 'InlinePolicy');
      if (policy.length > MAX_INLINE_POLICY_BYTES) {
        throw new AwsError('ValidationException', `the inline policy is over ${MAX_INLINE_POLICY_BYTES} characters`);
      }
      if ([...policy].some((c) => !ALLOWED_POLICY_CHAR(c.charCodeAt(0)))) {
        throw new AwsError('ValidationException', 'the inline policy has characters outside the allowed pattern');
      }
      const nonWhitespace = policy.replace(/[\s]/g, '').length;
      if (nonWhitespace > MAX_INLINE_POLICY_NON_WHITESPACE) {
        throw new AwsError(
          'ServiceQuotaExceededException',
          `the inline policy has ${nonWhitespace} non-whitespace characters, over ${MAX_INLINE_POLICY_NON_WHITESPACE}`,
        );
      }
      try {
        JSON.parse(policy);
      } catch {
        throw new AwsError('ValidationException', 'the inline policy is not JSON');
      }
      ps.inline = policy;
      return {};
    },
    DeleteInlinePolicyFromPermissionSet: (b) => {
      this.#instance(b);
      this.#permissionSet(b).inline = null;
      return {};
    },
    ProvisionPermissionSet: (b) => {
      this.#instance(b);
      const ps = this.#permissionSet(b);
      if (str(b, 'TargetType') !== 'AWS_ACCOUNT')
        throw new AwsError('ValidationException', 'the stand-in provisions to one account (TargetType AWS_ACCOUNT)');
      const accountId = str(b, 'TargetId');
      if (this.#org.get(accountId)?.kind !== 'account')
        throw new AwsError('ValidationException', `no account ${accountId}`);
      // One update of a permission set's role at a time (IAM Identity Center quotas), as AWS answers.
      if (
        [...this.#operations.values()].some(
          (op) => op.kind === 'provision' && !op.done && op.permissionSetArn === ps.arn,
        )
      ) {
        throw new AwsError('ConflictException', 'the permission set is being provisioned; try again later');
      }
      const op: Operation = {
        requestId: randomUUID(),
        kind: 'provision',
        key: `provision|${ps.arn}`,
        accountId,
        permissionSetArn: ps.arn,
        principalType: '',
        principalId: '',
        startedAt: this.#clock.now().getTime(),
        failureReason: this.#takeFault('ProvisionPermissionSet', accountId, ps.arn),
        done: false,
      };
      this.#operations.set(op.requestId, op);
      this.#settle();
      return { PermissionSetProvisioningStatus: statusOf(op, this.#clock) };
    },
    DescribePermissionSetProvisioningStatus: (b) => {
      this.#instance(b);
      return { PermissionSetProvisioningStatus: this.#describe('provision', b.ProvisionPermissionSetRequestId) };
    },
  };

  readonly #store: Record<string, (b: Body) => Body> = {
    GetUserId: (b) => {
      this.#storeId(b);
      const unique = (
        b.AlternateIdentifier as { UniqueAttribute?: { AttributePath?: unknown; AttributeValue?: unknown } }
      )?.UniqueAttribute;
      const path = unique?.AttributePath;
      const value = unique?.AttributeValue;
      if (path !== 'userName' && path !== 'emails.value') {
        throw new AwsError('ValidationException', 'the stand-in finds users by userName or emails.value');
      }
      const user = [...this.#users.values()].find((u) =>
        path === 'userName' ? u.userName === value : u.email === value,
      );
      if (!user)
        throw new AwsError('ResourceNotFoundException', 'no user has that attribute', { ResourceType: 'USER' });
      return { IdentityStoreId: this.identityStoreId, UserId: user.userId };
    },
    DescribeUser: (b) => {
      this.#storeId(b);
      const user = this.#users.get(str(b, 'UserId'));
      if (!user) throw new AwsError('ResourceNotFoundException', 'no such user', { ResourceType: 'USER' });
      return {
        IdentityStoreId: this.identityStoreId,
        UserId: user.userId,
        UserName: user.userName,
        ...(user.email ? { Emails: [{ Value: user.email, Primary: true }] } : {}),
      };
    },
    DescribeGroup: (b) => {
      this.#storeId(b);
      const group = this.#groups.get(str(b, 'GroupId'));
      if (!group) throw new AwsError('ResourceNotFoundException', 'no such group', { ResourceType: 'GROUP' });
      return { IdentityStoreId: this.identityStoreId, GroupId: group.groupId, DisplayName: group.displayName };
    },
    GetGroupMembershipId: (b) => {
      this.#storeId(b);
      const groupId = str(b, 'GroupId');
      const userId = (b.MemberId as { UserId?: unknown })?.UserId;
      const m = [...this.#memberships.values()].find((x) => x.groupId === groupId && x.userId === userId);
      if (!m)
        throw new AwsError('ResourceNotFoundException', 'no such membership', { ResourceType: 'GROUP_MEMBERSHIP' });
      return { IdentityStoreId: this.identityStoreId, MembershipId: m.membershipId };
    },
    CreateGroupMembership: (b) => {
      this.#storeId(b);
      const groupId = str(b, 'GroupId');
      const userId = (b.MemberId as { UserId?: unknown })?.UserId;
      if (!this.#groups.has(groupId))
        throw new AwsError('ResourceNotFoundException', 'no such group', { ResourceType: 'GROUP' });
      if (typeof userId !== 'string' || !this.#users.has(userId)) {
        throw new AwsError('ResourceNotFoundException', 'no such user', { ResourceType: 'USER' });
      }
      const reason = this.#takeFault('CreateGroupMembership');
      if (reason !== null) throw new AwsError('ValidationException', reason);
      if ([...this.#memberships.values()].some((m) => m.groupId === groupId && m.userId === userId)) {
        throw new AwsError('ConflictException', 'the user is already a member', {
          Reason: 'UNIQUENESS_CONSTRAINT_VIOLATION',
        });
      }
      const membershipId = randomUUID();
      this.#memberships.set(membershipId, { membershipId, groupId, userId });
      return { IdentityStoreId: this.identityStoreId, MembershipId: membershipId };
    },
    DeleteGroupMembership: (b) => {
      this.#storeId(b);
      const id = str(b, 'MembershipId');
      if (!this.#memberships.delete(id)) {
        throw new AwsError('ResourceNotFoundException', 'no such membership', { ResourceType: 'GROUP_MEMBERSHIP' });
      }
      return {};
    },
    ListGroupMemberships: (b) => {
      this.#storeId(b);
      const groupId = str(b, 'GroupId');
      return {
        GroupMemberships: [...this.#memberships.values()]
          .filter((m) => m.groupId === groupId)
          .map((m) => ({
            IdentityStoreId: this.identityStoreId,
            MembershipId: m.membershipId,
            GroupId: m.groupId,
            MemberId: { UserId: m.userId },
          })),
      };
    },
  };

  #children(parentId: string, kind: 'ou' | 'account'): OrgNode[] {
    const parent = this.#org.get(parentId);
    if (!parent || parent.kind === 'account') throw new AwsError('ParentNotFoundException', `no parent ${parentId}`);
    return [...this.#org.values()].filter((n) => n.parentId === parentId && n.kind === kind);
  }

  readonly #orgOps: Record<string, (b: Body) => Body> = {
    DescribeAccount: (b) => {
      const node = this.#org.get(str(b, 'AccountId'));
      if (node?.kind !== 'account')
        throw new AwsError('AccountNotFoundException', 'the account is not in the organization');
      return { Account: accountShape(node) };
    },
    ListRoots: () => ({
      Roots: [...this.#org.values()]
        .filter((n) => n.kind === 'root')
        .map((n) => ({ Id: n.id, Name: n.name, Arn: `arn:aws:organizations::000000000000:root/o-local/${n.id}` })),
    }),
    ListOrganizationalUnitsForParent: (b) => ({
      OrganizationalUnits: this.#children(str(b, 'ParentId'), 'ou').map((n) => ({ Id: n.id, Name: n.name })),
    }),
    ListAccountsForParent: (b) => ({
      Accounts: this.#children(str(b, 'ParentId'), 'account').map(accountShape),
    }),
  };
}

const assignmentKey = (accountId: string, arn: string, type: string, principalId: string): string =>
  `${accountId}|${arn}|${type}|${principalId}`;

function accountShape(n: OrgNode): Body {
  return { Id: n.id, Name: n.name, Status: n.status, State: n.status, Email: `${n.name}@example.com` };
}

function statusOf(op: Operation, clock: Clock): Body {
  return {
    RequestId: op.requestId,
    Status: !op.done ? 'IN_PROGRESS' : op.failureReason === null ? 'SUCCEEDED' : 'FAILED',
    ...(op.done && op.failureReason !== null ? { FailureReason: op.failureReason } : {}),
    ...(op.kind === 'provision'
      ? { AccountId: op.accountId, PermissionSetArn: op.permissionSetArn }
      : {
          TargetId: op.accountId,
          TargetType: 'AWS_ACCOUNT',
          PermissionSetArn: op.permissionSetArn,
          PrincipalType: op.principalType,
          PrincipalId: op.principalId,
        }),
    CreatedDate: Math.floor(Math.min(op.startedAt, clock.now().getTime()) / 1000),
  };
}

function reply(status: number, value: Body): HttpResult {
  return {
    status,
    headers: { 'content-type': JSON_11, 'x-amzn-requestid': randomUUID() },
    body: Buffer.from(JSON.stringify(value)),
  };
}

/** Parses the body of `POST /_local/identity-center/faults`; a string is the problem. */
export function parseFault(value: unknown): Fault | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the body must be a JSON object';
  const v = value as Body;
  const allowed = new Set(['operation', 'accountId', 'permissionSetArn', 'failureReason', 'count']);
  const unknown = Object.keys(v).filter((k) => !allowed.has(k));
  if (unknown.length) return `unknown field(s): ${unknown.join(', ')}`;
  const operation = FAULT_OPERATIONS.find((o) => o === v.operation);
  if (!operation) return `operation must be one of ${FAULT_OPERATIONS.join(', ')}`;
  if (typeof v.failureReason !== 'string' || v.failureReason === '') return 'failureReason must be a non-empty string';
  if (v.accountId !== undefined && (typeof v.accountId !== 'string' || !/^\d{12}$/.test(v.accountId))) {
    return 'accountId must be 12 digits';
  }
  if (v.permissionSetArn !== undefined && typeof v.permissionSetArn !== 'string')
    return 'permissionSetArn must be a string';
  const count = v.count ?? 1;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 1000)
    return 'count must be 1..1000';
  return {
    operation,
    failureReason: v.failureReason,
    count,
    ...(v.accountId !== undefined ? { accountId: v.accountId as string } : {}),
    ...(v.permissionSetArn !== undefined ? { permissionSetArn: v.permissionSetArn as string } : {}),
  };
}

/** `{ accountId, permissionSetArn, userName }` of `POST /_local/identity-center/account-assignments`. */
export function parseOutsideAssignment(
  value: unknown,
): { accountId: string; permissionSetArn: string; userName: string } | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the body must be a JSON object';
  const v = value as Body;
  const unknown = Object.keys(v).filter((k) => !['accountId', 'permissionSetArn', 'userName'].includes(k));
  if (unknown.length) return `unknown field(s): ${unknown.join(', ')}`;
  if (typeof v.accountId !== 'string' || !/^\d{12}$/.test(v.accountId)) return 'accountId must be 12 digits';
  if (typeof v.permissionSetArn !== 'string' || v.permissionSetArn === '') return 'permissionSetArn is required';
  if (typeof v.userName !== 'string' || v.userName === '') return 'userName is required';
  return { accountId: v.accountId, permissionSetArn: v.permissionSetArn, userName: v.userName };
}

/** Answers a control that acts on the stand-in; a stand-in refusal (no such account...) becomes a string. */
export function control(action: () => void): string | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    if (error instanceof AwsError) return error.message;
    throw error;
  }
}

export interface IdentityCenterEndpoint {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves a stand-in on 127.0.0.1 on a port of its own (integration tests; port 0: a free one). */
export async function startIdentityCenterEndpoint(
  standIn: LocalIdentityCenter,
  port = 0,
): Promise<IdentityCenterEndpoint> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const out = LocalIdentityCenter.handles(req)
        ? standIn.request(req, Buffer.concat(chunks))
        : reply(400, { __type: 'UnknownOperationException', message: 'not an Identity Center call' });
      res.writeHead(out.status, out.headers);
      res.end(out.body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
