import type { Caller } from '../auth/caller.ts';
import type { Alert } from '../domain/alerts.ts';
import type { Assignment } from '../domain/assignment.ts';
import { type AuditEvent, canonicalJson } from '../domain/audit.ts';
import { AUDIT_SHARDS, chainId } from '../domain/audit-chain.ts';
import type { AuditExportRecord } from '../domain/audit-export.ts';
import { conflict, DomainError, notFound } from '../domain/errors.ts';
import type { Fence, PendingProvisioning } from '../domain/fence.ts';
import type { Change } from '../domain/governance.ts';
import type { Group } from '../domain/group.ts';
import type { MailSuppression } from '../domain/mail-feedback.ts';
import type { RolePolicy } from '../domain/policy.ts';
import type { PrincipalRef } from '../domain/primitives.ts';
import type { Principal } from '../domain/principal.ts';
import type { RefState } from '../domain/provisioning.ts';
import type { Request } from '../domain/request.ts';
import type { Counts, Decision, Instance, InstanceReviewers, InstanceStatus, Review } from '../domain/review.ts';
import type { Role } from '../domain/role.ts';
import type { OrgNode } from '../domain/scope.ts';
import type { Target } from '../domain/targets.ts';
import { newId } from '../ids.ts';
import type { LifecycleEvent } from '../ports/events.ts';
import { lifecycleDetailOf, PUBLISH_ATTR, publishMarker } from './audit-item.ts';
import * as E from './entities.ts';
import { principalPart } from './entities.ts';
import { ATTR, attrsOf, INDEX_ATTRS, type Item, type QueryPart } from './keyspace.ts';
import type { Key, PartBounds } from './pagination.ts';
import type { IndexName } from './table.ts';

/** The entities and their typed `fromItem` (`stored.role.fromItem(item)`): no cast of a read item anywhere else. */
export * as stored from './entities.ts';
/**
 * The writes of the table (each with the condition that guards it and the error a failed condition means), the
 * gets and the queries, all in one module. The key recipes themselves are declared once, per entity and access
 * pattern, in entities.ts; `keys` and `queries` here only name them for the use cases, and the key table in
 * docs/data-model.md is generated from the same declarations (`npm run keys:doc`, checked by a unit test).
 */
export type { Item, QueryPart };
export { ATTR, principalPart };

/** The attributes that position an item in the base table or an index (the cursor of a page). */
export function positionOf(item: Item, index: IndexName | undefined): Key {
  const key: Key = { [ATTR.pk]: String(item[ATTR.pk]), [ATTR.sk]: String(item[ATTR.sk]) };
  if (index) {
    const a = INDEX_ATTRS[index];
    key[a.pk] = String(item[a.pk]);
    key[a.sk] = String(item[a.sk]);
  }
  return key;
}

/** What a list cursor's start key for part `q` of a query must be (positionOf's shape, in q's range). */
export function cursorBounds(q: QueryPart): PartBounds {
  return {
    attrs: q.index ? [ATTR.pk, ATTR.sk, INDEX_ATTRS[q.index].pk, INDEX_ATTRS[q.index].sk] : [ATTR.pk, ATTR.sk],
    partitionAttr: partitionAttr(q.index),
    partition: q.pk,
    sortAttr: sortAttr(q.index),
    ...(q.beginsWith !== undefined && { beginsWith: q.beginsWith }),
    ...(q.between && { between: q.between }),
  };
}

export const partitionAttr = (index: IndexName | undefined): string => attrsOf(index).pk;
export const sortAttr = (index: IndexName | undefined): string => attrsOf(index).sk;

/** The literal start of an entity's partition key (`AUDIT#` of `AUDIT#{chain}`). */
const partitionPrefix = (e: { patterns: { primary: { pk: string } } }): string =>
  e.patterns.primary.pk.split('{')[0] as string;

/**
 * The partition-key prefixes of the audit trail: audit events (`AUDIT#`) and chain heads (`AUDITHEAD#`), taken
 * from their declarations. No function's role may delete or update an item under them (infra/constructs/data.ts
 * denies it in IAM; test/infra/least-privilege.test.ts checks it).
 */
export const AUDIT_KEY_PREFIXES: readonly string[] = [partitionPrefix(E.audit), partitionPrefix(E.auditHead)];

/**
 * What the mail feedback function may put: mail suppressions and the audit trail (events, chain heads, days),
 * nothing else (infra/constructs/mail.ts grants PutItem under these prefixes only).
 */
export const MAIL_SUPPRESSION_PREFIX = partitionPrefix(E.mailSuppression);
export const AUDIT_WRITE_PREFIXES: readonly string[] = [...AUDIT_KEY_PREFIXES, partitionPrefix(E.auditDay)];

/**
 * The transactional outbox: a lifecycle event is an item written in the transaction of the change it reports
 * (`ops.publish`), so it exists exactly when the change committed. The table's stream carries each new outbox
 * item to the publisher (functions/stream/outbox.ts), which puts it on the bus at least once (the stream mapping
 * retries a refused batch, then records its position in a dead-letter queue). The item stays
 * `OUTBOX_RETENTION_DAYS` (TTL) for a replay by day (`queries.outbox`).
 */
export const OUTBOX_ENTITY = E.outbox.name;
export const OUTBOX_RETENTION_DAYS = 7;

/** An outbox item as stored (what the publisher reads from the stream). */
export interface OutboxRecord {
  id: string;
  type: string;
  detail: Record<string, unknown>;
  time: string;
}

/** A Slack user linked to a principal: `source` says how (an admin's `slackUserId`, or users.lookupByEmail). */
export interface SlackUserRecord {
  slackUserId: string;
  principalId: string;
  source: 'admin' | 'email';
}

/**
 * A modal submission taken from Slack, by the digest of its payload (a Slack retry sends the same one): `queued` when
 * the endpoint answered and handed it to its asynchronous run, `taken` while a run holds it (`claim`, until
 * `leaseUntil`), `done` once decided or refused. It makes a decision out of one submission at most (shared/usecases/
 * slack.ts); it expires a day later (TTL).
 */
export interface SlackInteractionRecord {
  id: string;
  status: 'queued' | 'taken' | 'done';
  claim?: string;
  leaseUntil?: string;
}

/** One Slack message of a request: claimed (no `ts` yet) before it is posted, so two posters never both post. */
export interface SlackMessageRecord {
  requestId: string;
  /** The channel id, or the Slack user id of a direct message. */
  destination: string;
  channel: string | null;
  ts: string | null;
}

/** A slot: one principal's live (or pending) assignment of a role, type and scope. */
export type Slot = Pick<Assignment, 'principalType' | 'principalId' | 'roleId' | 'assignmentType' | 'scope'>;

const slotKey = (a: Slot) => ({
  p: principalPart(a),
  roleId: a.roleId,
  assignmentType: a.assignmentType,
  scope: a.scope,
});

// ---- gets: the table key of one item ------------------------------------------------------------------

export const keys = {
  role: (id: string) => E.role.key({ id }),
  policy: (roleId: string) => E.policy.key({ roleId }),
  scopedPolicy: (roleId: string, scope: string) => E.scopedPolicy.key({ roleId, scope }),
  targets: (roleId: string) => E.targets.key({ roleId }),
  fences: (permissionSetArn: string) => E.fences.key({ permissionSetArn }),
  orgNode: (id: string) => E.orgNode.key({ id }),
  principal: (p: PrincipalRef) => E.principal.key({ p: principalPart(p) }),
  mailSuppression: (address: string) => E.mailSuppression.key({ address }),
  slackUser: (slackUserId: string) => E.slackUser.key({ slackUserId }),
  slackMessage: (requestId: string, destination: string) => E.slackMessage.key({ requestId, destination }),
  slackInteraction: (id: string) => E.slackInteraction.key({ id }),
  assignment: (id: string) => E.assignment.key({ id }),
  live: (a: Slot) => E.live.key(slotKey(a)),
  pending: (a: Slot) => E.pending.key(slotKey(a)),
  reminder: (assignmentId: string, which: string) => E.reminder.key({ assignmentId, which }),
  request: (id: string) => E.request.key({ id }),
  idempotency: (callerId: string, key: string) => E.idempotency.key({ callerId, key }),
  install: () => E.install.key({}),
  lastUse: (eligibilityId: string) => E.lastUse.key({ eligibilityId }),
  group: (id: string) => E.group.key({ id }),
  alert: (id: string) => E.alert.key({ id }),
  alertSettings: () => E.alertSettings.key({}),
  settings: () => E.settings.key({}),
  change: (id: string) => E.change.key({ id }),
  auditHead: (chain: string) => E.auditHead.key({ chain }),
  auditDay: (day: string) => E.auditDay.key({ day }),
  auditExport: (id: string) => E.auditExport.key({ id }),
  dailyExport: (day: string) => E.dailyExport.key({ day }),
  exportHead: () => E.exportHead.key({}),
  jobProgress: (job: string) => E.jobProgress.key({ job }),
  outbox: (time: string, id: string) => E.outbox.key({ day: time.slice(0, 10), time, id }),
  /** One AWS account assignment or membership Elevate provisions (domain/provisioning.ts refIdOf). */
  awsRef: (refId: string) => E.awsRef.key({ refId }),
};

