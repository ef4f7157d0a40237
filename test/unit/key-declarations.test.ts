import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENTITIES } from '#shared/store/entities.ts';
import {
  attrsOf,
  type EntityInfo,
  type Item,
  type Pattern,
  parseTemplate,
  withKeyTable,
} from '#shared/store/keyspace.ts';
import {
  guardsOf,
  keys,
  ops,
  type QueryPart,
  queries,
  reviewOps,
  reviewQueries,
  stored,
  type WriteOp,
} from '#shared/store/records.ts';
import * as s from '../support/record-samples.ts';

/** Whether a query (partition and sort condition) finds an item, as DynamoDB evaluates it. */
function finds(q: QueryPart, item: Item): boolean {
  const a = attrsOf(q.index);
  const pk = item[a.pk];
  const sk = item[a.sk];
  if (pk !== q.pk || typeof sk !== 'string') return false;
  if (q.beginsWith !== undefined) return sk.startsWith(q.beginsWith);
  if (q.between)
    return (
      Buffer.compare(Buffer.from(sk), Buffer.from(q.between[0])) >= 0 &&
      Buffer.compare(Buffer.from(sk), Buffer.from(q.between[1])) <= 0
    );
  return true;
}

const putItems = (w: WriteOp | WriteOp[]): Item[] =>
  (Array.isArray(w) ? w : [w]).flatMap((op) => ('Put' in op ? [op.Put.Item] : []));

/**
 * One item of every entity, as the write ops make them. The ids are chosen so that entities share partitions
 * where they can (a role, its policy and its targets; an assignment and its reminder; a live slot and a pending
 * marker; a review and its instance): a query that strays into a neighbour's items shows here.
 */
const AWS_REF = 'acct|111122223333|arn:aws:sso:::permissionSet/ssoins-1/ps-1|u-1';
const ITEMS: Item[] = [
  ...putItems(ops.createRole(s.role)),
  ...putItems(ops.createPolicy(s.policy)),
  ...putItems(ops.createScopedPolicy(s.scopedPolicy)),
  ...putItems(ops.putTargets(s.targets, null)),
  ...putItems(ops.putOrgNode(s.orgNode)),
  ...putItems(ops.putFences(s.fences, null)),
  // A permission set whose fences are all gone: kept, out of the index.
  ...putItems(ops.putFences({ ...s.fences, permissionSetArn: `${s.fences.permissionSetArn}x`, fences: [] }, 1)),
  ...putItems(ops.putPrincipal(s.principal)),
  ...putItems(ops.putMailSuppression(s.mailSuppression)),
  ...putItems(ops.createAssignment(s.assignment)),
  ...putItems(ops.createAssignment(s.permanent)),
  // A last-use item as activations wrote it before issue 18 (read, no longer written).
  stored.lastUse.item({ eligibilityId: s.assignment.eligibilityId ?? '', assignmentId: s.assignment.id, at: s.T }),
  ...putItems(ops.createPending(s.assignment, s.request.id)),
  ...putItems(ops.reminder(s.assignment.id, '1h', s.T)),
  ...putItems(ops.createRequest(s.request)),
  ...putItems(ops.audit(s.auditEvent)),
  ...putItems(ops.auditHead('2026-05-01#3', { hash: 'h', seq: 7 }, 6)),
  ...putItems(ops.auditDay('2026-05-01')),
  ...putItems(ops.createExport(s.auditExport)),
  ...putItems(ops.exportHead({ manifestSha256: 'x', manifestKey: 'k', seq: 1 }, null, 'run')),
  ...putItems(ops.dailyExportMarker('2026-05-01', s.auditExport.id)),
  ...putItems(ops.putJobProgress('alerts', {})),
  ...putItems(ops.idempotency('alice', 'k-1', { fingerprint: 'f', status: 200, body: {} }, new Date(s.END))),
  ...putItems(ops.createGroup(s.group)),
  ...putItems(ops.putAlert(s.alert, null)),
  ...putItems(ops.putAlertSettings({})),
  ...putItems(ops.putSettings(s.settings, null)),
  ...putItems(ops.install(s.T)),
  ...putItems(ops.createChange(s.change)),
  ...putItems(ops.publish({ type: 'elevate.request.created', detail: {} }, new Date(s.T))),
  ...putItems(reviewOps.createReview(s.review)),
  ...putItems(reviewOps.createInstance(s.instance)),
  ...putItems(reviewOps.createDecision(s.decision)),
  ...putItems(reviewOps.createDecision({ ...s.decision, id: 'rvd-2', queue: 'approvers' })),
  ...putItems(reviewOps.createDecision({ ...s.decision, id: 'rvd-3', queue: 'principals' })),
  // Written by Updates (ops.holdRef / moveRef), so built here as holdRef makes it.
  { ...keys.awsRef(AWS_REF), entity: 'awsRef', refId: AWS_REF, holders: new Set(['asg-1']) },
];

