import type { Caller } from '../auth/caller.ts';
import type { Assignment } from '../domain/assignment.ts';
import type { AuditEvent } from '../domain/audit.ts';
import { AUDIT_SHARDS, chainId, dayOf } from '../domain/audit-chain.ts';
import { conflict, DomainError, notFound } from '../domain/errors.ts';
import type { Change } from '../domain/governance.ts';
import type { RolePolicy } from '../domain/policy.ts';
import type { PrincipalRef, PrincipalType } from '../domain/primitives.ts';
import type { Request } from '../domain/request.ts';
import type { Counts, Decision, Instance, InstanceReviewers, InstanceStatus, Review } from '../domain/review.ts';
import type { Role } from '../domain/role.ts';
import type { Target } from '../domain/targets.ts';
import { newId } from '../ids.ts';
import type { LifecycleEvent } from '../ports/events.ts';
import type { Key, PartBounds } from './pagination.ts';
import { type IndexName, TABLE } from './table.ts';

/**
 * Every key recipe and every condition expression of the table, in one module.
 *
 * | entity      | pk                   | sk                              | gsi1            | gsi2                 | gsi3            |
 * |-------------|----------------------|---------------------------------|-----------------|----------------------|-----------------|
 * | role        | ROLE#<id>            | ROLE                            | ROLES / id      |                      |                 |
 * | policy      | ROLE#<id>            | POLICY                          |                 |                      |                 |
 * | targets     | ROLE#<id>            | TARGETS                         |                 |                      |                 |
 * | org node    | ORG#<root|ou|acct id>| NODE                            | SCOPES / <scope>|                      |                 |
 * | principal   | PRINCIPAL#<p>        | PROFILE                         |                 |                      |                 |
 * | assignment  | ASG#<id>             | ASG                             | ROLEASG#<role>  | ASGSTATUS#<s> / end  | ASGP#<p>        |
 * | live slot   | P#<p>                | LIVE#<role>#<type>#<scope>      |                 |                      |                 |
 * | pending     | P#<p>                | PENDING#<role>#<type>#<scope>   |                 |                      |                 |
 * | reminder    | ASG#<id>             | REMINDER#<1d|1h>                |                 |                      |                 |
 * | last use    | ASG#<eligibility id> | LASTUSE                         |                 |                      |                 |
 * | request     | REQ#<id>             | REQ                             | REQP#<p>        | REQSTATUS#<s>        | REQS            |
 * | audit event | AUDIT#<day>#<shard>  | <time>#<id>                     | AUDITP#<princ.> | AUDITA#<actor>       | AUDITR#<role>   |
 * | audit head  | AUDITHEAD#<day>#<sh.>| HEAD                            |                 |                      |                 |
 * | audit day   | AUDITDAY#<day>       | DAY                             | AUDITDAYS / day |                      |                 |
 * | export      | EXPORT#<id>          | EXPORT                          | EXPORTS / t#id  |                      |                 |
 * | export head | EXPORTHEAD           | HEAD                            |                 |                      |                 |
 * | daily export| EXPORTDAY#<day>      | DAILY                           |                 |                      |                 |
 * | job progress| JOB#<alerts|digest>  | PROGRESS                        |                 |                      |                 |
 * | group       | GROUP#<id>           | GROUP                           | GROUPS / id     |                      |                 |
 * | alert       | ALERT#<type>#<subj.> | ALERT                           | ALERTS / <status>#<detectedAt> |       |                 |
 * | alert settings | META              | ALERTSETTINGS                   |                 |                      |                 |
 * | review      | REVIEW#<id>          | REVIEW                          | REVIEWS / t#id  | REVIEWDUE / next#id  |                 |
 * | rv instance | REVIEW#<review>      | INST#<id>                       |                 |                      | RVWORK / id (*) |
 * | rv decision | RVI#<instance>       | DEC#<id>                        | RVDP#<i>#<p>    | RVDR#<i>#<role>      | RVDI#<i>        |
 * | idempotency | IDEM#<caller>#<key>  | IDEM                            |                 |                      |                 |
 * | install     | META                 | INSTALL                         |                 |                      |                 |
 * | settings    | META                 | SETTINGS                        |                 |                      |                 |
 * | change      | CHANGE#<id>          | CHANGE                          | CHANGES / t#id  | CHANGESTATUS#<s> / expiresAt#id |      |
 * | outbox      | OUTBOX#<yyyy-mm-dd>  | <time>#<id>                     |                 |                      |                 |
 * | aws ref     | AWSREF#<ref id>      | REF                             |                 |                      |                 |
 *
 * Audit events live in the partition of their hash chain (`<yyyy-mm-dd>#<shard>`, picked per transaction by the
 * store), so concurrent writers spread over AUDIT_SHARDS partitions a day; the audit day item (written when a day's
 * chain starts) lists the days that have events, so a newest-first listing skips empty days.
 *
 * `<p>` is a principal: `<principalType>#<principalId>` (`user#alice`, `group#dbas`). Users, groups and service
 * principals have separate id spaces: a user token whose sub is a group's id never reads or writes the group's items.
 *
 * Access reviews: REVIEWDUE holds only definitions with a next instance; RVWORK (*) only instances the job still
 * works on. A decision sits in exactly one reviewer queue (gsi1 by principal for `self`, gsi2 by role for
 * `approvers`, gsi3 by instance for `principals`) with the sort key `<decision>#<id>`, so `NotReviewed#` is the queue.
 *
 * The live slot is the strongly consistent view of a principal's Scheduled and Active assignments
 * (its key makes a duplicate live assignment impossible, and the access check one Query). It is a copy of
 * the assignment, written in the same transaction, and deleted when the assignment ends.
 */