// ---- queries ------------------------------------------------------------------------------------------

export const queries = {
  /** A request's Slack messages. */
  slackMessages: (requestId: string): QueryPart => E.slackMessage.query('primary', { requestId }),
  roles: (): QueryPart => E.role.query('all', {}),
  /** A role's policies: its base policy (`POLICY`), then those of its other scopes (`POLICY#<scope>`) in scope order. */
  policies: (roleId: string): QueryPart => E.policy.query('primary', { roleId }, { beginsWith: {} }),
  /** A role's partition: the role, its policies (every scope) and its targets (`ROLE#<id>`), in one Query. */
  roleItems: (roleId: string): QueryPart => E.role.query('primary', { id: roleId }),
  /** The lifecycle events of one UTC day (`yyyy-mm-dd`) in the outbox, oldest first (a replay after an outage). */
  outbox: (day: string): QueryPart => E.outbox.query('primary', { day }),
  /** Permission sets with a fence to remove or a provisioning to follow by `before` (the reconcile job). */
  fencesDue: (before: string): QueryPart => E.fences.query('due', {}, { between: ['0', `${before}\uffff`] }),
  /** The organization's roots, OUs and accounts, in scope order (GET /v1/scopes, the organization-sync job). */
  scopes: (): QueryPart => E.orgNode.query('scopes', {}),
  /** A principal's live slots, optionally of one role and type: `LIVE#<role>#<type>#`. */
  live: (p: PrincipalRef, roleId?: string, type?: string): QueryPart =>
    E.live.query('primary', { p: principalPart(p) }, { beginsWith: { roleId, assignmentType: type } }),
  /** Live slots of every role whose id starts with a prefix (the built-in elevate-* roles in one query). */
  liveRolePrefix: (p: PrincipalRef, rolePrefix: string): QueryPart =>
    E.live.query('primary', { p: principalPart(p) }, { beginsWith: { roleId: rolePrefix }, open: true }),
  assignmentsOfRole: (roleId: string): QueryPart => E.assignment.query('byRole', { roleId }, { forward: false }),
  assignmentsByStatus: (status: string, endBefore?: string): QueryPart =>
    E.assignment.query('byStatus', { status }, endBefore ? { between: ['0', endBefore] } : {}),
  /** Assignments of a stored status whose end is in [from, to] (recently ended ones: provisioning's reconcile). */
  assignmentsEndedBetween: (status: string, from: string, to: string): QueryPart =>
    E.assignment.query('byStatus', { status }, { between: [from, `${to}\uffff`] }),
  assignmentsOfPrincipal: (p: PrincipalRef): QueryPart =>
    E.assignment.query('byPrincipal', { p: principalPart(p) }, { forward: false }),
  requestsOfPrincipal: (p: PrincipalRef): QueryPart =>
    E.request.query('byPrincipal', { p: principalPart(p) }, { forward: false }),
  requestsByStatus: (status: string): QueryPart => E.request.query('byStatus', { status }, { forward: false }),
  allRequests: (): QueryPart => E.request.query('all', {}, { forward: false }),
  groups: (): QueryPart => E.group.query('all', {}),
  alerts: (status?: string): QueryPart => E.alert.query('all', {}, status ? { beginsWith: { status } } : {}),
  /** Live active permanent assignments (their end sorts as the end of time). */
  permanentActive: (): QueryPart =>
    E.assignment.query('byStatus', { status: 'Active' }, { beginsWith: { end: '9999-' }, open: true }),
  /** The audit partitions of one UTC day (one per chain shard): each in [lo, hi] of the sort key `<time>#<id>`. */
  auditDay: (day: string, lo: string, hi: string, forward: boolean): QueryPart[] =>
    Array.from({ length: AUDIT_SHARDS }, (_, shard) =>
      E.audit.query('primary', { chain: chainId(day, shard) }, { between: [lo, hi], forward }),
    ),
  /** The UTC days in [fromDay, toDay] that have audit events, newest first. */
  auditDays: (fromDay: string, toDay: string): QueryPart =>
    E.auditDay.query('all', {}, { between: [fromDay, toDay], forward: false }),
  exports: (): QueryPart => E.auditExport.query('all', {}, { forward: false }),
  /** Pending changes, newest first. */
  changes: (): QueryPart => E.change.query('all', {}, { forward: false }),
  /** Changes of one stored status whose expiry is before `before` (the reconcile job's Pending ones). */
  changesExpiringBefore: (status: string, before: string): QueryPart =>
    E.change.query('byStatus', { status }, { between: ['0', before] }),
  /** Audit events of one principal/actor/role (indexes), newest first in [from, to]. */
  audit: (
    by: { principalId: string } | { actorId: string } | { roleId: string },
    from: string,
    to: string,
  ): QueryPart => {
    const cond = { between: [from, `${to}\uffff`] as [string, string], forward: false };
    if ('principalId' in by) return E.audit.query('byPrincipal', by, cond);
    if ('actorId' in by) return E.audit.query('byActor', by, cond);
    return E.audit.query('byRole', by, cond);
  },
};

// ---- items ----------------------------------------------------------------------------------------

export interface RoleRecord extends Role {
  /** Live (Scheduled or Active) assignments of the role; a role can be deleted only at 0. */
  liveAssignments: number;
  version: number;
}

export interface PolicyRecord {
  roleId: string;
  policy: RolePolicy;
  version: number;
  updatedAt: string;
  /**
   * The scopes other than `/` where the role has a policy of its own, sorted (absent: none). Kept on the base
   * policy so a check reads it with the base policy, and so that adding or removing a scoped policy changes this
   * item's version (a role deletion, conditional on it, cannot leave a scoped policy behind).
   */
  scopes?: string[];
}

/** A role's policy at one scope other than `/`. */
export interface ScopedPolicyRecord {
  roleId: string;
  scope: string;
  policy: RolePolicy;
  version: number;
  updatedAt: string;
}

/** A principal's profile (shared/domain/principal.ts). */
export type { Principal };

export interface TargetsRecord {
  roleId: string;
  targets: Target[];
  version: number;
  updatedAt: string;
}

/**
 * The session fences of one permission set (shared/domain/fence.ts): the source of Elevate's statements in its
 * inline policy, version-guarded (two fences racing never lose one). Indexed (sparse) by when something is due.
 */
export type { PendingProvisioning };

export interface FenceRecord {
  permissionSetArn: string;
  fences: Fence[];
  pending: PendingProvisioning[];
  version: number;
  updatedAt: string;
}

/** A root, OU or account of the AWS organization (the organization-sync job keeps these). */
export type OrgNodeRecord = OrgNode;

export type GroupRecord = Group;

/** An alert as stored: the API shape and a version. */
export type AlertRecord = Alert & { version: number };

/** A request as stored: the API shape plus what only the workflow needs. */
export interface RequestRecord extends Omit<Request, 'policyScope'> {
  /** The scope of the policy it was decided under; absent on requests stored before it was recorded (`/`). */
  policyScope?: string;
  version: number;
  /** The token of the approval task waiting for the current stage (never shown by the API). */
  taskToken: string | null;
}

/** A pending change as stored: the API shape, the proposer's sign-in (the call is applied as theirs), a version. */
export interface ChangeRecord extends Change {
  /** The proposer's sign-in when it proposed (the change is applied as its call). */
  proposer: Caller;
  version: number;
}

export interface SettingsRecord {
  settings: unknown;
  version: number;
  updatedAt: string;
  updatedBy: string;
}

export interface IdempotencyRecord {
  fingerprint: string;
  status: number;
  body: unknown;
}

/**
 * When an eligibility was last activated, and by which activation, as a `LASTUSE` item written before issue 18
 * (`ops.noNewActivations` still checks it; reviews and alerts still read it).
 */
export interface LastUseRecord {
  eligibilityId: string;
  assignmentId?: string;
  at: string;
  principalId?: string;
}