const alice = { principalType: 'user', principalId: 'alice' } as const;

describe('key declarations', () => {
  it('has a sample item of every declared entity', () => {
    // Prepare
    const declared = ENTITIES.map((e) => e.name).sort();

    // Act
    const sampled = [...new Set(ITEMS.map((i) => String(i.entity)))].sort();

    // Assess
    expect(sampled).toEqual(declared);
  });

  it.each<[string, () => QueryPart | QueryPart[], string, number]>([
    ['roles', () => queries.roles(), 'role', 1],
    ['scopes', () => queries.scopes(), 'orgNode', 1],
    ['fences due', () => queries.fencesDue('2026-05-01T11:05:00.000Z'), 'fences', 1],
    ['fences not yet due', () => queries.fencesDue('2026-05-01T11:04:59.999Z'), 'fences', 0],
    ['outbox', () => queries.outbox('2026-05-01'), 'outbox', 1],
    ['live: all of a principal', () => queries.live(alice), 'live', 2],
    ['live: of a role and type', () => queries.live(alice, 'db-admin', 'active'), 'live', 1],
    ['live: of a role prefix', () => queries.liveRolePrefix(alice, 'db-'), 'live', 2],
    ['assignments of a role', () => queries.assignmentsOfRole('db-admin'), 'assignment', 2],
    ['assignments by status, ending before', () => queries.assignmentsByStatus('Active', `${s.END}z`), 'assignment', 1],
    ['assignments by status', () => queries.assignmentsByStatus('Active'), 'assignment', 2],
    ['permanent active assignments', () => queries.permanentActive(), 'assignment', 1],
    ['assignments of a principal', () => queries.assignmentsOfPrincipal(alice), 'assignment', 2],
    ['requests of a principal', () => queries.requestsOfPrincipal(alice), 'request', 1],
    ['requests by status', () => queries.requestsByStatus('PendingApproval'), 'request', 1],
    ['all requests', () => queries.allRequests(), 'request', 1],
    ['groups', () => queries.groups(), 'group', 1],
    ['alerts', () => queries.alerts(), 'alert', 1],
    ['active alerts', () => queries.alerts('active'), 'alert', 1],
    ['audit of a day', () => queries.auditDay('2026-05-01', s.T, `${s.T}\uffff`, true), 'audit', 1],
    ['audit days', () => queries.auditDays('2026-05-01', '2026-05-01'), 'auditDay', 1],
    ['audit of a principal', () => queries.audit({ principalId: 'alice' }, s.T, s.T), 'audit', 1],
    ['audit of an actor', () => queries.audit({ actorId: 'bob' }, s.T, s.T), 'audit', 1],
    ['audit of a role', () => queries.audit({ roleId: 'db-admin' }, s.T, s.T), 'audit', 1],
    ['exports', () => queries.exports(), 'export', 1],
    ['changes', () => queries.changes(), 'change', 1],
    ['changes expiring', () => queries.changesExpiringBefore('Pending', `${s.END}z`), 'change', 1],
    ['reviews', () => reviewQueries.reviews(), 'review', 1],
    ['reviews due', () => reviewQueries.reviewsDue(s.END), 'review', 1],
    ['instances of a review', () => reviewQueries.instancesOfReview('rev-1'), 'reviewInstance', 1],
    ['instances at work', () => reviewQueries.instancesAtWork(), 'reviewInstance', 1],
    ['decisions of an instance', () => reviewQueries.decisionsOfInstance('rvi-1'), 'reviewDecision', 3],
    ['queue of a principal', () => reviewQueries.decisionQueue('rvi-1', alice, true), 'reviewDecision', 1],
    ['queue of a role', () => reviewQueries.decisionQueue('rvi-1', { roleId: 'db-admin' }, false), 'reviewDecision', 1],
    ['queue of the instance', () => reviewQueries.decisionQueue('rvi-1', 'all', true), 'reviewDecision', 1],
  ])('query %s finds the items written for it and nothing else', (_name, query, entity, count) => {
    // Prepare
    const parts = [query()].flat();

    // Act
    const found = ITEMS.filter((item) => parts.some((q) => finds(q, item)));

    // Assess
    expect(found.map((i) => i.entity)).toEqual(Array(count).fill(entity));
  });

  it("lists a role's policies, the base one first, and nothing else of the role", () => {
    // Prepare
    const q = queries.policies('db-admin');

    // Act
    const found = ITEMS.filter((item) => finds(q, item));

    // Assess
    expect(found.map((i) => i.entity)).toEqual(['policy', 'scopedPolicy']);
  });

  it('finds every item written by a get of its own key', () => {
    // Prepare
    const gets: [Item, string][] = [
      [keys.role('db-admin'), 'role'],
      [keys.policy('db-admin'), 'policy'],
      [keys.scopedPolicy('db-admin', s.scopedPolicy.scope), 'scopedPolicy'],
      [keys.targets('db-admin'), 'targets'],
      [keys.orgNode(s.orgNode.id), 'orgNode'],
      [keys.fences(s.fences.permissionSetArn), 'fences'],
      [keys.principal(alice), 'principal'],
      [keys.assignment('asg-1'), 'assignment'],
      [keys.live(s.assignment), 'live'],
      [keys.pending(s.assignment), 'pending'],
      [keys.reminder('asg-1', '1h'), 'reminder'],
      [keys.lastUse('asg-0'), 'lastUse'],
      [keys.request('req-1'), 'request'],
      [keys.auditHead('2026-05-01#3'), 'auditHead'],
      [keys.auditDay('2026-05-01'), 'auditDay'],
      [keys.auditExport('exp-1'), 'export'],
      [keys.exportHead(), 'exportHead'],
      [keys.dailyExport('2026-05-01'), 'dailyExport'],
      [keys.jobProgress('alerts'), 'jobProgress'],
      [keys.idempotency('alice', 'k-1'), 'idempotency'],
      [keys.group('dbas'), 'group'],
      [keys.alert(s.alert.id), 'alert'],
      [keys.alertSettings(), 'alertSettings'],
      [keys.settings(), 'settings'],
      [keys.install(), 'install'],
      [keys.change('chg-1'), 'change'],
      [keys.awsRef(AWS_REF), 'awsRef'],
    ];

    // Act
    const found = gets.map(([key]) => ITEMS.filter((i) => i.pk === key.pk && i.sk === key.sk).map((i) => i.entity));

    // Assess
    expect(found).toEqual(gets.map(([, entity]) => [entity]));
  });

  /** Every (entity, pattern) on one index: the base table is `table`. */
  const declared = ENTITIES.flatMap((e: EntityInfo) =>
    Object.entries(e.patterns).map(([name, p]: [string, Pattern<never>]) => ({ entity: e.name, name, p })),
  );

  it.each(declared.map((d) => [`${d.entity}.${d.name}`, d] as const))(
    'pattern %s: the key written for an item is found by its own query recipe, at every depth of its sort key',
    (_name, { entity, name, p }) => {
      // Prepare
      const a = attrsOf(p.index);
      const items = ITEMS.filter((i) => i.entity === entity && i[a.pk] !== undefined);
      expect(items.length, 'a sample item is in this pattern').toBeGreaterThan(0);
      const e = stored[entityKey(entity)] as unknown as {
        query: (name: string, partition: Record<string, string | undefined>, cond?: object) => QueryPart;
      };
      const sk = parseTemplate(p.sk);

      for (const item of items) {
        // Act: the query recipe of this pattern, given the values the item's keys were built from.
        const values = fieldValues(p, item, a);
        const partition = Object.fromEntries(parseTemplate(p.pk).fields.map((f) => [f, values[f]]));
        const depths = sk.fields.map((_, n) =>
          Object.fromEntries(sk.fields.slice(0, n + 1).map((f) => [f, values[f]])),
        );
        const asked = [
          e.query(name, partition),
          e.query(name, partition, { beginsWith: {} }),
          ...depths.map((d) => e.query(name, partition, { beginsWith: d })),
        ];

        // Assess
        for (const q of asked) expect(finds(q, item), JSON.stringify(q)).toBe(true);
      }
    },
  );

  it('no two patterns of different entities on one index can hold the same key', () => {
    // Prepare
    const clashes: string[] = [];

    // Act
    for (const [i, x] of declared.entries()) {
      for (const y of declared.slice(i + 1)) {
        if (x.entity === y.entity || x.p.index !== y.p.index) continue;
        if (mayOverlap(x.p.pk, y.p.pk) && mayOverlap(x.p.sk, y.p.sk)) {
          clashes.push(`${x.entity}.${x.name} ${x.p.pk}/${x.p.sk} ~ ${y.entity}.${y.name} ${y.p.pk}/${y.p.sk}`);
        }
      }
    }

    // Assess
    expect(clashes).toEqual([]);
  });

  it('sees a clash where two templates can produce one key', () => {
    expect(mayOverlap('ROLE#{id}', 'ROLE#{roleId}')).toBe(true);
    expect(mayOverlap('ROLE', 'ROLE')).toBe(true);
    expect(mayOverlap('REQSTATUS#x', 'REQS{x}')).toBe(true);
    expect(mayOverlap('AUDIT#{chain}', 'AUDITHEAD#{chain}')).toBe(false);
    expect(mayOverlap('REQS', 'REQSTATUS#{status}')).toBe(false);
    expect(mayOverlap('ROLE', 'POLICY')).toBe(false);
  });

  it('reads back each record it wrote, typed, and refuses an item of another entity', () => {
    // Prepare
    const [assignmentItem, liveItem] = putItems(ops.createAssignment(s.assignment));

    // Act
    const read = stored.assignment.fromItem(assignmentItem as Item);

    // Assess
    expect(read).toEqual(s.assignment);
    expect(stored.live.fromItem(liveItem as Item)).toEqual(s.assignment);
    // What an eligibility's slot carries beside the assignment (its last use) is no part of it.
    const guarded = { ...liveItem, lastUse: { assignmentId: 'asg-9', at: s.T } };
    expect(stored.live.fromItem(guarded)).toEqual(s.assignment);
    expect(guardsOf(guarded)).toEqual({ lastUse: { assignmentId: 'asg-9', at: s.T } });
    expect(guardsOf(liveItem as Item)).toEqual({ lastUse: null });
    expect(stored.request.fromItem(putItems(ops.createRequest(s.request))[0] as Item)).toEqual(s.request);
    expect(() => stored.assignment.fromItem(liveItem as Item)).toThrow(/is 'live', not 'assignment'/);
    // Passed as a callback, it is still bound to its entity.
    expect([assignmentItem as Item].map(stored.assignment.fromItem)).toEqual([s.assignment]);
    expect(() => stored.role.fromItem({ ...(putItems(ops.createRole(s.role))[0] as Item), version: '3' })).toThrow(
      /'version' is not number/,
    );
  });

  it('refuses to build a key with a missing value rather than an empty query', () => {
    expect(() => keys.role(undefined as unknown as string)).toThrow(/field 'id' is missing/);
  });

  it('keeps the key table of docs/data-model.md as the declarations generate it (npm run keys:doc)', () => {
    // Prepare
    const doc = readFileSync(new URL('../../docs/data-model.md', import.meta.url), 'utf8');

    // Act
    const current = withKeyTable(doc, ENTITIES);

    // Assess
    expect(doc).toBe(current);
  });
});