export type Item = Record<string, unknown>;

export const ATTR = {
  pk: TABLE.partitionKey,
  sk: TABLE.sortKey,
  ttl: TABLE.timeToLiveAttribute,
} as const;

const INDEX_ATTRS: Record<IndexName, { pk: string; sk: string }> = Object.fromEntries(
  TABLE.globalSecondaryIndexes.map((g) => [g.indexName, { pk: g.partitionKey, sk: g.sortKey }]),
) as Record<IndexName, { pk: string; sk: string }>;

const KEY_ATTRS = new Set<string>([
  ATTR.pk,
  ATTR.sk,
  ATTR.ttl,
  'entity',
  ...Object.values(INDEX_ATTRS).flatMap((a) => [a.pk, a.sk]),
]);

/** The entity without its key attributes. */
export function strip<T>(item: Item): T {
  const out: Item = {};
  for (const [k, v] of Object.entries(item)) if (!KEY_ATTRS.has(k)) out[k] = v;
  return out as T;
}

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

export const partitionAttr = (index: IndexName | undefined): string => (index ? INDEX_ATTRS[index].pk : ATTR.pk);
export const sortAttr = (index: IndexName | undefined): string => (index ? INDEX_ATTRS[index].sk : ATTR.sk);

const gsi = (index: IndexName, pk: string, sk: string): Item => ({
  [INDEX_ATTRS[index].pk]: pk,
  [INDEX_ATTRS[index].sk]: sk,
});

const END_OF_TIME = '9999-12-31T23:59:59.999Z';

/**
 * The partition-key prefixes of the audit trail: audit events (`AUDIT#`) and chain heads (`AUDITHEAD#`). No
 * function's role may delete or update an item under them (infra/constructs/data.ts denies it in IAM); keep them
 * in step with `keys.auditHead` and `auditItem` (test/infra/least-privilege.test.ts checks both).
 */
export const AUDIT_KEY_PREFIXES = ['AUDIT#', 'AUDITHEAD#'] as const;

/**
 * The transactional outbox: a lifecycle event is an item written in the transaction of the change it reports
 * (`ops.publish`), so it exists exactly when the change committed. The table's stream carries each new outbox
 * item to the publisher (functions/stream/outbox.ts), which puts it on the bus, retrying until EventBridge takes
 * it: every committed change emits its events at least once. The item stays `OUTBOX_RETENTION_DAYS` (TTL) for a
 * replay by day (`queries.outbox`).
 */
export const OUTBOX_ENTITY = 'outbox';
export const OUTBOX_RETENTION_DAYS = 7;

/** An outbox item as stored (what the publisher reads from the stream). */
export interface OutboxRecord {
  id: string;
  type: string;
  detail: Record<string, unknown>;
  time: string;
}

/** A principal in a key: its type, then its id (types hold no `#`, so no two principals share a key). */
const principalPart = (p: PrincipalRef): string => `${p.principalType}#${p.principalId}`;

/** A slot: one principal's live (or pending) assignment of a role, type and scope. */
export type Slot = Pick<Assignment, 'principalType' | 'principalId' | 'roleId' | 'assignmentType' | 'scope'>;

// ---- key recipes ----------------------------------------------------------------------------------