/** An eligibility's last activation as its live slot holds it (`SLOT_GUARDS.lastUse`). */
export interface SlotLastUse {
  assignmentId: string;
  at: string;
}

/** What a live slot carries beside its assignment (entities.ts `SLOT_GUARDS`): its last use. */
export interface SlotGuards {
  lastUse: SlotLastUse | null;
}

/** The guards of a live slot item as read. */
export function guardsOf(item: Item): SlotGuards {
  const use = item[E.SLOT_GUARDS.lastUse] as Partial<SlotLastUse> | undefined;
  return {
    lastUse: use && typeof use.assignmentId === 'string' && typeof use.at === 'string' ? (use as SlotLastUse) : null,
  };
}

/**
 * The last activation of an eligibility as a change of it read its live slot, before it read the activations
 * standing on it (`null`: none yet): the change's write of the slot is conditional on it (`ops.endAssignments`,
 * `ops.replaceAssignment`), so an activation made in between fails the change rather than escaping it.
 */
export type LastUseRead = { assignmentId: string } | null;

/** The condition that an eligibility's slot holds the last use read (`#lastUse`, `:lastUse` when there was one). */
function lastUseGuard(read: LastUseRead | undefined): {
  condition: string;
  names: Record<string, string>;
  values: Item;
} {
  if (read === undefined) return { condition: '', names: {}, values: {} };
  const names = { '#lastUse': E.SLOT_GUARDS.lastUse, '#useId': 'assignmentId' };
  return read === null
    ? { condition: ' AND attribute_not_exists(#lastUse)', names: { '#lastUse': E.SLOT_GUARDS.lastUse }, values: {} }
    : { condition: ' AND #lastUse.#useId = :lastUse', names, values: { ':lastUse': read.assignmentId } };
}

/** The item under an Idempotency-Key: a response, or a claim of a call still running (pending). */

export type IdempotencyItem =
  | (IdempotencyRecord & { pending?: undefined })
  | { fingerprint: string; claim: string; pending: true };

const epochSeconds = (d: Date) => Math.floor(d.getTime() / 1000);

const changeItem = (c: ChangeRecord): Item => E.change.item(c);
const roleItem = (r: RoleRecord): Item => E.role.item(r);
const assignmentItem = (a: Assignment): Item => E.assignment.item(a);
const liveItem = (a: Assignment): Item => E.live.item(a);
const requestItem = (r: RequestRecord): Item => E.request.item(r);
const auditItem = (e: AuditEvent): Item => E.audit.item(e);

// ---- writes: each with the condition that guards it and the error a failed condition means --------

/**
 * One element of a TransactWriteItems call (document-client form, TableName added by the store). An op with
 * `audit` puts that audit event: the store links it into a hash chain when it executes the transaction
 * (`publishes`: the lifecycle events the audit event also is, see `ops.audit`).
 */
export type WriteOp = {
  audit?: AuditEvent;
  publishes?: readonly LifecycleEvent[];
  liveCount?: { roleId: string; n: number };
} & (
  | {
      Put: {
        Item: Item;
        ConditionExpression?: string;
        ExpressionAttributeNames?: Record<string, string>;
        ExpressionAttributeValues?: Item;
      };
      onConflict?: () => Error;
    }
  | {
      Update: {
        Key: Item;
        UpdateExpression: string;
        ConditionExpression?: string;
        ExpressionAttributeNames?: Record<string, string>;
        ExpressionAttributeValues?: Item;
      };
      onConflict?: () => Error;
    }
  | {
      Delete: {
        Key: Item;
        ConditionExpression?: string;
        ExpressionAttributeNames?: Record<string, string>;
        ExpressionAttributeValues?: Item;
      };
      onConflict?: () => Error;
    }
  | {
      ConditionCheck: {
        Key: Item;
        ConditionExpression: string;
        ExpressionAttributeNames?: Record<string, string>;
        ExpressionAttributeValues?: Item;
      };
      onConflict?: () => Error;
    }
);

const NEW = 'attribute_not_exists(pk)';

/** Marks the idempotency record's conflict, which the store resolves by returning the first response. */
export class IdempotencyRace extends Error {}

/** Marks a Slack submission already taken (a retry, a second delivery): nothing is decided again. */
export class SlackInteractionSeen extends Error {}

/** Marks a moved audit chain head: the store reads the head again and retries the whole transaction. */
export class AuditHeadMoved extends Error {}

/**
 * Marks a conflict between an eligibility and its activations (one changed while the other was being made):
 * the request is planned again from what is stored now.
 */
export class StandingMoved extends DomainError {
  constructor(detail: string) {
    super('Conflict', detail);
  }
}

/** What Elevate knows of an AWS assignment or membership it provisions (domain/provisioning.ts RefState). */
export type AwsRefState = RefState;

/** An AWS reference item as stored. */
export interface AwsRefRecord {
  refId: string;
  /** The grants (assignment ids) that need it; absent when none does. */
  holders?: Set<string>;
  state?: AwsRefState;
  /** The grant whose creation or deletion is in flight. */
  owner?: string;
  /** It was in AWS before Elevate granted it: Elevate never removes it. */
  preexisting?: boolean;
  updatedAt?: string;
}

/** Marks a provisioning step that met another on the same AWS assignment or grant: it reads again and goes on. */
export class RefMoved extends Error {}

/** Marks a manifest chain locked by another run (or moved under a lost lock). */
export class ExportHeadMoved extends Error {}

/** Marks an export held by another run (or already done): this run leaves it alone. */
export class ExportClaimed extends Error {}

export type { AuditExportRecord };

const exportItem = (r: AuditExportRecord): Item => E.auditExport.item(r);

/** A head (audit chain or manifest chain) as read, or null when there is none yet. */
const headGuard = (expectedSeq: number | null) =>
  expectedSeq === null
    ? { ConditionExpression: NEW }
    : { ConditionExpression: 'seq = :seq', ExpressionAttributeValues: { ':seq': expectedSeq } };

const holderList = (h: string | readonly string[]): string[] => (typeof h === 'string' ? [h] : [...h]);

/** An activation (or a change of an eligibility) that met the other: planned again from what is stored now. */
const standing = (a: Assignment) => () =>
  new StandingMoved(`an activation of eligibility '${a.id}' was made, or it changed, meanwhile; retry`);

/** The attributes an assignment may lack (removed from its live slot when a change drops them). */
const OPTIONAL_ASSIGNMENT_ATTRS = ['provisioning'] as const satisfies readonly (keyof Assignment)[];

/**
 * The update that makes a live slot hold `a` (guarded by the version read, and the last use read when given):
 * every attribute of its item set, the optional ones it lacks removed, what the slot carries beside it kept.
 */
function liveUpdate(a: Assignment, expectedVersion: number, lastUse: LastUseRead | undefined) {
  const item = liveItem(a);
  const names: Record<string, string> = {};
  const values: Item = { ':v': expectedVersion };
  const sets: string[] = [];
  let n = 0;
  for (const [k, v] of Object.entries(item)) {
    if (k === ATTR.pk || k === ATTR.sk || v === undefined) continue;
    names[`#a${n}`] = k;
    values[`:a${n}`] = v;
    sets.push(`#a${n} = :a${n}`);
    n++;
  }
  const removes = OPTIONAL_ASSIGNMENT_ATTRS.filter((k) => item[k] === undefined).map((k) => {
    names[`#a${n}`] = k;
    return `#a${n++}`;
  });
  const use = lastUseGuard(lastUse);
  return {
    Key: keys.live(a),
    UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
    ConditionExpression: `version = :v${use.condition}`,
    ExpressionAttributeNames: { ...names, ...use.names },
    ExpressionAttributeValues: { ...values, ...use.values },
  };
}