/** Whether two key templates can produce the same string (from their literal starts; values hold no `{`). */
function mayOverlap(x: string, y: string): boolean {
  const a = parseTemplate(x);
  const b = parseTemplate(y);
  const la = a.text[0] as string;
  const lb = b.text[0] as string;
  const fixedA = a.fields.length === 0;
  const fixedB = b.fields.length === 0;
  if (fixedA && fixedB) return la === lb;
  if (fixedA) return la.startsWith(lb);
  if (fixedB) return lb.startsWith(la);
  return la.startsWith(lb) || lb.startsWith(la);
}

/** The entities by their `entity` attribute. */
function entityKey(name: string): keyof typeof stored {
  const found = Object.entries(stored).find(
    ([, v]) => typeof v === 'object' && v !== null && 'name' in v && v.name === name,
  );
  if (!found) throw new Error(`no entity '${name}'`);
  return found[0] as keyof typeof stored;
}

/** The field values an item's keys of one pattern were built from, read back from the keys themselves. */
function fieldValues(p: Pattern<never>, item: Item, a: { pk: string; sk: string }): Record<string, string> {
  return { ...unfill(p.pk, String(item[a.pk])), ...unfill(p.sk, String(item[a.sk])) };
}

/** The values of a template's fields in a key built from it (fields are split at the template's literal text). */
function unfill(template: string, key: string): Record<string, string> {
  const t = parseTemplate(template);
  const out: Record<string, string> = {};
  expect(key.startsWith(t.text[0] as string), `${key} starts as ${template}`).toBe(true);
  let rest = key.slice((t.text[0] as string).length);
  t.fields.forEach((f, i) => {
    const next = t.text[i + 1] as string;
    const last = i === t.fields.length - 1;
    // The last field takes what is left before the trailing text; an inner one runs to the next literal text.
    const end = last ? rest.length - next.length : next === '' ? rest.length : rest.indexOf(next);
    out[f] = rest.slice(0, end);
    rest = rest.slice(end + next.length);
  });
  return out;
}