export const keys = {
  role: (id: string) => ({ [ATTR.pk]: `ROLE#${id}`, [ATTR.sk]: 'ROLE' }),
  policy: (roleId: string) => ({ [ATTR.pk]: `ROLE#${roleId}`, [ATTR.sk]: 'POLICY' }),
  /** Where a role's grants are provisioned in AWS (provisioning.md, "Targets"); absent: none. */
  targets: (roleId: string) => ({ [ATTR.pk]: `ROLE#${roleId}`, [ATTR.sk]: 'TARGETS' }),
  /** A root, organizational unit or account of the AWS organization, as the organization-sync job last saw it. */
  orgNode: (id: string) => ({ [ATTR.pk]: `ORG#${id}`, [ATTR.sk]: 'NODE' }),
  principal: (p: PrincipalRef) => ({ [ATTR.pk]: `PRINCIPAL#${principalPart(p)}`, [ATTR.sk]: 'PROFILE' }),
  assignment: (id: string) => ({ [ATTR.pk]: `ASG#${id}`, [ATTR.sk]: 'ASG' }),
  live: (a: Slot) => ({
    [ATTR.pk]: `P#${principalPart(a)}`,
    [ATTR.sk]: `LIVE#${a.roleId}#${a.assignmentType}#${a.scope}`,
  }),
  /** While a request for a slot waits (approval, or a scheduled start), no second one may be made. */
  pending: (a: Slot) => ({
    [ATTR.pk]: `P#${principalPart(a)}`,
    [ATTR.sk]: `PENDING#${a.roleId}#${a.assignmentType}#${a.scope}`,
  }),
  /** Marks a reminder as sent, so each reminder goes out once (`1d`, `1h` before the end). */
  reminder: (assignmentId: string, which: string) => ({
    [ATTR.pk]: `ASG#${assignmentId}`,
    [ATTR.sk]: `REMINDER#${which}`,
  }),
  request: (id: string) => ({ [ATTR.pk]: `REQ#${id}`, [ATTR.sk]: 'REQ' }),
  idempotency: (callerId: string, key: string) => ({ [ATTR.pk]: `IDEM#${callerId}#${key}`, [ATTR.sk]: 'IDEM' }),
  install: () => ({ [ATTR.pk]: 'META', [ATTR.sk]: 'INSTALL' }),
  /** When an eligibility was last activated (written with each activation; stale-eligibility alerts, reviews). */
  lastUse: (eligibilityId: string) => ({ [ATTR.pk]: `ASG#${eligibilityId}`, [ATTR.sk]: 'LASTUSE' }),
  group: (id: string) => ({ [ATTR.pk]: `GROUP#${id}`, [ATTR.sk]: 'GROUP' }),
  /** One alert per type and subject (`<type>#<subject>`), raised and resolved by the alerts scan. */
  alert: (id: string) => ({ [ATTR.pk]: `ALERT#${id}`, [ATTR.sk]: 'ALERT' }),
  alertSettings: () => ({ [ATTR.pk]: 'META', [ATTR.sk]: 'ALERTSETTINGS' }),
  /** The governance settings (GET/PUT /v1/settings). */
  settings: () => ({ [ATTR.pk]: 'META', [ATTR.sk]: 'SETTINGS' }),
  /** A change held for a second administrator (requireSecondAdmin). */
  change: (id: string) => ({ [ATTR.pk]: `CHANGE#${id}`, [ATTR.sk]: 'CHANGE' }),
  /** The head of one audit hash chain (`<yyyy-mm-dd>#<shard>`): `{ hash, seq }` of its last event. */
  auditHead: (chain: string) => ({ [ATTR.pk]: `AUDITHEAD#${chain}`, [ATTR.sk]: 'HEAD' }),
  /** A UTC day that has audit events (written with the first event of each of its chains). */
  auditDay: (day: string) => ({ [ATTR.pk]: `AUDITDAY#${day}`, [ATTR.sk]: 'DAY' }),
  auditExport: (id: string) => ({ [ATTR.pk]: `EXPORT#${id}`, [ATTR.sk]: 'EXPORT' }),
  /** The daily export of one UTC day was started (once per day, whatever the retries of the schedule). */
  dailyExport: (day: string) => ({ [ATTR.pk]: `EXPORTDAY#${day}`, [ATTR.sk]: 'DAILY' }),
  /** The head of the chain of export manifests: the SHA-256 and key of the last manifest written. */
  exportHead: () => ({ [ATTR.pk]: 'EXPORTHEAD', [ATTR.sk]: 'HEAD' }),
  /** Where a run of a scheduled job (`alerts`, `digest`) cut short by its time budget stopped: the next run goes on. */
  jobProgress: (job: string) => ({ [ATTR.pk]: `JOB#${job}`, [ATTR.sk]: 'PROGRESS' }),
  /** A lifecycle event waiting in the outbox, by its UTC day (for a replay) and time. */
  outbox: (time: string, id: string) => ({ [ATTR.pk]: `OUTBOX#${time.slice(0, 10)}`, [ATTR.sk]: `${time}#${id}` }),
  /**
   * One AWS account assignment (user × permission set × account) or membership (user × group) that Elevate
   * provisions (domain/provisioning.ts refIdOf): the grants that hold it, and what Elevate knows of it in AWS.
   */
  awsRef: (refId: string) => ({ [ATTR.pk]: `AWSREF#${refId}`, [ATTR.sk]: 'REF' }),
};

/** Query shapes: a partition (base table or index) and an optional sort-key condition. */
export interface QueryPart {
  index?: IndexName;
  pk: string;
  beginsWith?: string;
  between?: [string, string];
  /** Newest/highest first when false. @default true */
  forward?: boolean;
}

