import { describe, expect, it } from 'vitest';
import { keys, ops, queries, reviewKeys, reviewOps, reviewQueries, type WriteOp } from '#shared/store/records.ts';
import * as s from '../support/record-samples.ts';

/**
 * The stored key formats, pinned: every item key and index key of every entity, and every query, exactly as the
 * tables of existing installations hold them. A change here is a data migration (old items would no longer be
 * found), so these strings change only together with one.
 */
const KEY_ATTRS = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk', 'entity'];

/** The key attributes of a written item (or the key of an update, delete or check). */
function keysOf(op: WriteOp): Record<string, unknown> {
  const item =
    'Put' in op ? op.Put.Item : 'Update' in op ? op.Update.Key : 'Delete' in op ? op.Delete.Key : op.ConditionCheck.Key;
  return Object.fromEntries(Object.entries(item).filter(([k]) => KEY_ATTRS.includes(k)));
}
const only = (w: WriteOp | WriteOp[]): WriteOp => (Array.isArray(w) ? (w[0] as WriteOp) : w);

describe('stored key formats', () => {
  it('keeps the item keys of roles, policies, targets, organization nodes and principals', () => {
    expect(keysOf(ops.createRole(s.role))).toEqual({
      pk: 'ROLE#db-admin',
      sk: 'ROLE',
      gsi1pk: 'ROLES',
      gsi1sk: 'db-admin',
      entity: 'role',
    });
    expect(keysOf(ops.createPolicy(s.policy))).toEqual({ pk: 'ROLE#db-admin', sk: 'POLICY', entity: 'policy' });
    expect(keysOf(only(ops.putTargets(s.targets, null)))).toEqual({
      pk: 'ROLE#db-admin',
      sk: 'TARGETS',
      entity: 'targets',
    });
    expect(keysOf(ops.putOrgNode(s.orgNode))).toEqual({
      pk: 'ORG#111122223333',
      sk: 'NODE',
      gsi1pk: 'SCOPES',
      gsi1sk: '/ous/ou-1/accounts/111122223333',
      entity: 'orgNode',
    });
    expect(keysOf(ops.putPrincipal(s.principal))).toEqual({
      pk: 'PRINCIPAL#user#alice',
      sk: 'PROFILE',
      entity: 'principal',
    });
    expect(keysOf(ops.putPrincipal({ ...s.principal, type: 'group', id: 'dbas' }))).toEqual({
      pk: 'PRINCIPAL#group#dbas',
      sk: 'PROFILE',
      entity: 'principal',
    });
    expect(keysOf(ops.putMailSuppression(s.mailSuppression))).toEqual({
      pk: 'MAILSUPPRESS#alice@example.com',
      sk: 'SUPPRESSION',
      entity: 'mailSuppression',
    });
  });

  it('keeps the keys of the session fences of a permission set, indexed only while something is due', () => {
    const arn = s.fences.permissionSetArn;
    expect(keysOf(ops.putFences(s.fences, null))).toEqual({
      pk: `FENCE#${arn}`,
      sk: 'FENCES',
      gsi1pk: 'FENCES',
      gsi1sk: `2026-05-01T11:05:00.000Z#${arn}`,
      entity: 'fences',
    });
    expect(keysOf(ops.putFences({ ...s.fences, fences: [] }, 1))).toEqual({
      pk: `FENCE#${arn}`,
      sk: 'FENCES',
      entity: 'fences',
    });
    expect(keys.fences(arn)).toEqual({ pk: `FENCE#${arn}`, sk: 'FENCES' });
    expect(JSON.stringify(queries.fencesDue(s.T))).toBe(
      JSON.stringify({ index: 'gsi1', pk: 'FENCES', between: ['0', `${s.T}\uffff`] }),
    );
  });

  it('keeps the item keys of an assignment, its live slot and the role counter it moves', () => {
    const [assignment, live, counter] = ops.createAssignment(s.assignment).map(keysOf);
    expect(assignment).toEqual({
      pk: 'ASG#asg-1',
      sk: 'ASG',
      gsi1pk: 'ROLEASG#db-admin',
      gsi1sk: `${s.T}#asg-1`,
      gsi2pk: 'ASGSTATUS#Active',
      gsi2sk: `${s.END}#asg-1`,
      gsi3pk: 'ASGP#user#alice',
      gsi3sk: `${s.T}#asg-1`,
      entity: 'assignment',
    });
    expect(live).toEqual({
      pk: 'P#user#alice',
      sk: 'LIVE#db-admin#active#/accounts/111122223333',
      entity: 'live',
    });
    expect(counter).toEqual({ pk: 'ROLE#db-admin', sk: 'ROLE' });
    // A permanent assignment's end sorts as the end of time.
    const [permanent] = ops.createAssignment(s.permanent).map(keysOf);
    expect(permanent).toMatchObject({ gsi2pk: 'ASGSTATUS#Active', gsi2sk: '9999-12-31T23:59:59.999Z#asg-2' });
  });

  it('keeps the keys of pending markers, reminders and the eligibility checks', () => {
    expect(keysOf(ops.createPending(s.request, 'req-1'))).toEqual({
      pk: 'P#user#alice',
      sk: 'PENDING#db-admin#active#/accounts/111122223333',
      entity: 'pending',
    });
    expect(keysOf(ops.reminder('asg-1', '1h', s.T))).toEqual({
      pk: 'ASG#asg-1',
      sk: 'REMINDER#1h',
      entity: 'reminder',
    });
    expect(keysOf(ops.noNewActivations('asg-0', undefined))).toEqual({ pk: 'ASG#asg-0', sk: 'LASTUSE' });
    // An activation's last use is on its eligibility's live slot (the one update that also checks its version).
    expect(keysOf(ops.activationStands(s.permanent, s.assignment))).toEqual({
      pk: 'P#user#alice',
      sk: 'LIVE#db-admin#eligible#/accounts/111122223333',
    });
    expect(keysOf(ops.eligibilityStands(s.permanent))).toEqual({
      pk: 'P#user#alice',
      sk: 'LIVE#db-admin#eligible#/accounts/111122223333',
    });
  });

  it('keeps the item keys of a request', () => {
    expect(keysOf(ops.createRequest(s.request))).toEqual({
      pk: 'REQ#req-1',
      sk: 'REQ',
      gsi1pk: 'REQP#user#alice',
      gsi1sk: `${s.T}#req-1`,
      gsi2pk: 'REQSTATUS#PendingApproval',
      gsi2sk: `${s.T}#req-1`,
      gsi3pk: 'REQS',
      gsi3sk: `${s.T}#req-1`,
      entity: 'request',
    });
  });

  it('keeps the keys of the audit trail: events, chain heads, days, exports and the manifest chain', () => {
    expect(keysOf(ops.audit(s.auditEvent))).toEqual({
      pk: 'AUDIT#2026-05-01#3',
      sk: `${s.T}#aud-1`,
      gsi1pk: 'AUDITP#alice',
      gsi1sk: `${s.T}#aud-1`,
      gsi2pk: 'AUDITA#bob',
      gsi2sk: `${s.T}#aud-1`,
      gsi3pk: 'AUDITR#db-admin',
      gsi3sk: `${s.T}#aud-1`,
      entity: 'audit',
    });
    // Not linked yet: shard 0 of its day; no principal or role: not in those indexes.
    const unlinked = {
      ...s.auditEvent,
      chain: undefined,
      target: { ...s.auditEvent.target, principalId: null, roleId: null },
    };
    expect(keysOf(ops.audit(unlinked))).toEqual({
      pk: 'AUDIT#2026-05-01#0',
      sk: `${s.T}#aud-1`,
      gsi2pk: 'AUDITA#bob',
      gsi2sk: `${s.T}#aud-1`,
      entity: 'audit',
    });
    expect(keysOf(ops.auditHead('2026-05-01#3', { hash: 'h', seq: 1 }, null))).toEqual({
      pk: 'AUDITHEAD#2026-05-01#3',
      sk: 'HEAD',
      entity: 'auditHead',
    });
    expect(keysOf(ops.auditDay('2026-05-01'))).toEqual({
      pk: 'AUDITDAY#2026-05-01',
      sk: 'DAY',
      gsi1pk: 'AUDITDAYS',
      gsi1sk: '2026-05-01',
      entity: 'auditDay',
    });
    expect(keysOf(ops.createExport(s.auditExport))).toEqual({
      pk: 'EXPORT#exp-1',
      sk: 'EXPORT',
      gsi1pk: 'EXPORTS',
      gsi1sk: `${s.T}#exp-1`,
      entity: 'export',
    });
    expect(keysOf(ops.claimExport('exp-1', 'run', s.T, s.END))).toEqual({ pk: 'EXPORT#exp-1', sk: 'EXPORT' });
    expect(keysOf(ops.dailyExportMarker('2026-05-01', 'exp-1'))).toEqual({
      pk: 'EXPORTDAY#2026-05-01',
      sk: 'DAILY',
      entity: 'dailyExport',
    });
    expect(keysOf(ops.exportHead({ manifestSha256: 'x', manifestKey: 'k', seq: 1 }, null, 'run'))).toEqual({
      pk: 'EXPORTHEAD',
      sk: 'HEAD',
      entity: 'exportHead',
    });
    expect(keysOf(ops.lockExportChain('run', s.T, s.END))).toEqual({ pk: 'EXPORTHEAD', sk: 'HEAD' });
  });

  it('keeps the keys of idempotency records, groups, alerts, settings, changes, jobs, the install and the outbox', () => {
    const claim = ops.idempotencyClaim(
      'alice',
      'k-1',
      { fingerprint: 'f', claim: 'c' },
      new Date(s.END),
      new Date(s.T),
    );
    expect(keysOf(claim)).toEqual({ pk: 'IDEM#alice#k-1', sk: 'IDEM', entity: 'idempotency' });
    expect(keysOf(ops.createGroup(s.group))).toEqual({
      pk: 'GROUP#dbas',
      sk: 'GROUP',
      gsi1pk: 'GROUPS',
      gsi1sk: 'dbas',
      entity: 'group',
    });
    expect(keysOf(ops.putAlert(s.alert, null))).toEqual({
      pk: 'ALERT#staleEligibility#asg-0',
      sk: 'ALERT',
      gsi1pk: 'ALERTS',
      gsi1sk: `active#${s.T}#staleEligibility#asg-0`,
      entity: 'alert',
    });
    expect(keysOf(ops.putAlertSettings({}))).toEqual({ pk: 'META', sk: 'ALERTSETTINGS', entity: 'alertSettings' });
    expect(keysOf(ops.putSettings(s.settings, null))).toEqual({ pk: 'META', sk: 'SETTINGS', entity: 'settings' });
    expect(keysOf(ops.install(s.T))).toEqual({ pk: 'META', sk: 'INSTALL', entity: 'install' });
    expect(keysOf(ops.createChange(s.change))).toEqual({
      pk: 'CHANGE#chg-1',
      sk: 'CHANGE',
      gsi1pk: 'CHANGES',
      gsi1sk: `${s.T}#chg-1`,
      gsi2pk: 'CHANGESTATUS#Pending',
      gsi2sk: `${s.END}#chg-1`,
      entity: 'change',
    });
    expect(keysOf(ops.putJobProgress('digest', {}))).toEqual({
      pk: 'JOB#digest',
      sk: 'PROGRESS',
      entity: 'jobProgress',
    });
    const published = keysOf(ops.publish({ type: 'elevate.request.created', detail: {} }, new Date(s.T)));
    expect(published).toMatchObject({ pk: 'OUTBOX#2026-05-01', entity: 'outbox' });
    expect(String(published.sk)).toMatch(/^2026-05-01T10:00:00\.000Z#evo/);
  });

  it('keeps the keys of access reviews, their instances and decisions in each reviewer queue', () => {
    expect(keysOf(reviewOps.createReview(s.review))).toEqual({
      pk: 'REVIEW#rev-1',
      sk: 'REVIEW',
      gsi1pk: 'REVIEWS',
      gsi1sk: `${s.T}#rev-1`,
      gsi2pk: 'REVIEWDUE',
      gsi2sk: `${s.END}#rev-1`,
      entity: 'review',
    });
    expect(keysOf(reviewOps.createReview({ ...s.review, nextStartDateTime: null }))).toEqual({
      pk: 'REVIEW#rev-1',
      sk: 'REVIEW',
      gsi1pk: 'REVIEWS',
      gsi1sk: `${s.T}#rev-1`,
      entity: 'review',
    });
    expect(keysOf(reviewOps.createInstance(s.instance))).toEqual({
      pk: 'REVIEW#rev-1',
      sk: 'INST#rvi-1',
      gsi3pk: 'RVWORK',
      gsi3sk: 'rvi-1',
      entity: 'reviewInstance',
    });
    expect(keysOf(reviewOps.createInstance({ ...s.instance, phase: 'done' }))).toEqual({
      pk: 'REVIEW#rev-1',
      sk: 'INST#rvi-1',
      entity: 'reviewInstance',
    });
    const back = reviewOps.stepInstance(s.instance, { set: { phase: 'applying' } });
    expect(back).toMatchObject({
      Update: {
        Key: { pk: 'REVIEW#rev-1', sk: 'INST#rvi-1' },
        ExpressionAttributeNames: { '#wpk': 'gsi3pk', '#wsk': 'gsi3sk' },
        ExpressionAttributeValues: { ':wpk': 'RVWORK', ':wsk': 'rvi-1' },
      },
    });
    const done = reviewOps.stepInstance(s.instance, { set: { phase: 'done' } }) as {
      Update: { UpdateExpression: string };
    };
    expect(done.Update.UpdateExpression).toMatch(/ REMOVE gsi3pk, gsi3sk$/);
    expect(keysOf(reviewOps.createDecision(s.decision))).toEqual({
      pk: 'RVI#rvi-1',
      sk: 'DEC#rvd-1',
      gsi1pk: 'RVDP#rvi-1#user#alice',
      gsi1sk: 'NotReviewed#rvd-1',
      entity: 'reviewDecision',
    });
    expect(keysOf(reviewOps.createDecision({ ...s.decision, queue: 'approvers', decision: 'Approve' }))).toEqual({
      pk: 'RVI#rvi-1',
      sk: 'DEC#rvd-1',
      gsi2pk: 'RVDR#rvi-1#db-admin',
      gsi2sk: 'Approve#rvd-1',
      entity: 'reviewDecision',
    });
    expect(keysOf(reviewOps.createDecision({ ...s.decision, queue: 'principals' }))).toEqual({
      pk: 'RVI#rvi-1',
      sk: 'DEC#rvd-1',
      gsi3pk: 'RVDI#rvi-1',
      gsi3sk: 'NotReviewed#rvd-1',
      entity: 'reviewDecision',
    });
  });

  it('keeps the keys read by get', () => {
    const alice = { principalType: 'user', principalId: 'alice' } as const;
    expect({
      role: keys.role('r'),
      policy: keys.policy('r'),
      targets: keys.targets('r'),
      orgNode: keys.orgNode('ou-1'),
      principal: keys.principal(alice),
      assignment: keys.assignment('a'),
      live: keys.live(s.assignment),
      pending: keys.pending(s.assignment),
      reminder: keys.reminder('a', '1d'),
      request: keys.request('q'),
      idempotency: keys.idempotency('alice', 'k'),
      install: keys.install(),
      lastUse: keys.lastUse('e'),
      group: keys.group('g'),
      alert: keys.alert('t#s'),
      alertSettings: keys.alertSettings(),
      settings: keys.settings(),
      change: keys.change('c'),
      auditHead: keys.auditHead('2026-05-01#1'),
      auditDay: keys.auditDay('2026-05-01'),
      auditExport: keys.auditExport('x'),
      dailyExport: keys.dailyExport('2026-05-01'),
      exportHead: keys.exportHead(),
      jobProgress: keys.jobProgress('alerts'),
      outbox: keys.outbox(s.T, 'evo-1'),
      review: reviewKeys.review('v'),
      reviewInstance: reviewKeys.reviewInstance('v', 'i'),
      reviewDecision: reviewKeys.reviewDecision('i', 'd'),
    }).toEqual({
      role: { pk: 'ROLE#r', sk: 'ROLE' },
      policy: { pk: 'ROLE#r', sk: 'POLICY' },
      targets: { pk: 'ROLE#r', sk: 'TARGETS' },
      orgNode: { pk: 'ORG#ou-1', sk: 'NODE' },
      principal: { pk: 'PRINCIPAL#user#alice', sk: 'PROFILE' },
      assignment: { pk: 'ASG#a', sk: 'ASG' },
      live: { pk: 'P#user#alice', sk: 'LIVE#db-admin#active#/accounts/111122223333' },
      pending: { pk: 'P#user#alice', sk: 'PENDING#db-admin#active#/accounts/111122223333' },
      reminder: { pk: 'ASG#a', sk: 'REMINDER#1d' },
      request: { pk: 'REQ#q', sk: 'REQ' },
      idempotency: { pk: 'IDEM#alice#k', sk: 'IDEM' },
      install: { pk: 'META', sk: 'INSTALL' },
      lastUse: { pk: 'ASG#e', sk: 'LASTUSE' },
      group: { pk: 'GROUP#g', sk: 'GROUP' },
      alert: { pk: 'ALERT#t#s', sk: 'ALERT' },
      alertSettings: { pk: 'META', sk: 'ALERTSETTINGS' },
      settings: { pk: 'META', sk: 'SETTINGS' },
      change: { pk: 'CHANGE#c', sk: 'CHANGE' },
      auditHead: { pk: 'AUDITHEAD#2026-05-01#1', sk: 'HEAD' },
      auditDay: { pk: 'AUDITDAY#2026-05-01', sk: 'DAY' },
      auditExport: { pk: 'EXPORT#x', sk: 'EXPORT' },
      dailyExport: { pk: 'EXPORTDAY#2026-05-01', sk: 'DAILY' },
      exportHead: { pk: 'EXPORTHEAD', sk: 'HEAD' },
      jobProgress: { pk: 'JOB#alerts', sk: 'PROGRESS' },
      outbox: { pk: 'OUTBOX#2026-05-01', sk: `${s.T}#evo-1` },
      review: { pk: 'REVIEW#v', sk: 'REVIEW' },
      reviewInstance: { pk: 'REVIEW#v', sk: 'INST#i' },
      reviewDecision: { pk: 'RVI#i', sk: 'DEC#d' },
    });
  });

  it('keeps every query exactly (a list cursor carries a fingerprint of its query, so these stay as they are)', () => {
    const alice = { principalType: 'user', principalId: 'alice' } as const;
    const actual: Record<string, unknown> = {
      roles: queries.roles(),
      outbox: queries.outbox('2026-05-01'),
      scopes: queries.scopes(),
      liveAll: queries.live(alice),
      liveRole: queries.live(alice, 'r'),
      liveRoleType: queries.live(alice, 'r', 'active'),
      liveRolePrefix: queries.liveRolePrefix(alice, 'elevate-'),
      assignmentsOfRole: queries.assignmentsOfRole('r'),
      assignmentsByStatus: queries.assignmentsByStatus('Active'),
      assignmentsByStatusEnding: queries.assignmentsByStatus('Active', s.END),
      assignmentsOfPrincipal: queries.assignmentsOfPrincipal(alice),
      requestsOfPrincipal: queries.requestsOfPrincipal(alice),
      requestsByStatus: queries.requestsByStatus('PendingApproval'),
      allRequests: queries.allRequests(),
      groups: queries.groups(),
      alerts: queries.alerts(),
      activeAlerts: queries.alerts('active'),
      permanentActive: queries.permanentActive(),
      auditDay: queries.auditDay('2026-05-01', s.T, s.END, true),
      auditDays: queries.auditDays('2026-05-01', '2026-05-03'),
      exports: queries.exports(),
      changes: queries.changes(),
      changesExpiringBefore: queries.changesExpiringBefore('Pending', s.END),
      auditOfPrincipal: queries.audit({ principalId: 'alice' }, s.T, s.END),
      auditOfActor: queries.audit({ actorId: 'bob' }, s.T, s.END),
      auditOfRole: queries.audit({ roleId: 'r' }, s.T, s.END),
      reviews: reviewQueries.reviews(),
      reviewsDue: reviewQueries.reviewsDue(s.T),
      instancesOfReview: reviewQueries.instancesOfReview('v'),
      instancesAtWork: reviewQueries.instancesAtWork(),
      decisionsOfInstance: reviewQueries.decisionsOfInstance('i'),
      queueOfPrincipal: reviewQueries.decisionQueue('i', alice, true),
      queueOfRole: reviewQueries.decisionQueue('i', { roleId: 'r' }, false),
      queueOfInstance: reviewQueries.decisionQueue('i', 'all', true),
    };
    const expected: Record<string, unknown> = {
      roles: { index: 'gsi1', pk: 'ROLES' },
      outbox: { pk: 'OUTBOX#2026-05-01' },
      scopes: { index: 'gsi1', pk: 'SCOPES' },
      liveAll: { pk: 'P#user#alice', beginsWith: 'LIVE#' },
      liveRole: { pk: 'P#user#alice', beginsWith: 'LIVE#r#' },
      liveRoleType: { pk: 'P#user#alice', beginsWith: 'LIVE#r#active#' },
      liveRolePrefix: { pk: 'P#user#alice', beginsWith: 'LIVE#elevate-' },
      assignmentsOfRole: { index: 'gsi1', pk: 'ROLEASG#r', forward: false },
      assignmentsByStatus: { index: 'gsi2', pk: 'ASGSTATUS#Active' },
      assignmentsByStatusEnding: { index: 'gsi2', pk: 'ASGSTATUS#Active', between: ['0', s.END] },
      assignmentsOfPrincipal: { index: 'gsi3', pk: 'ASGP#user#alice', forward: false },
      requestsOfPrincipal: { index: 'gsi1', pk: 'REQP#user#alice', forward: false },
      requestsByStatus: { index: 'gsi2', pk: 'REQSTATUS#PendingApproval', forward: false },
      allRequests: { index: 'gsi3', pk: 'REQS', forward: false },
      groups: { index: 'gsi1', pk: 'GROUPS' },
      alerts: { index: 'gsi1', pk: 'ALERTS' },
      activeAlerts: { index: 'gsi1', pk: 'ALERTS', beginsWith: 'active#' },
      permanentActive: { index: 'gsi2', pk: 'ASGSTATUS#Active', beginsWith: '9999-' },
      auditDay: [0, 1, 2, 3, 4, 5, 6, 7].map((shard) => ({
        pk: `AUDIT#2026-05-01#${shard}`,
        between: [s.T, s.END],
        forward: true,
      })),
      auditDays: { index: 'gsi1', pk: 'AUDITDAYS', between: ['2026-05-01', '2026-05-03'], forward: false },
      exports: { index: 'gsi1', pk: 'EXPORTS', forward: false },
      changes: { index: 'gsi1', pk: 'CHANGES', forward: false },
      changesExpiringBefore: { index: 'gsi2', pk: 'CHANGESTATUS#Pending', between: ['0', s.END] },
      auditOfPrincipal: { index: 'gsi1', pk: 'AUDITP#alice', between: [s.T, `${s.END}\uffff`], forward: false },
      auditOfActor: { index: 'gsi2', pk: 'AUDITA#bob', between: [s.T, `${s.END}\uffff`], forward: false },
      auditOfRole: { index: 'gsi3', pk: 'AUDITR#r', between: [s.T, `${s.END}\uffff`], forward: false },
      reviews: { index: 'gsi1', pk: 'REVIEWS', forward: false },
      reviewsDue: { index: 'gsi2', pk: 'REVIEWDUE', between: ['0', `${s.T}#\uffff`] },
      instancesOfReview: { pk: 'REVIEW#v', beginsWith: 'INST#', forward: false },
      instancesAtWork: { index: 'gsi3', pk: 'RVWORK' },
      decisionsOfInstance: { pk: 'RVI#i', beginsWith: 'DEC#' },
      queueOfPrincipal: { index: 'gsi1', pk: 'RVDP#i#user#alice', beginsWith: 'NotReviewed#' },
      queueOfRole: { index: 'gsi2', pk: 'RVDR#i#r' },
      queueOfInstance: { index: 'gsi3', pk: 'RVDI#i', beginsWith: 'NotReviewed#' },
    };
    expect(actual).toStrictEqual(expected);
    // The property order too: a list cursor's fingerprint is a hash of its query's JSON.
    for (const name of Object.keys(expected)) {
      expect(JSON.stringify(actual[name]), name).toBe(JSON.stringify(expected[name]));
    }
  });
});