export const ops = {
  createRole: (r: RoleRecord): WriteOp => ({
    Put: { Item: roleItem(r), ConditionExpression: NEW },
    onConflict: () => conflict(`role '${r.id}' already exists`),
  }),
  updateRole: (r: RoleRecord, expectedVersion: number): WriteOp => ({
    Put: {
      Item: roleItem(r),
      ConditionExpression: 'version = :v AND liveAssignments = :n',
      ExpressionAttributeValues: { ':v': expectedVersion, ':n': r.liveAssignments },
    },
    onConflict: () => conflict(`role '${r.id}' changed while this request ran; read it again and retry`),
  }),
  deleteRole: (id: string, expectedVersion: number): WriteOp => ({
    Delete: {
      Key: keys.role(id),
      ConditionExpression: 'version = :v AND liveAssignments = :zero AND builtIn = :false',
      ExpressionAttributeValues: { ':v': expectedVersion, ':zero': 0, ':false': false },
    },
    onConflict: () => conflict(`role '${id}' has assignments or changed while this request ran`),
  }),
  /** The base policy goes with its role, as it was read (a scoped policy added since makes it a conflict). */
  deletePolicy: (roleId: string, expectedVersion: number): WriteOp => ({
    Delete: {
      Key: keys.policy(roleId),
      ConditionExpression: 'version = :v',
      ExpressionAttributeValues: { ':v': expectedVersion },
    },
    onConflict: () => conflict(`the policies of role '${roleId}' changed while this request ran; retry`),
  }),
  createScopedPolicy: (p: ScopedPolicyRecord): WriteOp => ({
    Put: { Item: E.scopedPolicy.item(p), ConditionExpression: NEW },
    onConflict: () => conflict(`role '${p.roleId}' got a policy at '${p.scope}' while this request ran; retry`),
  }),
  replaceScopedPolicy: (p: ScopedPolicyRecord, expectedVersion: number): WriteOp => ({
    Put: {
      Item: E.scopedPolicy.item(p),
      ConditionExpression: 'version = :v',
      ExpressionAttributeValues: { ':v': expectedVersion },
    },
    onConflict: () =>
      conflict(`the policy of role '${p.roleId}' at '${p.scope}' changed while this request ran; retry`),
  }),
  deleteScopedPolicy: (roleId: string, scope: string, expectedVersion: number): WriteOp => ({
    Delete: {
      Key: keys.scopedPolicy(roleId, scope),
      ConditionExpression: 'version = :v',
      ExpressionAttributeValues: { ':v': expectedVersion },
    },
    onConflict: () => conflict(`the policy of role '${roleId}' at '${scope}' changed while this request ran; retry`),
  }),
  createPolicy: (p: PolicyRecord): WriteOp => ({
    Put: { Item: E.policy.item(p), ConditionExpression: NEW },
    onConflict: () => conflict(`role '${p.roleId}' already has a policy`),
  }),
  replacePolicy: (p: PolicyRecord, expectedVersion: number): WriteOp => ({
    Put: {
      Item: E.policy.item(p),
      ConditionExpression: 'version = :v',
      ExpressionAttributeValues: { ':v': expectedVersion },
    },
    onConflict: () =>
      conflict(`the policy of role '${p.roleId}' changed while this request ran; read it again and retry`),
  }),
  putPrincipal: (p: Principal): WriteOp => ({
    Put: { Item: E.principal.item(p) },
  }),
  /** Links a Slack user to a principal, unless it is linked to another one (an admin unlinks it first). */
  putSlackUser: (u: SlackUserRecord, principalId: string): WriteOp => ({
    Put: {
      Item: E.slackUser.item(u),
      ConditionExpression: 'attribute_not_exists(pk) OR principalId = :p',
      ExpressionAttributeValues: { ':p': principalId },
    },
    onConflict: () => conflict(`Slack user '${u.slackUserId}' is linked to another principal; unlink it there first`),
  }),
  /** Records the Slack user found for a profile that had none, if the profile is still the one read. */
  linkPrincipalSlackUser: (p: Principal, slackUserId: string): WriteOp => ({
    Put: {
      Item: E.principal.item({ ...p, slackUserId }),
      ConditionExpression: 'attribute_not_exists(slackUserId) AND updatedAt = :u',
      ExpressionAttributeValues: { ':u': p.updatedAt },
    },
    onConflict: () => conflict(`the profile of '${p.id}' changed while its Slack user was looked up`),
  }),
  /** Unlinks a Slack user, only if it is still linked to `principalId`. */
  deleteSlackUser: (slackUserId: string, principalId: string): WriteOp => ({
    Delete: {
      Key: keys.slackUser(slackUserId),
      ConditionExpression: 'attribute_not_exists(principalId) OR principalId = :p',
      ExpressionAttributeValues: { ':p': principalId },
    },
    onConflict: () => conflict(`Slack user '${slackUserId}' was linked to someone else while this request ran`),
  }),
  /** Claims a request's message for a destination: false-y conflict when another poster claimed it first. */
  claimSlackMessage: (m: SlackMessageRecord): WriteOp => ({
    Put: { Item: E.slackMessage.item(m), ConditionExpression: NEW },
    onConflict: () => conflict(`the Slack message of '${m.requestId}' to '${m.destination}' is already claimed`),
  }),
  /** Records where a claimed message was posted. */
  /** A submission handed to the asynchronous run: only the first of its deliveries (Slack retries the same). */
  slackInteractionQueued: (id: string, expiresAt: Date): WriteOp => ({
    Put: {
      Item: { ...E.slackInteraction.item({ id, status: 'queued' }), [ATTR.ttl]: epochSeconds(expiresAt) },
      ConditionExpression: NEW,
    },
    onConflict: () => new SlackInteractionSeen(`Slack submission ${id} was already taken`),
  }),
  /** Gives a queued submission up (its asynchronous run could not be started): Slack's retry may take it again. */
  slackInteractionDropped: (id: string): WriteOp => ({
    Delete: {
      Key: keys.slackInteraction(id),
      ConditionExpression: '#s = :queued',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':queued': 'queued' },
    },
    onConflict: () => new SlackInteractionSeen(`Slack submission ${id} is already running`),
  }),
  /**
   * A run's hold on a queued submission (or on one whose previous run's lease ran out: a run that failed before it
   * decided); a second delivery of the same submission finds it held, or done, and does nothing.
   */
  slackInteractionTaken: (id: string, claim: string, now: Date, leaseUntil: Date): WriteOp => ({
    Update: {
      Key: keys.slackInteraction(id),
      UpdateExpression: 'SET #s = :taken, #claim = :claim, #lease = :lease',
      ConditionExpression: '#s = :queued OR (#s = :taken AND #lease < :now)',
      ExpressionAttributeNames: { '#s': 'status', '#claim': 'claim', '#lease': 'leaseUntil' },
      ExpressionAttributeValues: {
        ':taken': 'taken',
        ':queued': 'queued',
        ':claim': claim,
        ':lease': leaseUntil.toISOString(),
        ':now': now.toISOString(),
      },
    },
    onConflict: () => new SlackInteractionSeen(`Slack submission ${id} is taken or done`),
  }),
  /** The submission decided or refused, by the run that holds it: in the decision's own transaction. */
  slackInteractionDone: (id: string, claim: string): WriteOp => ({
    Update: {
      Key: keys.slackInteraction(id),
      UpdateExpression: 'SET #s = :done REMOVE #lease',
      ConditionExpression: '#claim = :claim AND #s = :taken',
      ExpressionAttributeNames: { '#s': 'status', '#claim': 'claim', '#lease': 'leaseUntil' },
      ExpressionAttributeValues: { ':done': 'done', ':taken': 'taken', ':claim': claim },
    },
    onConflict: () => new SlackInteractionSeen(`Slack submission ${id} is no longer held by this run`),
  }),
  /** A run that failed before deciding gives its hold back, so the retry of its event takes it at once. */
  slackInteractionReleased: (id: string, claim: string): WriteOp => ({
    Update: {
      Key: keys.slackInteraction(id),
      UpdateExpression: 'SET #s = :queued REMOVE #lease, #claim',
      ConditionExpression: '#claim = :claim AND #s = :taken',
      ExpressionAttributeNames: { '#s': 'status', '#claim': 'claim', '#lease': 'leaseUntil' },
      ExpressionAttributeValues: { ':queued': 'queued', ':taken': 'taken', ':claim': claim },
    },
    onConflict: () => new SlackInteractionSeen(`Slack submission ${id} is no longer held by this run`),
  }),
  postedSlackMessage: (m: SlackMessageRecord): WriteOp => ({ Put: { Item: E.slackMessage.item(m) } }),
  /** Gives up a claim whose post failed (the next sync posts it). */
  releaseSlackMessage: (requestId: string, destination: string): WriteOp => ({
    Delete: { Key: keys.slackMessage(requestId, destination), ConditionExpression: 'attribute_not_exists(ts)' },
    onConflict: () => conflict('the Slack message was posted meanwhile'),
  }),
  /** Records (or replaces) an address's suppression. */
  putMailSuppression: (s: MailSuppression): WriteOp => ({
    Put: { Item: E.mailSuppression.item(s) },
  }),
  /** Clears an address's suppression, only if it is still the one read (a new bounce since is not cleared unseen). */
  clearMailSuppression: (address: string, feedbackId: string): WriteOp => ({
    Delete: {
      Key: keys.mailSuppression(address),
      ConditionExpression: 'feedbackId = :f',
      ExpressionAttributeValues: { ':f': feedbackId },
    },
    onConflict: () => conflict('the mail suppression changed while this request ran; read the principal again'),
  }),
  /** A role's targets, guarded by the version read (none yet: null), on a role that still exists. */
  putTargets: (t: TargetsRecord, expectedVersion: number | null): WriteOp[] => [
    {
      Put: {
        Item: E.targets.item(t),
        ...(expectedVersion === null
          ? { ConditionExpression: NEW }
          : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion } }),
      },
      onConflict: () =>
        conflict(`the targets of role '${t.roleId}' changed while this request ran; read them again and retry`),
    },
    {
      ConditionCheck: { Key: keys.role(t.roleId), ConditionExpression: 'attribute_exists(pk)' },
      onConflict: () => notFound(`role '${t.roleId}'`),
    },
  ],
  deleteTargets: (roleId: string): WriteOp => ({ Delete: { Key: keys.targets(roleId) } }),
  /** A permission set's fences, guarded by the version read (none yet: null); kept (unindexed) when empty. */
  putFences: (r: FenceRecord, expectedVersion: number | null): WriteOp => ({
    Put: {
      Item: E.fences.item(r),
      ...(expectedVersion === null
        ? { ConditionExpression: NEW }
        : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion } }),
    },
    onConflict: () => conflict(`the fences of ${r.permissionSetArn} changed meanwhile; read them again`),
  }),
  /** An organization node as the sync job saw it (last writer wins: the job is the only writer). */
  putOrgNode: (n: OrgNodeRecord): WriteOp => ({
    Put: { Item: E.orgNode.item(n) },
  }),
  deleteOrgNode: (id: string): WriteOp => ({ Delete: { Key: keys.orgNode(id) } }),

  /**
   * A new assignment: its record, its live slot (unique per principal/role/type/scope) and the role's count. (An
   * activation also updates its eligibility's slot: `activationStands`.)
   */
  createAssignment: (a: Assignment): WriteOp[] => [
    {
      Put: { Item: assignmentItem(a), ConditionExpression: NEW },
      onConflict: () => conflict(`assignment '${a.id}' already exists`),
    },
    {
      Put: { Item: liveItem(a), ConditionExpression: NEW },
      onConflict: () =>
        conflict(
          `'${a.principalId}' already has a live ${a.assignmentType} assignment of role '${a.roleId}' at scope '${a.scope}'`,
        ),
    },
    {
      Update: {
        Key: keys.role(a.roleId),
        UpdateExpression: 'ADD liveAssignments :one',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':one': 1 },
      },
      onConflict: () => notFound(`role '${a.roleId}'`),
    },
  ],
  /**
   * A changed live assignment (same slot): both copies, guarded by the version read. The live slot is updated
   * attribute by attribute, not put whole, so what it carries beside the assignment (an eligibility's last use and
   * `SLOT_GUARDS`) stays; `lastUse`: an eligibility's last use as read before its activations were
   * (see LastUseRead), when the change fits them to it.
   */
  replaceAssignment: (a: Assignment, expectedVersion: number, lastUse?: LastUseRead): WriteOp[] => {
    const guard = { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion } };
    const onConflict = () => conflict(`assignment '${a.id}' changed while this request ran; read it again and retry`);
    return [
      { Put: { Item: assignmentItem(a), ...guard }, onConflict },
      { Update: liveUpdate(a, expectedVersion, lastUse), onConflict: lastUse === undefined ? onConflict : standing(a) },
    ];
  },
  /** An assignment that ended (Expired or Revoked): the record keeps it, the live slot goes. */
  endAssignment: (a: Assignment, expectedVersion: number): WriteOp[] => ops.endAssignments([[a, expectedVersion]]),
  /**
   * Several assignments that end in one transaction (an eligibility and the activations standing on it): each
   * record and live slot guarded by the version read, and one count update per role (a transaction may not
   * touch an item twice).
   */
  endAssignments: (ended: [Assignment, number, LastUseRead?][]): WriteOp[] => {
    const perRole = new Map<string, number>();
    const writes: WriteOp[] = ended.flatMap(([a, expectedVersion, lastUse]) => {
      perRole.set(a.roleId, (perRole.get(a.roleId) ?? 0) + 1);
      const guard = { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion } };
      const onConflict = () => conflict(`assignment '${a.id}' changed while this request ran; read it again and retry`);
      const use = lastUseGuard(lastUse);
      return [
        { Put: { Item: assignmentItem(a), ...guard }, onConflict },
        {
          Delete: {
            Key: keys.live(a),
            ConditionExpression: `version = :v${use.condition}`,
            ...(Object.keys(use.names).length && { ExpressionAttributeNames: use.names }),
            ExpressionAttributeValues: { ':v': expectedVersion, ...use.values },
          },
          onConflict: lastUse === undefined ? onConflict : standing(a),
        },
      ];
    });
    for (const [roleId, n] of perRole) writes.push(ops.liveCount(roleId, -n));
    return writes;
  },
  /**
   * A role's live-assignment counter moved by `n` (unconditionally: the writes beside it are guarded). Tagged
   * `liveCount`, so that the removals of several transactions packed into one merge theirs (`mergeLiveCounts`).
   */
  liveCount: (roleId: string, n: number): WriteOp => ({
    Update: {
      Key: keys.role(roleId),
      UpdateExpression: 'ADD liveAssignments :minus',
      ExpressionAttributeValues: { ':minus': n },
    },
    liveCount: { roleId, n },
  }),
  /**
   * An activation's one write of the eligibility it stands on (issue 18: a condition check and a last-use item
   * folded into one update of the eligibility's live slot, which no index copies): the eligibility is still the one
   * read (same version: not removed, shortened or moved meanwhile), and the slot records this activation as its last
   * use. A change of the eligibility is conditional on the last use it read before the activations (LastUseRead), so
   * a removal and an activation of one eligibility can never both commit on what the other changed.
   */
  activationStands: (e: Assignment, activation: Assignment): WriteOp => ({
    Update: {
      Key: keys.live(e),
      UpdateExpression: 'SET #lastUse = :use',
      ConditionExpression: 'version = :v',
      ExpressionAttributeNames: { '#lastUse': E.SLOT_GUARDS.lastUse },
      ExpressionAttributeValues: {
        ':v': e.version,
        ':use': { assignmentId: activation.id, at: activation.createdAt } satisfies SlotLastUse,
      },
    },
    onConflict: () => new StandingMoved(`the eligibility '${e.id}' changed while this request ran; retry`),
  }),
  /**
   * A transaction that moves an activation without making one (an extension): the eligibility it stands on is still
   * the one read.
   */
  eligibilityStands: (e: Assignment): WriteOp => ({
    ConditionCheck: {
      Key: keys.live(e),
      ConditionExpression: 'version = :v',
      ExpressionAttributeValues: { ':v': e.version },
    },
    onConflict: () => new StandingMoved(`the eligibility '${e.id}' changed while this request ran; retry`),
  }),
  /**
   * A change that ends or shortens an eligibility: no activation of it was made since its activations were read, by
   * the `LASTUSE` item activations wrote before issue 18 (kept while code that writes it may still run: an
   * activation now records itself on the eligibility's live slot, which the change's own write of the slot checks,
   * LastUseRead). `lastUse` is that item as read (undefined: none) BEFORE the activations were queried.
   */
  noNewActivations: (eligibilityId: string, lastUse: LastUseRecord | undefined): WriteOp => ({
    ConditionCheck: {
      Key: keys.lastUse(eligibilityId),
      ...(lastUse === undefined
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : lastUse.assignmentId === undefined
          ? { ConditionExpression: 'attribute_not_exists(assignmentId)' }
          : { ConditionExpression: 'assignmentId = :a', ExpressionAttributeValues: { ':a': lastUse.assignmentId } }),
    },
    onConflict: () => new StandingMoved(`an activation of eligibility '${eligibilityId}' was made meanwhile; retry`),
  }),
  /**
   * The grant holds the AWS assignment or membership (in the grant's transaction): it may not be removed now. The
   * holders are the grant's id, or (a group-held grant) one holder per membership it provisions for.
   */
  holdRef: (refId: string, holders: string | readonly string[]): WriteOp => ({
    Update: {
      Key: keys.awsRef(refId),
      UpdateExpression: 'ADD #holders :a SET #entity = :entity, #refId = :refId',
      ExpressionAttributeNames: { '#holders': 'holders', '#entity': 'entity', '#refId': 'refId' },
      ExpressionAttributeValues: { ':a': new Set(holderList(holders)), ':entity': 'awsRef', ':refId': refId },
    },
  }),
  /** The grant no longer needs it (in the transaction that ends the grant). The last holder's step removes it. */
  releaseRef: (refId: string, holders: string | readonly string[]): WriteOp => ({
    Update: {
      Key: keys.awsRef(refId),
      UpdateExpression: 'DELETE #holders :a',
      ExpressionAttributeNames: { '#holders': 'holders' },
      ExpressionAttributeValues: { ':a': new Set(holderList(holders)) },
    },
  }),
  /**
   * Moves what Elevate knows of an AWS assignment on, only from the state read (and owner, when one works on it):
   * of two grants racing for it, one wins. A deletion also needs nobody holding it and that it was not there before
   * Elevate (`unheld`).
   */
  moveRef: (
    refId: string,
    from: { state: AwsRefState; owner: string | null; unheld?: boolean },
    to: { state: AwsRefState; owner: string | null; preexisting?: boolean; at: string },
  ): WriteOp => {
    const names: Record<string, string> = { '#state': 'state', '#owner': 'owner', '#at': 'updatedAt' };
    const values: Item = { ':to': to.state, ':at': to.at };
    const sets = ['#state = :to', '#at = :at'];
    const removes: string[] = [];
    if (to.owner === null) removes.push('#owner');
    else {
      sets.push('#owner = :newOwner');
      values[':newOwner'] = to.owner;
    }
    if (to.preexisting !== undefined) {
      names['#pre'] = 'preexisting';
      values[':pre'] = to.preexisting;
      sets.push('#pre = :pre');
    }
    const conditions = [
      from.state === 'absent' ? '(attribute_not_exists(#state) OR #state = :from)' : '#state = :from',
    ];
    values[':from'] = from.state;
    if (from.owner !== null) {
      conditions.push('#owner = :owner');
      values[':owner'] = from.owner;
    }
    if (from.unheld) {
      names['#holders'] = 'holders';
      names['#pre'] = 'preexisting';
      values[':true'] = true;
      conditions.push('attribute_not_exists(#holders)', '(attribute_not_exists(#pre) OR #pre <> :true)');
    }
    return {
      Update: {
        Key: keys.awsRef(refId),
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
      onConflict: () => new RefMoved(`the AWS assignment ${refId} moved on meanwhile`),
    };
  },
  /** An ended assignment's record changes (its provisioning), guarded by the version read; it has no live slot. */
  replaceEndedAssignment: (a: Assignment, expectedVersion: number): WriteOp => ({
    Put: {
      Item: assignmentItem(a),
      ConditionExpression: 'version = :v',
      ExpressionAttributeValues: { ':v': expectedVersion },
    },
    onConflict: () => new RefMoved(`assignment '${a.id}' changed while it was provisioned`),
  }),
  createRequest: (r: RequestRecord): WriteOp => ({
    Put: { Item: requestItem(r), ConditionExpression: NEW },
    onConflict: () => conflict(`request '${r.id}' already exists`),
  }),
  /** A request's next state, guarded by the version read: two deciders can never both win. */
  updateRequest: (r: RequestRecord, expectedVersion: number): WriteOp => ({
    Put: {
      Item: requestItem(r),
      ConditionExpression: 'version = :v',
      ExpressionAttributeValues: { ':v': expectedVersion },
    },
    onConflict: () => new DomainError('AlreadyDecided', `request '${r.id}' changed while this decision was made`),
  }),
  /** No live assignment in the slot (an activation that is already active is refused). */
  slotFree: (slot: Slot): WriteOp => ({
    ConditionCheck: { Key: keys.live(slot), ConditionExpression: NEW },
    onConflict: () =>
      new DomainError('AlreadyActive', `role '${slot.roleId}' is already active at scope '${slot.scope}'`),
  }),
  /** No request for the slot is waiting (for a decision, or for its start). */
  pendingFree: (slot: Slot): WriteOp => ({
    ConditionCheck: { Key: keys.pending(slot), ConditionExpression: NEW },
    onConflict: () =>
      new DomainError(
        'AlreadyActive',
        `an activation of role '${slot.roleId}' at scope '${slot.scope}' is already pending`,
      ),
  }),
  createPending: (slot: Slot, requestId: string): WriteOp => ({
    Put: { Item: E.pending.item({ requestId }, slotKey(slot)), ConditionExpression: NEW },
    onConflict: () =>
      new DomainError(
        'AlreadyActive',
        `an activation of role '${slot.roleId}' at scope '${slot.scope}' is already pending`,
      ),
  }),
  deletePending: (slot: Slot, requestId: string): WriteOp => ({
    Delete: {
      Key: keys.pending(slot),
      ConditionExpression: 'requestId = :r',
      ExpressionAttributeValues: { ':r': requestId },
    },
  }),
  reminder: (assignmentId: string, which: string, at: string): WriteOp => ({
    Put: { Item: E.reminder.item({ at }, { assignmentId, which }), ConditionExpression: NEW },
    onConflict: () => conflict('reminder already sent'),
  }),
  /**
   * An audit event. With `publishes`, the audit event is also those lifecycle events (one change, one audit event:
   * a request created and its activation are both published from it): marked (`PUBLISH_ATTR`, their detail-types),
   * it is published from the stream like outbox items (no outbox item of its own: issue 18), each detail derived
   * from the event (`LIFECYCLE_OF_AUDIT`), which must give exactly that event's detail (else this throws: a bug).
   */
  audit: (e: AuditEvent, publishes: readonly LifecycleEvent[] = []): WriteOp => {
    if (publishes.length === 0) return { Put: { Item: auditItem(e), ConditionExpression: NEW }, audit: e };
    for (const p of publishes) {
      const derived = lifecycleDetailOf(e, p.type);
      if (!derived || canonicalJson(derived) !== canonicalJson(p.detail)) {
        throw new Error(`audit event ${e.action} does not carry the detail of ${p.type}`);
      }
    }
    const types = publishes.map((p) => p.type);
    if (new Set(types).size !== types.length) throw new Error(`audit event ${e.action} publishes a type twice`);
    return {
      Put: { Item: { ...auditItem(e), [PUBLISH_ATTR]: publishMarker(types) }, ConditionExpression: NEW },
      audit: e,
      publishes,
    };
  },
  /** The chain's new head, guarded by the seq read (none: the chain's first event). */
  auditHead: (chain: string, head: { hash: string; seq: number }, expectedSeq: number | null): WriteOp => ({
    Put: { Item: E.auditHead.item({ chain, ...head }), ...headGuard(expectedSeq) },
    onConflict: () => new AuditHeadMoved(`audit chain ${chain} moved`),
  }),
  /** Marks a day as having audit events (idempotent: every chain of the day writes the same item once). */
  auditDay: (day: string): WriteOp => ({
    Put: { Item: E.auditDay.item({ day }) },
  }),
  createExport: (r: AuditExportRecord): WriteOp => ({
    Put: { Item: exportItem(r), ConditionExpression: NEW },
    onConflict: () => conflict(`export '${r.id}' already exists`),
  }),
  updateExport: (r: AuditExportRecord, expectedVersion: number): WriteOp => ({
    Put: {
      Item: exportItem(r),
      ConditionExpression: 'version = :v',
      ExpressionAttributeValues: { ':v': expectedVersion },
    },
    onConflict: () => conflict(`export '${r.id}' changed while it ran`),
  }),
  dailyExportMarker: (day: string, exportId: string): WriteOp => ({
    Put: { Item: E.dailyExport.item({ exportId }, { day }), ConditionExpression: NEW },
    onConflict: () => conflict(`the daily export of ${day} was already made`),
  }),
  /**
   * A run claims an export: Pending (never run), or Running with an expired lease (its run died), becomes Running,
   * owned by `owner` until `leaseUntil`. Two runs of one export can never both hold it.
   */
  claimExport: (id: string, owner: string, now: string, leaseUntil: string): WriteOp => ({
    Update: {
      Key: keys.auditExport(id),
      UpdateExpression: 'SET #status = :running, #owner = :owner, leaseUntil = :until, version = version + :one',
      ConditionExpression: '#status = :pending OR (#status = :running AND leaseUntil < :now)',
      ExpressionAttributeNames: { '#status': 'status', '#owner': 'owner' },
      ExpressionAttributeValues: {
        ':running': 'Running',
        ':pending': 'Pending',
        ':owner': owner,
        ':until': leaseUntil,
        ':now': now,
        ':one': 1,
      },
    },
    onConflict: () => new ExportClaimed(`export '${id}' is held by another run, or is done`),
  }),
  /** The run still holds the export (no other run claimed it since: the version is the one its claim wrote). */
  exportHeld: (id: string, version: number): WriteOp => ({
    ConditionCheck: {
      Key: keys.auditExport(id),
      ConditionExpression: 'version = :v',
      ExpressionAttributeValues: { ':v': version },
    },
    onConflict: () => new ExportClaimed(`export '${id}' was claimed by another run`),
  }),
  /**
   * Locks the manifest chain for one run while it writes its manifest (a manifest is created once and never
   * rewritten, so the previous one it names must not move meanwhile). A lock past `lockUntil` is free again.
   */
  lockExportChain: (owner: string, now: string, lockUntil: string): WriteOp => ({
    Update: {
      Key: keys.exportHead(),
      UpdateExpression: 'SET entity = :entity, lockedBy = :owner, lockUntil = :until',
      ConditionExpression: 'attribute_not_exists(lockedBy) OR lockUntil < :now OR lockedBy = :owner',
      ExpressionAttributeValues: { ':entity': E.exportHead.name, ':owner': owner, ':until': lockUntil, ':now': now },
    },
    onConflict: () => new ExportHeadMoved('the export manifest chain is locked by another run'),
  }),
  releaseExportChain: (owner: string): WriteOp => ({
    Update: {
      Key: keys.exportHead(),
      UpdateExpression: 'REMOVE lockedBy, lockUntil',
      ConditionExpression: 'lockedBy = :owner',
      ExpressionAttributeValues: { ':owner': owner },
    },
    onConflict: () => new ExportHeadMoved('the export manifest chain lock was lost'),
  }),
  /** The manifest chain's new head (which releases the lock), guarded by the seq read and the lock held. */
  exportHead: (
    head: { manifestSha256: string; manifestKey: string; seq: number },
    expectedSeq: number | null,
    owner: string,
  ): WriteOp => ({
    Put: {
      Item: E.exportHead.item(head),
      ConditionExpression: `lockedBy = :owner AND ${expectedSeq === null ? 'attribute_not_exists(seq)' : 'seq = :seq'}`,
      ExpressionAttributeValues: { ':owner': owner, ...(expectedSeq === null ? {} : { ':seq': expectedSeq }) },
    },
    onConflict: () => new ExportHeadMoved('the export manifest chain moved'),
  }),
  /**
   * A call's claim on its Idempotency-Key while it runs: made only where no record is, or the record there has
   * expired (a completed one past its TTL not yet swept, or the lease of a claimant that never finished).
   */
  idempotencyClaim: (
    callerId: string,
    key: string,
    claim: { fingerprint: string; claim: string },
    leaseEnd: Date,
    now: Date,
  ): WriteOp => ({
    Put: {
      Item: {
        ...E.idempotency.item({ ...claim, pending: true }, { callerId, key }),
        [ATTR.ttl]: epochSeconds(leaseEnd),
      },
      ConditionExpression: `${NEW} OR #ttl < :now`,
      ExpressionAttributeNames: { '#ttl': ATTR.ttl },
      ExpressionAttributeValues: { ':now': epochSeconds(now) },
    },
    onConflict: () => new IdempotencyRace(`idempotency key '${key}' is held by a concurrent request`),
  }),
  /** The call's response under its key, in the change's transaction: over its own claim (or where none is). */
  idempotency: (
    callerId: string,
    key: string,
    record: IdempotencyRecord,
    expiresAt: Date,
    claim?: string,
  ): WriteOp => ({
    Put: {
      Item: { ...E.idempotency.item(record, { callerId, key }), [ATTR.ttl]: epochSeconds(expiresAt) },
      ...(claim === undefined
        ? { ConditionExpression: NEW }
        : {
            ConditionExpression: '#claim = :claim',
            ExpressionAttributeNames: { '#claim': 'claim' },
            ExpressionAttributeValues: { ':claim': claim },
          }),
    },
    onConflict: () => new IdempotencyRace(`idempotency key '${key}' was used by a concurrent request`),
  }),
  /** Gives a claim up when its call remembered nothing (a refusal, a failure, a call that writes nothing). */
  releaseIdempotencyClaim: (callerId: string, key: string, claim: string): WriteOp => ({
    Delete: {
      Key: keys.idempotency(callerId, key),
      ConditionExpression: '#claim = :claim AND #pending = :true',
      ExpressionAttributeNames: { '#claim': 'claim', '#pending': 'pending' },
      ExpressionAttributeValues: { ':claim': claim, ':true': true },
    },
    onConflict: () => new IdempotencyRace(`idempotency key '${key}' is no longer claimed by this call`),
  }),
  createGroup: (g: GroupRecord): WriteOp => ({
    Put: {
      Item: E.group.item(g),
      ConditionExpression: NEW,
    },
    onConflict: () => conflict(`group '${g.id}' already exists`),
  }),
  /** An alert's new state, guarded by the version read (the scan and a dismissal can meet). */
  putAlert: (a: AlertRecord, expectedVersion: number | null): WriteOp => ({
    Put: {
      Item: E.alert.item(a),
      ...(expectedVersion === null
        ? { ConditionExpression: NEW }
        : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion } }),
    },
    onConflict: () => conflict(`alert '${a.id}' changed while this request ran; read it again and retry`),
  }),
  /** A cut-short job's progress (its window, its position in the audit stream and what it has counted so far). */
  putJobProgress: (job: string, progress: Record<string, unknown>): WriteOp => ({
    Put: { Item: E.jobProgress.item({ job, progress }) },
  }),
  deleteJobProgress: (job: string): WriteOp => ({ Delete: { Key: keys.jobProgress(job) } }),
  putAlertSettings: (settings: Record<string, unknown>): WriteOp => ({
    Put: { Item: E.alertSettings.item({ settings }) },
  }),
  /** The governance settings, guarded by the version read (none: never stored). */
  putSettings: (r: SettingsRecord, expectedVersion: number | null): WriteOp => ({
    Put: {
      Item: E.settings.item(r),
      ...(expectedVersion === null
        ? { ConditionExpression: NEW }
        : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion } }),
    },
    onConflict: () => conflict('the settings changed while this request ran; read them again and retry'),
  }),
  createChange: (c: ChangeRecord): WriteOp => ({
    Put: { Item: changeItem(c), ConditionExpression: NEW },
    onConflict: () => conflict(`change '${c.id}' already exists`),
  }),
  /** A change's decision, guarded by the version read: of two deciders exactly one wins. */
  updateChange: (c: ChangeRecord, expectedVersion: number): WriteOp => ({
    Put: {
      Item: changeItem(c),
      ConditionExpression: 'version = :v',
      ExpressionAttributeValues: { ':v': expectedVersion },
    },
    onConflict: () => new DomainError('AlreadyDecided', `change '${c.id}' was decided meanwhile`),
  }),
  install: (installedAt: string): WriteOp => ({
    Put: { Item: E.install.item({ installedAt }), ConditionExpression: NEW },
  }),
  /** A lifecycle event, committed with the change it reports (the transactional outbox, see OUTBOX_ENTITY). */
  publish: (event: LifecycleEvent, now: Date): WriteOp => {
    const time = now.toISOString();
    const id = newId('evo', now);
    const record: OutboxRecord = { id, type: event.type, detail: event.detail, time };
    return {
      Put: {
        Item: {
          ...E.outbox.item(record),
          [ATTR.ttl]: Math.floor(now.getTime() / 1000) + OUTBOX_RETENTION_DAYS * 86_400,
        },
        ConditionExpression: NEW,
      },
    };
  },
};

