import type { Assignment } from '../domain/assignment.ts';
import type { AuditEvent } from '../domain/audit.ts';
import { conflict, DomainError, notFound } from '../domain/errors.ts';
import type { RolePolicy } from '../domain/policy.ts';
import type { PrincipalType } from '../domain/primitives.ts';
import type { Request } from '../domain/request.ts';
import type { Role } from '../domain/role.ts';
import type { Key } from './pagination.ts';
import { type IndexName, TABLE } from './table.ts';

/**
 * Every key recipe and every condition expression of the table, in one module.
 *
 * | entity      | pk                   | sk                              | gsi1            | gsi2                 | gsi3            |
 * |-------------|----------------------|---------------------------------|-----------------|----------------------|-----------------|
 * | role        | ROLE#<id>            | ROLE                            | ROLES / id      |                      |                 |
 * | policy      | ROLE#<id>            | POLICY                          |                 |                      |                 |
 * | principal   | PRINCIPAL#<id>       | PROFILE                         |                 |                      |                 |
 * | assignment  | ASG#<id>             | ASG                             | ROLEASG#<role>  | ASGSTATUS#<s> / end  | ASGP#<principal>|
 * | live slot   | P#<principal>        | LIVE#<role>#<type>#<scope>      |                 |                      |                 |
 * | pending     | P#<principal>        | PENDING#<role>#<type>#<scope>   |                 |                      |                 |
 * | reminder    | ASG#<id>             | REMINDER#<1d|1h>                |                 |                      |                 |
 * | request     | REQ#<id>             | REQ                             | REQP#<principal>| REQSTATUS#<s>        | REQS            |
 * | audit event | AUDIT#<yyyy-mm>      | <time>#<id>                     | AUDITP#<princ.> | AUDITA#<actor>       | AUDITR#<role>   |
 * | idempotency | IDEM#<caller>#<key>  | IDEM                            |                 |                      |                 |
 * | install     | META                 | INSTALL                         |                 |                      |                 |
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

export const partitionAttr = (index: IndexName | undefined): string => (index ? INDEX_ATTRS[index].pk : ATTR.pk);
export const sortAttr = (index: IndexName | undefined): string => (index ? INDEX_ATTRS[index].sk : ATTR.sk);

const gsi = (index: IndexName, pk: string, sk: string): Item => ({
  [INDEX_ATTRS[index].pk]: pk,
  [INDEX_ATTRS[index].sk]: sk,
});

const END_OF_TIME = '9999-12-31T23:59:59.999Z';

// ---- key recipes ----------------------------------------------------------------------------------

export const keys = {
  role: (id: string) => ({ [ATTR.pk]: `ROLE#${id}`, [ATTR.sk]: 'ROLE' }),
  policy: (roleId: string) => ({ [ATTR.pk]: `ROLE#${roleId}`, [ATTR.sk]: 'POLICY' }),
  principal: (id: string) => ({ [ATTR.pk]: `PRINCIPAL#${id}`, [ATTR.sk]: 'PROFILE' }),
  assignment: (id: string) => ({ [ATTR.pk]: `ASG#${id}`, [ATTR.sk]: 'ASG' }),
  live: (a: Pick<Assignment, 'principalId' | 'roleId' | 'assignmentType' | 'scope'>) => ({
    [ATTR.pk]: `P#${a.principalId}`,
    [ATTR.sk]: `LIVE#${a.roleId}#${a.assignmentType}#${a.scope}`,
  }),
  /** While a request for a slot waits (approval, or a scheduled start), no second one may be made. */
  pending: (a: Pick<Assignment, 'principalId' | 'roleId' | 'assignmentType' | 'scope'>) => ({
    [ATTR.pk]: `P#${a.principalId}`,
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
  /** A principal's live slots, optionally of one role and type: `LIVE#<role>#<type>#`. */
  live: (principalId: string, roleId?: string, type?: string): QueryPart => ({
    pk: `P#${principalId}`,
    beginsWith: `LIVE#${roleId ? `${roleId}#${type ? `${type}#` : ''}` : ''}`,
  }),
  /** Live slots of every role whose id starts with a prefix (the built-in elevate-* roles in one query). */
  liveRolePrefix: (principalId: string, rolePrefix: string): QueryPart => ({
    pk: `P#${principalId}`,
    beginsWith: `LIVE#${rolePrefix}`,
  }),
  assignmentsOfRole: (roleId: string): QueryPart => ({ index: 'gsi1', pk: `ROLEASG#${roleId}`, forward: false }),
  assignmentsByStatus: (status: string, endBefore?: string): QueryPart => ({
    index: 'gsi2',
    pk: `ASGSTATUS#${status}`,
    ...(endBefore ? { between: ['0', endBefore] as [string, string] } : {}),
  }),
  assignmentsOfPrincipal: (principalId: string): QueryPart => ({
    index: 'gsi3',
    pk: `ASGP#${principalId}`,
    forward: false,
  }),
  requestsOfPrincipal: (principalId: string): QueryPart => ({
    index: 'gsi1',
    pk: `REQP#${principalId}`,
    forward: false,
  }),
  requestsByStatus: (status: string): QueryPart => ({ index: 'gsi2', pk: `REQSTATUS#${status}`, forward: false }),
  allRequests: (): QueryPart => ({ index: 'gsi3', pk: 'REQS', forward: false }),
  /** Audit events of one month (base table), or of one principal/actor/role (indexes), newest first in [from, to]. */
  audit: (
    by: { month: string } | { principalId: string } | { actorId: string } | { roleId: string },
    from: string,
    to: string,
  ): QueryPart => {
    const between: [string, string] = [from, `${to}\uffff`];
    if ('month' in by) return { pk: `AUDIT#${by.month}`, between, forward: false };
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

/** A request as stored: the API shape plus what only the workflow needs. */
export interface RequestRecord extends Request {
  version: number;
  /** The token of the approval task waiting for the current stage (never shown by the API). */
  taskToken: string | null;
}

export interface IdempotencyRecord {
  fingerprint: string;
  status: number;
  body: unknown;
}

const roleItem = (r: RoleRecord): Item => ({ ...keys.role(r.id), ...gsi('gsi1', 'ROLES', r.id), entity: 'role', ...r });

const assignmentItem = (a: Assignment): Item => ({
  ...keys.assignment(a.id),
  ...gsi('gsi1', `ROLEASG#${a.roleId}`, `${a.createdAt}#${a.id}`),
  ...gsi('gsi2', `ASGSTATUS#${a.status}`, `${a.endDateTime ?? END_OF_TIME}#${a.id}`),
  ...gsi('gsi3', `ASGP#${a.principalId}`, `${a.createdAt}#${a.id}`),
  entity: 'assignment',
  ...a,
});

const liveItem = (a: Assignment): Item => ({ ...keys.live(a), entity: 'live', ...a });

const requestItem = (r: RequestRecord): Item => ({
  ...keys.request(r.id),
  ...gsi('gsi1', `REQP#${r.principalId}`, `${r.createdAt}#${r.id}`),
  ...gsi('gsi2', `REQSTATUS#${r.status}`, `${r.createdAt}#${r.id}`),
  ...gsi('gsi3', 'REQS', `${r.createdAt}#${r.id}`),
  entity: 'request',
  ...r,
});

export const monthOf = (time: string): string => time.slice(0, 7);

const auditItem = (e: AuditEvent): Item => {
  const sk = `${e.time}#${e.id}`;
  return {
    [ATTR.pk]: `AUDIT#${monthOf(e.time)}`,
    [ATTR.sk]: sk,
    ...(e.target.principalId ? gsi('gsi1', `AUDITP#${e.target.principalId}`, sk) : {}),
    ...gsi('gsi2', `AUDITA#${e.actor.id}`, sk),
    ...(e.target.roleId ? gsi('gsi3', `AUDITR#${e.target.roleId}`, sk) : {}),
    entity: 'audit',
    ...e,
  };
};

// ---- writes: each with the condition that guards it and the error a failed condition means --------

/** One element of a TransactWriteItems call (document-client form, TableName added by the store). */
export type WriteOp =
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
    };

const NEW = 'attribute_not_exists(pk)';

/** Marks the idempotency record's conflict, which the store resolves by returning the first response. */
export class IdempotencyRace extends Error {}

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
  putPrincipal: (p: Principal): WriteOp => ({ Put: { Item: { ...keys.principal(p.id), entity: 'principal', ...p } } }),

  /** A new assignment: its record, its live slot (unique per principal/role/type/scope) and the role's count. */
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
  endAssignment: (a: Assignment, expectedVersion: number): WriteOp[] => {
    const guard = { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion } };
    const onConflict = () => conflict(`assignment '${a.id}' changed while this request ran; read it again and retry`);
    return [
      { Put: { Item: assignmentItem(a), ...guard }, onConflict },
      { Delete: { Key: keys.live(a), ...guard }, onConflict },
      {
        Update: {
          Key: keys.role(a.roleId),
          UpdateExpression: 'ADD liveAssignments :minus',
          ExpressionAttributeValues: { ':minus': -1 },
        },
      },
    ];
  },
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
  slotFree: (slot: Pick<Assignment, 'principalId' | 'roleId' | 'assignmentType' | 'scope'>): WriteOp => ({
    ConditionCheck: { Key: keys.live(slot), ConditionExpression: NEW },
    onConflict: () =>
      new DomainError('AlreadyActive', `role '${slot.roleId}' is already active at scope '${slot.scope}'`),
  }),
  /** No request for the slot is waiting (for a decision, or for its start). */
  pendingFree: (slot: Pick<Assignment, 'principalId' | 'roleId' | 'assignmentType' | 'scope'>): WriteOp => ({
    ConditionCheck: { Key: keys.pending(slot), ConditionExpression: NEW },
    onConflict: () =>
      new DomainError(
        'AlreadyActive',
        `an activation of role '${slot.roleId}' at scope '${slot.scope}' is already pending`,
      ),
  }),
  createPending: (
    slot: Pick<Assignment, 'principalId' | 'roleId' | 'assignmentType' | 'scope'>,
    requestId: string,
  ): WriteOp => ({
    Put: { Item: { ...keys.pending(slot), entity: 'pending', requestId }, ConditionExpression: NEW },
    onConflict: () =>
      new DomainError(
        'AlreadyActive',
        `an activation of role '${slot.roleId}' at scope '${slot.scope}' is already pending`,
      ),
  }),
  deletePending: (
    slot: Pick<Assignment, 'principalId' | 'roleId' | 'assignmentType' | 'scope'>,
    requestId: string,
  ): WriteOp => ({
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
  audit: (e: AuditEvent): WriteOp => ({ Put: { Item: auditItem(e), ConditionExpression: NEW } }),
  idempotency: (callerId: string, key: string, record: IdempotencyRecord, expiresAt: Date): WriteOp => ({
    Put: {
      Item: {
        ...keys.idempotency(callerId, key),
        entity: 'idempotency',
        ...record,
        [ATTR.ttl]: Math.floor(expiresAt.getTime() / 1000),
      },
      ConditionExpression: NEW,
    },
    onConflict: () => new IdempotencyRace(`idempotency key '${key}' was used by a concurrent request`),
  }),
  install: (installedAt: string): WriteOp => ({
    Put: { Item: { ...keys.install(), entity: 'install', installedAt }, ConditionExpression: NEW },
  }),
};