export const queries = {
  roles: (): QueryPart => ({ index: 'gsi1', pk: 'ROLES' }),
  /** The lifecycle events of one UTC day (`yyyy-mm-dd`) in the outbox, oldest first (a replay after an outage). */
  outbox: (day: string): QueryPart => ({ pk: `OUTBOX#${day}` }),
  /** The organization's roots, OUs and accounts, in scope order (GET /v1/scopes, the organization-sync job). */
  scopes: (): QueryPart => ({ index: 'gsi1', pk: 'SCOPES' }),
  /** A principal's live slots, optionally of one role and type: `LIVE#<role>#<type>#`. */
  live: (p: PrincipalRef, roleId?: string, type?: string): QueryPart => ({
    pk: `P#${principalPart(p)}`,
    beginsWith: `LIVE#${roleId ? `${roleId}#${type ? `${type}#` : ''}` : ''}`,
  }),
  /** Live slots of every role whose id starts with a prefix (the built-in elevate-* roles in one query). */
  liveRolePrefix: (p: PrincipalRef, rolePrefix: string): QueryPart => ({
    pk: `P#${principalPart(p)}`,
    beginsWith: `LIVE#${rolePrefix}`,
  }),
  assignmentsOfRole: (roleId: string): QueryPart => ({ index: 'gsi1', pk: `ROLEASG#${roleId}`, forward: false }),
  assignmentsByStatus: (status: string, endBefore?: string): QueryPart => ({
    index: 'gsi2',
    pk: `ASGSTATUS#${status}`,
    ...(endBefore ? { between: ['0', endBefore] as [string, string] } : {}),
  }),
  /** Assignments of a stored status whose end is in [from, to] (recently ended ones: provisioning's reconcile). */
  assignmentsEndedBetween: (status: string, from: string, to: string): QueryPart => ({
    index: 'gsi2',
    pk: `ASGSTATUS#${status}`,
    between: [from, `${to}\uffff`],
  }),
  assignmentsOfPrincipal: (p: PrincipalRef): QueryPart => ({
    index: 'gsi3',
    pk: `ASGP#${principalPart(p)}`,
    forward: false,
  }),
  requestsOfPrincipal: (p: PrincipalRef): QueryPart => ({
    index: 'gsi1',
    pk: `REQP#${principalPart(p)}`,
    forward: false,
  }),
  requestsByStatus: (status: string): QueryPart => ({ index: 'gsi2', pk: `REQSTATUS#${status}`, forward: false }),
  allRequests: (): QueryPart => ({ index: 'gsi3', pk: 'REQS', forward: false }),
  groups: (): QueryPart => ({ index: 'gsi1', pk: 'GROUPS' }),
  alerts: (status?: string): QueryPart => ({
    index: 'gsi1',
    pk: 'ALERTS',
    ...(status ? { beginsWith: `${status}#` } : {}),
  }),
  /** Live active permanent assignments (their end sorts as the end of time). */
  permanentActive: (): QueryPart => ({ index: 'gsi2', pk: 'ASGSTATUS#Active', beginsWith: '9999-' }),
  /** The audit partitions of one UTC day (one per chain shard): each in [lo, hi] of the sort key `<time>#<id>`. */
  auditDay: (day: string, lo: string, hi: string, forward: boolean): QueryPart[] =>
    Array.from({ length: AUDIT_SHARDS }, (_, shard) => ({
      pk: `AUDIT#${chainId(day, shard)}`,
      between: [lo, hi] as [string, string],
      forward,
    })),
  /** The UTC days in [fromDay, toDay] that have audit events, newest first. */
  auditDays: (fromDay: string, toDay: string): QueryPart => ({
    index: 'gsi1',
    pk: 'AUDITDAYS',
    between: [fromDay, toDay],
    forward: false,
  }),
  exports: (): QueryPart => ({ index: 'gsi1', pk: 'EXPORTS', forward: false }),
  /** Pending changes, newest first. */
  changes: (): QueryPart => ({ index: 'gsi1', pk: 'CHANGES', forward: false }),
  /** Changes of one stored status whose expiry is before `before` (the reconcile job's Pending ones). */
  changesExpiringBefore: (status: string, before: string): QueryPart => ({
    index: 'gsi2',
    pk: `CHANGESTATUS#${status}`,
    between: ['0', before],
  }),
  /** Audit events of one principal/actor/role (indexes), newest first in [from, to]. */
  audit: (
    by: { principalId: string } | { actorId: string } | { roleId: string },
    from: string,
    to: string,
  ): QueryPart => {
    const between: [string, string] = [from, `${to}\uffff`];
    if ('principalId' in by) return { index: 'gsi1', pk: `AUDITP#${by.principalId}`, between, forward: false };
    if ('actorId' in by) return { index: 'gsi2', pk: `AUDITA#${by.actorId}`, between, forward: false };
    return { index: 'gsi3', pk: `AUDITR#${by.roleId}`, between, forward: false };
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
}

export interface Principal {
  id: string;
  type: PrincipalType;
  displayName: string | null;
  email: string | null;
  updatedAt: string;
}

export interface TargetsRecord {
  roleId: string;
  targets: Target[];
  version: number;
  updatedAt: string;
}

/** A root, OU or account of the AWS organization (the organization-sync job keeps these). */
export interface OrgNodeRecord {
  scope: string;
  type: 'root' | 'organizationalUnit' | 'account';
  id: string;
  name: string;
  parentScope: string | null;
  /** The ids of the root and OUs above it, from the root down (what `/ous/<id>` coverage reads). */
  ancestors: string[];
  /** An account's state in the organization (ACTIVE, SUSPENDED...); null for roots and OUs. */
  status: string | null;
  /** When the sync job last wrote it (a change). */
  updatedAt: string;
}

/** The principal a profile is of. */
export const principalOf = (p: Pick<Principal, 'type' | 'id'>): PrincipalRef => ({
  principalType: p.type,
  principalId: p.id,
});

export interface GroupRecord {
  id: string;
  displayName: string;
  description: string | null;
  createdAt: string;
}

export interface AlertRecord {
  /** `<type>#<subject>`: one alert per cause. */
  id: string;
  type: string;
  severity: 'low' | 'medium' | 'high';
  status: 'active' | 'dismissed' | 'resolved';
  detectedAt: string;
  updatedAt: string;
  /** At most ALERT_SAMPLE of them (shared/domain/alerts.ts). */
  affected: Record<string, unknown>[];
  /** How many there are in all (absent on alerts written before the sample). */
  affectedCount?: number;
  details: Record<string, unknown>;
  version: number;
}

/** A request as stored: the API shape plus what only the workflow needs. */
export interface RequestRecord extends Request {
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

/** The item under an Idempotency-Key: a response, or a claim of a call still running (pending). */
export type IdempotencyItem =
  | (IdempotencyRecord & { pending?: undefined })
  | { fingerprint: string; claim: string; pending: true };

const epochSeconds = (d: Date) => Math.floor(d.getTime() / 1000);

const changeItem = (c: ChangeRecord): Item => ({
  ...keys.change(c.id),
  ...gsi('gsi1', 'CHANGES', `${c.proposedAt}#${c.id}`),
  ...gsi('gsi2', `CHANGESTATUS#${c.status}`, `${c.expiresAt}#${c.id}`),
  entity: 'change',
  ...c,
});

const roleItem = (r: RoleRecord): Item => ({ ...keys.role(r.id), ...gsi('gsi1', 'ROLES', r.id), entity: 'role', ...r });

const assignmentItem = (a: Assignment): Item => ({
  ...keys.assignment(a.id),
  ...gsi('gsi1', `ROLEASG#${a.roleId}`, `${a.createdAt}#${a.id}`),
  ...gsi('gsi2', `ASGSTATUS#${a.status}`, `${a.endDateTime ?? END_OF_TIME}#${a.id}`),
  ...gsi('gsi3', `ASGP#${principalPart(a)}`, `${a.createdAt}#${a.id}`),
  entity: 'assignment',
  ...a,
});

const liveItem = (a: Assignment): Item => ({ ...keys.live(a), entity: 'live', ...a });

const requestItem = (r: RequestRecord): Item => ({
  ...keys.request(r.id),
  ...gsi('gsi1', `REQP#${principalPart(r)}`, `${r.createdAt}#${r.id}`),
  ...gsi('gsi2', `REQSTATUS#${r.status}`, `${r.createdAt}#${r.id}`),
  ...gsi('gsi3', 'REQS', `${r.createdAt}#${r.id}`),
  entity: 'request',
  ...r,
});

/** An event's partition is its chain's (`<day>#<shard>`); an event not yet linked sits in shard 0 of its day. */
const auditItem = (e: AuditEvent): Item => {
  const sk = `${e.time}#${e.id}`;
  return {
    [ATTR.pk]: `AUDIT#${e.chain ?? chainId(dayOf(e.time), 0)}`,
    [ATTR.sk]: sk,
    ...(e.target.principalId ? gsi('gsi1', `AUDITP#${e.target.principalId}`, sk) : {}),
    ...gsi('gsi2', `AUDITA#${e.actor.id}`, sk),
    ...(e.target.roleId ? gsi('gsi3', `AUDITR#${e.target.roleId}`, sk) : {}),
    entity: 'audit',
    ...e,
  };
};

// ---- writes: each with the condition that guards it and the error a failed condition means --------

/**
 * One element of a TransactWriteItems call (document-client form, TableName added by the store). An op with
 * `audit` puts that audit event: the store links it into a hash chain when it executes the transaction.
 */
export type WriteOp = { audit?: AuditEvent } & (
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
export type AwsRefState = 'absent' | 'creating' | 'present' | 'deleting';

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

export interface AuditExportRecord {
  id: string;
  from: string;
  to: string;
  format: 'jsonl' | 'csv';
  status: 'Pending' | 'Running' | 'Completed' | 'Failed';
  createdAt: string;
  createdBy: string;
  /** The run that holds the export while Running, and until when (past the function timeout). */
  owner: string | null;
  leaseUntil: string | null;
  /** When one run could not export the whole range in its time: the export that continues from `to`. */
  continuedBy: string | null;
  completedAt: string | null;
  recordCount: number | null;
  objectKey: string | null;
  sha256: string | null;
  manifestKey: string | null;
  manifestSha256: string | null;
  previousManifestSha256: string | null;
  error: string | null;
  version: number;
}

const exportItem = (r: AuditExportRecord): Item => ({
  ...keys.auditExport(r.id),
  ...gsi('gsi1', 'EXPORTS', `${r.createdAt}#${r.id}`),
  entity: 'export',
  ...r,
});

/** A head (audit chain or manifest chain) as read, or null when there is none yet. */
const headGuard = (expectedSeq: number | null) =>
  expectedSeq === null
    ? { ConditionExpression: NEW }
    : { ConditionExpression: 'seq = :seq', ExpressionAttributeValues: { ':seq': expectedSeq } };

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
  deletePolicy: (roleId: string): WriteOp => ({ Delete: { Key: keys.policy(roleId) } }),
  createPolicy: (p: PolicyRecord): WriteOp => ({
    Put: { Item: { ...keys.policy(p.roleId), entity: 'policy', ...p }, ConditionExpression: NEW },
    onConflict: () => conflict(`role '${p.roleId}' already has a policy`),
  }),
  replacePolicy: (p: PolicyRecord, expectedVersion: number): WriteOp => ({
    Put: {
      Item: { ...keys.policy(p.roleId), entity: 'policy', ...p },
      ConditionExpression: 'version = :v',
      ExpressionAttributeValues: { ':v': expectedVersion },
    },
    onConflict: () =>
      conflict(`the policy of role '${p.roleId}' changed while this request ran; read it again and retry`),
  }),
  putPrincipal: (p: Principal): WriteOp => ({
    Put: { Item: { ...keys.principal(principalOf(p)), entity: 'principal', ...p } },
  }),
  /** A role's targets, guarded by the version read (none yet: null), on a role that still exists. */
  putTargets: (t: TargetsRecord, expectedVersion: number | null): WriteOp[] => [
    {
      Put: {
        Item: { ...keys.targets(t.roleId), entity: 'targets', ...t },
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
  /** An organization node as the sync job saw it (last writer wins: the job is the only writer). */
  putOrgNode: (n: OrgNodeRecord): WriteOp => ({
    Put: { Item: { ...keys.orgNode(n.id), ...gsi('gsi1', 'SCOPES', n.scope), entity: 'orgNode', ...n } },
  }),
  deleteOrgNode: (id: string): WriteOp => ({ Delete: { Key: keys.orgNode(id) } }),

  /**
   * A new assignment: its record, its live slot (unique per principal/role/type/scope) and the role's count;
   * for an activation, also the time its eligibility was last used.
   */
  createAssignment: (a: Assignment): WriteOp[] => [
    ...(a.origin === 'activated' && a.eligibilityId
      ? [
          {
            Put: {
              Item: {
                ...keys.lastUse(a.eligibilityId),
                entity: 'lastUse',
                eligibilityId: a.eligibilityId,
                assignmentId: a.id,
                at: a.createdAt,
                principalId: a.principalId,
              },
            },
          },
        ]
      : []),
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
  /** A changed live assignment (same slot): both copies, guarded by the version read. */
  replaceAssignment: (a: Assignment, expectedVersion: number): WriteOp[] => {
    const guard = { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion } };
    const onConflict = () => conflict(`assignment '${a.id}' changed while this request ran; read it again and retry`);
    return [
      { Put: { Item: assignmentItem(a), ...guard }, onConflict },
      { Put: { Item: liveItem(a), ...guard }, onConflict },
    ];
  },
  /** An assignment that ended (Expired or Revoked): the record keeps it, the live slot goes. */
  endAssignment: (a: Assignment, expectedVersion: number): WriteOp[] => ops.endAssignments([[a, expectedVersion]]),
  /**
   * Several assignments that end in one transaction (an eligibility and the activations standing on it): each
   * record and live slot guarded by the version read, and one count update per role (a transaction may not
   * touch an item twice).
   */
  endAssignments: (ended: [Assignment, number][]): WriteOp[] => {
    const perRole = new Map<string, number>();
    const writes: WriteOp[] = ended.flatMap(([a, expectedVersion]) => {
      perRole.set(a.roleId, (perRole.get(a.roleId) ?? 0) + 1);
      const guard = { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion } };
      const onConflict = () => conflict(`assignment '${a.id}' changed while this request ran; read it again and retry`);
      return [
        { Put: { Item: assignmentItem(a), ...guard }, onConflict },
        { Delete: { Key: keys.live(a), ...guard }, onConflict },
      ];
    });
    for (const [roleId, n] of perRole) {
      writes.push({
        Update: {
          Key: keys.role(roleId),
          UpdateExpression: 'ADD liveAssignments :minus',
          ExpressionAttributeValues: { ':minus': -n },
        },
      });
    }
    return writes;
  },
  /**
   * An activation's transaction: the eligibility it stands on is still the one read (same version: not removed,
   * shortened or moved meanwhile). With `noNewActivations` in a removal's, a removal and an activation of one
   * eligibility can never both commit on what the other changed.
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
   * A change that ends or shortens an eligibility: no activation of it was made since its activations were read.
   * Every activation rewrites the eligibility's last-use item with its own id (createAssignment), so `lastUse` is
   * that item as read (undefined: none yet) BEFORE the activations were queried.
   */
  noNewActivations: (eligibilityId: string, lastUse: Item | undefined): WriteOp => ({
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
  /** The grant holds the AWS assignment or membership (in the grant's transaction): it may not be removed now. */
  holdRef: (refId: string, assignmentId: string): WriteOp => ({
    Update: {
      Key: keys.awsRef(refId),
      UpdateExpression: 'ADD #holders :a SET #entity = :entity, #refId = :refId',
      ExpressionAttributeNames: { '#holders': 'holders', '#entity': 'entity', '#refId': 'refId' },
      ExpressionAttributeValues: { ':a': new Set([assignmentId]), ':entity': 'awsRef', ':refId': refId },
    },
  }),
  /** The grant no longer needs it (in the transaction that ends the grant). The last holder's step removes it. */
  releaseRef: (refId: string, assignmentId: string): WriteOp => ({
    Update: {
      Key: keys.awsRef(refId),
      UpdateExpression: 'DELETE #holders :a',
      ExpressionAttributeNames: { '#holders': 'holders' },
      ExpressionAttributeValues: { ':a': new Set([assignmentId]) },
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
    Put: { Item: { ...keys.pending(slot), entity: 'pending', requestId }, ConditionExpression: NEW },
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
    Put: { Item: { ...keys.reminder(assignmentId, which), entity: 'reminder', at }, ConditionExpression: NEW },
    onConflict: () => conflict('reminder already sent'),
  }),
  audit: (e: AuditEvent): WriteOp => ({ Put: { Item: auditItem(e), ConditionExpression: NEW }, audit: e }),
  /** The chain's new head, guarded by the seq read (none: the chain's first event). */
  auditHead: (chain: string, head: { hash: string; seq: number }, expectedSeq: number | null): WriteOp => ({
    Put: { Item: { ...keys.auditHead(chain), entity: 'auditHead', chain, ...head }, ...headGuard(expectedSeq) },
    onConflict: () => new AuditHeadMoved(`audit chain ${chain} moved`),
  }),
  /** Marks a day as having audit events (idempotent: every chain of the day writes the same item once). */
  auditDay: (day: string): WriteOp => ({
    Put: { Item: { ...keys.auditDay(day), ...gsi('gsi1', 'AUDITDAYS', day), entity: 'auditDay', day } },
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
    Put: { Item: { ...keys.dailyExport(day), entity: 'dailyExport', exportId }, ConditionExpression: NEW },
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
      ExpressionAttributeValues: { ':entity': 'exportHead', ':owner': owner, ':until': lockUntil, ':now': now },
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
      Item: { ...keys.exportHead(), entity: 'exportHead', ...head },
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
        ...keys.idempotency(callerId, key),
        entity: 'idempotency',
        ...claim,
        pending: true,
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
      Item: {
        ...keys.idempotency(callerId, key),
        entity: 'idempotency',
        ...record,
        [ATTR.ttl]: epochSeconds(expiresAt),
      },
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
      Item: { ...keys.group(g.id), ...gsi('gsi1', 'GROUPS', g.id), entity: 'group', ...g },
      ConditionExpression: NEW,
    },
    onConflict: () => conflict(`group '${g.id}' already exists`),
  }),
  /** An alert's new state, guarded by the version read (the scan and a dismissal can meet). */
  putAlert: (a: AlertRecord, expectedVersion: number | null): WriteOp => ({
    Put: {
      Item: {
        ...keys.alert(a.id),
        ...gsi('gsi1', 'ALERTS', `${a.status}#${a.detectedAt}#${a.id}`),
        entity: 'alert',
        ...a,
      },
      ...(expectedVersion === null
        ? { ConditionExpression: NEW }
        : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion } }),
    },
    onConflict: () => conflict(`alert '${a.id}' changed while this request ran; read it again and retry`),
  }),
  /** A cut-short job's progress (its window, its position in the audit stream and what it has counted so far). */
  putJobProgress: (job: string, progress: Record<string, unknown>): WriteOp => ({
    Put: { Item: { ...keys.jobProgress(job), entity: 'jobProgress', job, progress } },
  }),
  deleteJobProgress: (job: string): WriteOp => ({ Delete: { Key: keys.jobProgress(job) } }),
  putAlertSettings: (settings: Record<string, unknown>): WriteOp => ({
    Put: { Item: { ...keys.alertSettings(), entity: 'alertSettings', settings } },
  }),
  /** The governance settings, guarded by the version read (none: never stored). */
  putSettings: (r: SettingsRecord, expectedVersion: number | null): WriteOp => ({
    Put: {
      Item: { ...keys.settings(), entity: 'settings', ...r },
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
    Put: { Item: { ...keys.install(), entity: 'install', installedAt }, ConditionExpression: NEW },
  }),
  /** A lifecycle event, committed with the change it reports (the transactional outbox, see OUTBOX_ENTITY). */
  publish: (event: LifecycleEvent, now: Date): WriteOp => {
    const time = now.toISOString();
    const id = newId('evo', now);
    const record: OutboxRecord = { id, type: event.type, detail: event.detail, time };
    return {
      Put: {
        Item: {
          ...keys.outbox(time, id),
          entity: OUTBOX_ENTITY,
          ...record,
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
  review: (id: string) => ({ [ATTR.pk]: `REVIEW#${id}`, [ATTR.sk]: 'REVIEW' }),
  reviewInstance: (reviewId: string, id: string) => ({ [ATTR.pk]: `REVIEW#${reviewId}`, [ATTR.sk]: `INST#${id}` }),
  reviewDecision: (instanceId: string, id: string) => ({ [ATTR.pk]: `RVI#${instanceId}`, [ATTR.sk]: `DEC#${id}` }),
};

const reviewItem = (r: ReviewRecord): Item => ({
  ...reviewKeys.review(r.id),
  ...gsi('gsi1', 'REVIEWS', `${r.createdAt}#${r.id}`),
  ...(r.nextStartDateTime ? gsi('gsi2', 'REVIEWDUE', `${r.nextStartDateTime}#${r.id}`) : {}),
  entity: 'review',
  ...r,
});

const instanceItem = (i: InstanceRecord): Item => ({
  ...reviewKeys.reviewInstance(i.reviewId, i.id),
  ...(i.phase === 'done' ? {} : gsi('gsi3', 'RVWORK', i.id)),
  entity: 'reviewInstance',
  ...i,
});

/** The reviewer queue of a decision: by principal (self), by role (approvers) or by instance (principals). */
const decisionItem = (d: DecisionRecord): Item => {
  const sk = `${d.decision}#${d.id}`;
  const queue =
    d.queue === 'self'
      ? gsi('gsi1', `RVDP#${d.instanceId}#${principalPart(d)}`, sk)
      : d.queue === 'approvers'
        ? gsi('gsi2', `RVDR#${d.instanceId}#${d.roleId}`, sk)
        : gsi('gsi3', `RVDI#${d.instanceId}`, sk);
  return { ...reviewKeys.reviewDecision(d.instanceId, d.id), ...queue, entity: 'reviewDecision', ...d };
};

/** Job progress on an instance: each step is guarded by the phase and cursor it read (two runs cannot both move it). */
export interface InstanceStep {
  set?: Partial<Omit<InstanceRecord, 'counts' | 'id' | 'reviewId'>>;
  add?: Partial<Counts>;
}

export const reviewQueries = {
  reviews: (): QueryPart => ({ index: 'gsi1', pk: 'REVIEWS', forward: false }),
  /** Definitions whose next instance starts at or before `now`. */
  reviewsDue: (now: string): QueryPart => ({ index: 'gsi2', pk: 'REVIEWDUE', between: ['0', `${now}#\uffff`] }),
  instancesOfReview: (reviewId: string): QueryPart => ({
    pk: `REVIEW#${reviewId}`,
    beginsWith: 'INST#',
    forward: false,
  }),
  /** Instances the job still has work on (sparse: gone once an instance is done). */
  instancesAtWork: (): QueryPart => ({ index: 'gsi3', pk: 'RVWORK' }),
  decisionsOfInstance: (instanceId: string): QueryPart => ({ pk: `RVI#${instanceId}`, beginsWith: 'DEC#' }),
  /** A reviewer queue of an instance; only the NotReviewed items with `open`. */
  decisionQueue: (instanceId: string, by: PrincipalRef | { roleId: string } | 'all', open: boolean): QueryPart => {
    // All of a queue: no sort-key condition (DynamoDB refuses begins_with an empty string).
    const sk = open ? { beginsWith: 'NotReviewed#' } : {};
    if (by === 'all') return { index: 'gsi3', pk: `RVDI#${instanceId}`, ...sk };
    if ('principalId' in by) return { index: 'gsi1', pk: `RVDP#${instanceId}#${principalPart(by)}`, ...sk };
    return { index: 'gsi2', pk: `RVDR#${instanceId}#${by.roleId}`, ...sk };
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
    if (step.set?.phase && !done) {
      // Back at work (an apply by hand after the job was done): into the work index again.
      names['#wpk'] = INDEX_ATTRS.gsi3.pk;
      names['#wsk'] = INDEX_ATTRS.gsi3.sk;
      values[':wpk'] = 'RVWORK';
      values[':wsk'] = i.id;
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
        UpdateExpression: `SET ${sets.join(', ')}${done ? ` REMOVE ${INDEX_ATTRS.gsi3.pk}, ${INDEX_ATTRS.gsi3.sk}` : ''}`,
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