// ---- access reviews -------------------------------------------------------------------------------

/** A review definition as stored: the API shape plus the index of the next occurrence to start. */
export interface ReviewRecord extends Review {
  /** The next occurrence (0, 1, ...) the job starts; null when there is none left. */
  nextIndex: number | null;
  version: number;
}

/** Where the job is with an instance: creating items, open for decisions, filling defaults, applying, done. */
export type InstancePhase = 'populating' | 'open' | 'finalizing' | 'applying' | 'done';

/** An instance as stored: the API shape, the definition's settings it runs with, and the job's progress. */
export interface InstanceRecord extends Instance {
  phase: InstancePhase;
  /** The job's resumable position in the phase's walk ('' at the start of a phase). */
  cursor: string;
  reminded: boolean;
  reviewers: InstanceReviewers;
  scope: Review['scope'];
  defaultDecision: Review['defaultDecision'];
  autoApply: boolean;
  requireJustification: boolean;
  recommendationLookback: string;
  createdAt: string;
}

/** A decision item as stored: which reviewer queue (index) holds it while it is NotReviewed, and its version. */
export interface DecisionRecord extends Decision {
  queue: InstanceReviewers['type'];
  version: number;
}

export const reviewKeys = {
  review: (id: string) => E.review.key({ id }),
  reviewInstance: (reviewId: string, id: string) => E.reviewInstance.key({ reviewId, id }),
  reviewDecision: (instanceId: string, id: string) => E.reviewDecision.key({ instanceId, id }),
};

const reviewItem = (r: ReviewRecord): Item => E.review.item(r);
const instanceItem = (i: InstanceRecord): Item => E.reviewInstance.item(i);
/** The reviewer queue of a decision: by principal (self), by role (approvers) or by instance (principals). */
const decisionItem = (d: DecisionRecord): Item => E.reviewDecision.item(d);

/** Job progress on an instance: each step is guarded by the phase and cursor it read (two runs cannot both move it). */
export interface InstanceStep {
  set?: Partial<Omit<InstanceRecord, 'counts' | 'id' | 'reviewId'>>;
  add?: Partial<Counts>;
}

export const reviewQueries = {
  reviews: (): QueryPart => E.review.query('all', {}, { forward: false }),
  /** Definitions whose next instance starts at or before `now`. */
  reviewsDue: (now: string): QueryPart => E.review.query('due', {}, { between: ['0', `${now}#\uffff`] }),
  instancesOfReview: (reviewId: string): QueryPart =>
    E.reviewInstance.query('primary', { reviewId }, { beginsWith: {}, forward: false }),
  /** Instances the job still has work on (sparse: gone once an instance is done). */
  instancesAtWork: (): QueryPart => E.reviewInstance.query('atWork', {}),
  decisionsOfInstance: (instanceId: string): QueryPart =>
    E.reviewDecision.query('primary', { instanceId }, { beginsWith: {} }),
  /** A reviewer queue of an instance; only the NotReviewed items with `open`. */
  decisionQueue: (instanceId: string, by: PrincipalRef | { roleId: string } | 'all', open: boolean): QueryPart => {
    // All of a queue: no sort-key condition (DynamoDB refuses begins_with an empty string).
    const cond = open ? { beginsWith: { decision: 'NotReviewed' } } : {};
    if (by === 'all') return E.reviewDecision.query('byInstance', { instanceId }, cond);
    if ('principalId' in by) return E.reviewDecision.query('byPrincipal', { instanceId, p: principalPart(by) }, cond);
    return E.reviewDecision.query('byRole', { instanceId, roleId: by.roleId }, cond);
  },
};

const COUNT_NAMES = ['total', 'notReviewed', 'approve', 'deny', 'dontKnow', 'applied', 'failed'] as const;

export const reviewOps = {
  createReview: (r: ReviewRecord): WriteOp => ({
    Put: { Item: reviewItem(r), ConditionExpression: NEW },
    onConflict: () => conflict(`access review '${r.id}' already exists`),
  }),
  /** The definition after an instance started (its next occurrence), guarded by the version read. */
  replaceReview: (r: ReviewRecord, expectedVersion: number): WriteOp => ({
    Put: {
      Item: reviewItem(r),
      ConditionExpression: 'version = :v',
      ExpressionAttributeValues: { ':v': expectedVersion },
    },
    onConflict: () => conflict(`access review '${r.id}' changed meanwhile`),
  }),
  createInstance: (i: InstanceRecord): WriteOp => ({
    Put: { Item: instanceItem(i), ConditionExpression: NEW },
    onConflict: () => conflict(`review instance '${i.id}' already exists`),
  }),
  /**
   * Moves an instance on (the job, stop and apply): sets fields and adds to counts, guarded by the phase and
   * cursor that were read. Leaving the work index when the phase becomes `done`.
   */
  stepInstance: (
    i: Pick<InstanceRecord, 'reviewId' | 'id' | 'phase' | 'cursor'>,
    step: InstanceStep,
    expectStatus?: InstanceStatus,
  ): WriteOp => {
    const names: Record<string, string> = { '#phase': 'phase', '#cursor': 'cursor' };
    const values: Item = { ':phase': i.phase, ':cursor': i.cursor };
    const sets: string[] = [];
    for (const [k, v] of Object.entries(step.set ?? {})) {
      names[`#s_${k}`] = k;
      values[`:s_${k}`] = v;
      sets.push(`#s_${k} = :s_${k}`);
    }
    for (const k of COUNT_NAMES) {
      const n = step.add?.[k];
      if (!n) continue;
      names['#counts'] = 'counts';
      names[`#c_${k}`] = k;
      values[`:c_${k}`] = n;
      sets.push(`#counts.#c_${k} = #counts.#c_${k} + :c_${k}`);
    }
    const done = step.set?.phase === 'done';
    const work = attrsOf(E.reviewInstance.patterns.atWork.index);
    if (step.set?.phase && !done) {
      // Back at work (an apply by hand after the job was done): into the work index again.
      const key = E.reviewInstance.keyIn('atWork', { id: i.id });
      names['#wpk'] = work.pk;
      names['#wsk'] = work.sk;
      values[':wpk'] = key[work.pk];
      values[':wsk'] = key[work.sk];
      sets.push('#wpk = :wpk', '#wsk = :wsk');
    }
    let condition = '#phase = :phase AND #cursor = :cursor';
    if (expectStatus) {
      names['#status'] = 'status';
      values[':status'] = expectStatus;
      condition += ' AND #status = :status';
    }
    return {
      Update: {
        Key: reviewKeys.reviewInstance(i.reviewId, i.id),
        UpdateExpression: `SET ${sets.join(', ')}${done ? ` REMOVE ${work.pk}, ${work.sk}` : ''}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
      onConflict: () => conflict(`review instance '${i.id}' moved on meanwhile`),
    };
  },
  /** A reviewer's decision moves the instance's counts, only while it is InProgress. */
  countDecision: (i: Pick<InstanceRecord, 'reviewId' | 'id'>, decided: 'approve' | 'deny' | 'dontKnow'): WriteOp => ({
    Update: {
      Key: reviewKeys.reviewInstance(i.reviewId, i.id),
      UpdateExpression: 'SET #counts.#nr = #counts.#nr - :one, #counts.#d = #counts.#d + :one',
      ConditionExpression: '#status = :open',
      ExpressionAttributeNames: { '#counts': 'counts', '#nr': 'notReviewed', '#d': decided, '#status': 'status' },
      ExpressionAttributeValues: { ':one': 1, ':open': 'InProgress' },
    },
    onConflict: () => conflict('the review instance is no longer in progress'),
  }),
  /** A new decision item; a retried start finds it there and fails the whole batch (then re-reads). */
  createDecision: (d: DecisionRecord): WriteOp => ({
    Put: { Item: decisionItem(d), ConditionExpression: NEW },
    onConflict: () => conflict(`decision '${d.id}' already exists`),
  }),
  /** A decision's next state, guarded by the version read: of two concurrent deciders exactly one wins. */
  replaceDecision: (d: DecisionRecord, expectedVersion: number): WriteOp => ({
    Put: {
      Item: decisionItem(d),
      ConditionExpression: 'version = :v',
      ExpressionAttributeValues: { ':v': expectedVersion },
    },
    onConflict: () => new DomainError('AlreadyDecided', `decision '${d.id}' was decided meanwhile`),
  }),
};

/** The table key of the item an op writes or checks (`pk|sk`): a transaction may touch each item once. */
export function itemOf(op: WriteOp): string {
  const key =
    'Put' in op ? op.Put.Item : 'Update' in op ? op.Update.Key : 'Delete' in op ? op.Delete.Key : op.ConditionCheck.Key;
  const { pk, sk } = attrsOf(undefined);
  return `${String(key[pk])}|${String(key[sk])}`;
}

/**
 * The writes of several changes as one transaction: each role's `liveCount` updates merged into one (their sum, at
 * the place of the first), the other ops as they are. Two other ops of one item still make an invalid transaction
 * (packBatches keeps such changes apart).
 */
export function mergeLiveCounts(writes: readonly WriteOp[]): WriteOp[] {
  const sums = new Map<string, number>();
  for (const op of writes) {
    if (op.liveCount) sums.set(op.liveCount.roleId, (sums.get(op.liveCount.roleId) ?? 0) + op.liveCount.n);
  }
  const out: WriteOp[] = [];
  for (const op of writes) {
    if (!op.liveCount) out.push(op);
    else if (sums.has(op.liveCount.roleId)) {
      const n = sums.get(op.liveCount.roleId) as number;
      sums.delete(op.liveCount.roleId);
      if (n !== 0) out.push(ops.liveCount(op.liveCount.roleId, n));
    }
  }
  return out;
}
