import { describe, expect, it } from 'vitest';
import type { Caller } from '#shared/auth/caller.ts';
import {
  approversOf,
  checkReviewDecision,
  decisionIdOf,
  defaultOutcome,
  duePlan,
  halfway,
  holdsAccessOf,
  type InstanceReviewers,
  occurrenceStart,
  ReviewInput,
  recommend,
  reviewedRoles,
  reviewerVerdict,
  reviewProblems,
} from '#shared/domain/review.ts';

const caller = (id: string, groups: string[] = []): Caller => ({
  id,
  email: null,
  name: null,
  groups,
  mfa: true,
  acrs: [],
  authTime: null,
});

const input = (over: Record<string, unknown> = {}) =>
  ReviewInput.parse({
    displayName: 'Quarterly db-admin review',
    scope: { roleIds: ['db-admin'] },
    reviewers: { type: 'self' },
    recurrence: { type: 'quarterly', startDateTime: '2026-01-01T00:00:00Z' },
    ...over,
  });

describe('review definitions', () => {
  it('fills the defaults and rejects unknown fields', () => {
    // Prepare / Act
    const parsed = input();
    // Assess
    expect(parsed).toMatchObject({
      scope: { roleIds: ['db-admin'], assignmentTypes: ['eligible', 'active'] },
      duration: 'P14D',
      defaultDecision: 'none',
      autoApply: false,
      requireJustification: true,
      recommendationLookback: 'P30D',
    });
    expect(reviewProblems(parsed)).toEqual([]);
    expect(ReviewInput.safeParse({ ...parsed, owner: 'x' }).success).toBe(false);
    expect(ReviewInput.safeParse({ ...parsed, reviewers: { type: 'self', extra: 1 } }).success).toBe(false);
  });

  it('names each field that breaks a rule', () => {
    // Act
    const problems = reviewProblems(
      input({
        reviewers: { type: 'principals' },
        duration: 'P1M',
        recommendationLookback: 'P1Y',
      }),
    );
    // Assess
    expect(problems.map((p) => p.path).sort()).toEqual(['duration', 'recommendationLookback', 'reviewers.principals']);
  });

  it('refuses a role or an assignment type named twice in the schema itself', () => {
    const roles = ReviewInput.safeParse({ ...input(), scope: { roleIds: ['a1', 'a1'] } });
    const types = ReviewInput.safeParse({
      ...input(),
      scope: { roleIds: ['a1'], assignmentTypes: ['active', 'active'] },
    });
    expect(roles.error?.issues.map((i) => i.path.join('.'))).toEqual(['scope.roleIds']);
    expect(types.error?.issues.map((i) => i.path.join('.'))).toEqual(['scope.assignmentTypes']);
  });

  it('refuses an instance that would outlast its period', () => {
    expect(reviewProblems(input({ recurrence: { type: 'weekly' }, duration: 'P8D' }))[0]?.path).toBe('duration');
    expect(reviewProblems(input({ recurrence: { type: 'weekly' }, duration: 'P7D' }))).toEqual([]);
    expect(reviewProblems(input({ recurrence: { type: 'monthly' }, duration: 'P29D' }))[0]?.path).toBe('duration');
  });
});

describe('recurrence', () => {
  const rec = (
    type: 'once' | 'weekly' | 'monthly' | 'quarterly' | 'semiAnnually' | 'annually',
    start = '2026-01-31T09:00:00Z',
  ) => ({
    type,
    startDateTime: start,
  });

  it('steps each occurrence from the anchor in calendar units, without drifting', () => {
    expect(occurrenceStart(rec('weekly'), 2).toISOString()).toBe('2026-02-14T09:00:00.000Z');
    expect(occurrenceStart(rec('monthly'), 1).toISOString()).toBe('2026-02-28T09:00:00.000Z');
    expect(occurrenceStart(rec('monthly'), 2).toISOString()).toBe('2026-03-31T09:00:00.000Z');
    expect(occurrenceStart(rec('quarterly'), 1).toISOString()).toBe('2026-04-30T09:00:00.000Z');
    expect(occurrenceStart(rec('semiAnnually'), 1).toISOString()).toBe('2026-07-31T09:00:00.000Z');
    expect(occurrenceStart(rec('annually'), 3).toISOString()).toBe('2029-01-31T09:00:00.000Z');
  });

  it('starts nothing before the first start', () => {
    const plan = duePlan(rec('once'), 'P14D', 0, new Date('2026-01-30T00:00:00Z'));
    expect(plan).toEqual({ start: null, nextIndex: 0, nextStartDateTime: '2026-01-31T09:00:00.000Z' });
  });

  it('starts a once review once, then has nothing left', () => {
    const plan = duePlan(rec('once'), 'P14D', 0, new Date('2026-02-01T00:00:00Z'));
    expect(plan).toEqual({
      start: { index: 0, startDateTime: '2026-01-31T09:00:00.000Z', endDateTime: '2026-02-14T09:00:00.000Z' },
      nextIndex: null,
      nextStartDateTime: null,
    });
  });

  it('starts the current occurrence of a recurring review and waits for the next', () => {
    const plan = duePlan(rec('monthly'), 'P14D', 0, new Date('2026-01-31T10:00:00Z'));
    expect(plan.start?.index).toBe(0);
    expect(plan.nextIndex).toBe(1);
    expect(plan.nextStartDateTime).toBe('2026-02-28T09:00:00.000Z');
  });

  it('skips occurrences missed entirely (the job was down) and starts the current one', () => {
    // Prepare: weekly, 3 days each; now is in the 4th week's instance
    const now = new Date('2026-02-22T00:00:00Z');
    // Act
    const plan = duePlan(rec('weekly'), 'P3D', 0, now);
    // Assess
    expect(plan.start?.index).toBe(3);
    expect(plan.start?.startDateTime).toBe('2026-02-21T09:00:00.000Z');
    expect(plan.nextIndex).toBe(4);
  });

  it('starts nothing when the due occurrence is already over, and moves on', () => {
    const plan = duePlan(rec('weekly'), 'P1D', 0, new Date('2026-02-03T00:00:00Z'));
    expect(plan.start).toBeNull();
    expect(plan.nextIndex).toBe(1);
    expect(plan.nextStartDateTime).toBe('2026-02-07T09:00:00.000Z');
  });

  it('reminds halfway', () => {
    expect(halfway({ startDateTime: '2026-01-01T00:00:00Z', endDateTime: '2026-01-15T00:00:00Z' }).toISOString()).toBe(
      '2026-01-08T00:00:00.000Z',
    );
  });
});

describe('recommendations', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const base = { lookback: 'P30D', now, createdAt: '2026-01-01T00:00:00Z' };

  it('recommends Deny for an eligibility not activated within the look-back, with the reason', () => {
    expect(recommend({ ...base, assignmentType: 'eligible', lastActivatedAt: null })).toEqual({
      recommendation: 'Deny',
      reason: 'not activated within the last P30D (never activated)',
    });
    expect(recommend({ ...base, assignmentType: 'eligible', lastActivatedAt: '2026-04-01T00:00:00Z' })).toEqual({
      recommendation: 'Deny',
      reason: 'not activated within the last P30D (last at 2026-04-01T00:00:00Z)',
    });
  });

  it('recommends Approve for an eligibility activated within the look-back', () => {
    expect(recommend({ ...base, assignmentType: 'eligible', lastActivatedAt: '2026-05-25T00:00:00Z' })).toEqual({
      recommendation: 'Approve',
      reason: 'activated within the last P30D (last at 2026-05-25T00:00:00Z)',
    });
  });

  it('does not judge an eligibility younger than the look-back', () => {
    const r = recommend({
      ...base,
      assignmentType: 'eligible',
      lastActivatedAt: null,
      createdAt: '2026-05-20T00:00:00Z',
    });
    expect(r.recommendation).toBe('Approve');
    expect(r.reason).toMatch(/too new/);
  });

  it('recommends Approve for an active assignment, saying there is no usage data', () => {
    const r = recommend({ ...base, assignmentType: 'active', lastActivatedAt: null });
    expect(r).toEqual({ recommendation: 'Approve', reason: expect.stringMatching(/^no usage data/) });
  });
});

describe('default decisions', () => {
  it('fills NotReviewed items as the definition says', () => {
    expect(defaultOutcome('none', 'Deny')).toBeNull();
    expect(defaultOutcome('approve', 'Deny')).toBe('Approve');
    expect(defaultOutcome('deny', 'Approve')).toBe('Deny');
    expect(defaultOutcome('recommendation', 'Deny')).toBe('Deny');
    expect(defaultOutcome('recommendation', 'Approve')).toBe('Approve');
  });
});

describe('reviewers', () => {
  const item = { principalId: 'alice', principalType: 'user' as const, roleId: 'db-admin' };
  const byRef =
    (c: Caller, admin = false) =>
    (refs: readonly { type: string; id: string }[]) =>
      refs.some((r) =>
        r.type === 'user' ? r.id === c.id : r.type === 'group' ? c.groups.includes(r.id) : r.type === 'role' && admin,
      );

  const none = new Set<string>();

  it('lets only a user decide its own item in a self review, and nobody a group’s item', () => {
    const self: InstanceReviewers = { type: 'self' };
    expect(reviewerVerdict(self, item, caller('alice'), byRef(caller('alice')), none)).toBe('allowed');
    expect(reviewerVerdict(self, item, caller('bob'), byRef(caller('bob')), none)).toBe('notReviewer');
    const groupItem = { ...item, principalId: 'ops', principalType: 'group' as const };
    // A member (identity-provider group or Elevate membership) would decide the access of all members.
    const carol = caller('carol', ['ops']);
    expect(reviewerVerdict(self, groupItem, carol, byRef(carol), none)).toBe('notReviewer');
    expect(reviewerVerdict(self, groupItem, caller('dan'), byRef(caller('dan')), new Set(['ops']))).toBe('notReviewer');
    // A user token whose sub is the group's id is not the group.
    expect(reviewerVerdict(self, groupItem, caller('ops'), byRef(caller('ops')), none)).toBe('notReviewer');
  });

  it('lets named reviewers decide, by user or group, but never on their own access', () => {
    const named: InstanceReviewers = {
      type: 'principals',
      principals: [
        { type: 'user', id: 'bob' },
        { type: 'group', id: 'auditors' },
      ],
    };
    const dave = caller('dave', ['auditors']);
    expect(reviewerVerdict(named, item, caller('bob'), byRef(caller('bob')), none)).toBe('allowed');
    expect(reviewerVerdict(named, item, dave, byRef(dave), none)).toBe('allowed');
    expect(reviewerVerdict(named, item, caller('eve'), byRef(caller('eve')), none)).toBe('notReviewer');
    expect(reviewerVerdict(named, { ...item, principalId: 'bob' }, caller('bob'), byRef(caller('bob')), none)).toBe(
      'self',
    );
    expect(reviewedRoles(named, byRef(dave))).toBe('all');
  });

  it('never lets a reviewer decide access held through a group: Elevate membership or an IdP group of that name', () => {
    const named: InstanceReviewers = { type: 'principals', principals: [{ type: 'user', id: 'rita' }] };
    const groupItem = { principalId: 'ops', principalType: 'group' as const, roleId: 'db-admin' };
    const rita = caller('rita');
    expect(reviewerVerdict(named, groupItem, rita, byRef(rita), new Set(['ops']))).toBe('self');
    expect(reviewerVerdict(named, groupItem, rita, byRef(rita), new Map([['ops', null]]))).toBe('self');
    const ritaIdp = caller('rita', ['ops']);
    expect(reviewerVerdict(named, groupItem, ritaIdp, byRef(ritaIdp), none)).toBe('self');
    // Another group's item, or a user of the group's id: not hers.
    expect(reviewerVerdict(named, groupItem, rita, byRef(rita), new Set(['ops-2']))).toBe('allowed');
    expect(holdsAccessOf({ principalType: 'user', principalId: 'ops' }, rita, new Set(['ops']))).toBe(false);
    expect(holdsAccessOf({ principalType: 'group', principalId: 'rita' }, rita, none)).toBe(false);
    expect(holdsAccessOf({ principalType: 'servicePrincipal', principalId: 'rita' }, rita, none)).toBe(false);
  });

  it("takes the role policy's first-stage approvers, or the admins when it has none", () => {
    expect(approversOf([])).toEqual([{ type: 'role', id: 'elevate-admin' }]);
    expect(
      approversOf([{ approvers: [{ type: 'user', id: 'bob' }] }, { approvers: [{ type: 'user', id: 'x' }] }]),
    ).toEqual([{ type: 'user', id: 'bob' }]);
    const approvers: InstanceReviewers = {
      type: 'approvers',
      approvers: { 'db-admin': [{ type: 'user', id: 'bob' }], web: approversOf([]) },
    };
    expect(reviewedRoles(approvers, byRef(caller('bob')))).toEqual(['db-admin']);
    expect(reviewedRoles(approvers, byRef(caller('root'), true))).toEqual(['web']);
  });

  it('gives each assignment one deterministic decision id', () => {
    expect(decisionIdOf('asg_01JABCDEFGHJKMNPQRSTVWXYZ0')).toBe('dec_01JABCDEFGHJKMNPQRSTVWXYZ0');
    expect(decisionIdOf('other-id')).toMatch(/^dec_[0-9A-Z]{26}$/);
    expect(decisionIdOf('other-id')).toBe(decisionIdOf('other-id'));
  });
});

describe('checkReviewDecision: who records a review decision, and when', () => {
  const now = new Date('2026-11-26T10:00:00.000Z');
  const ok = {
    verdict: 'allowed' as const,
    instance: { status: 'InProgress' as const, endDateTime: '2026-12-01T00:00:00.000Z', requireJustification: true },
    current: 'NotReviewed' as const,
    justification: 'still needed',
    now,
  };
  const code = (c: typeof ok | Record<string, unknown>) => {
    try {
      checkReviewDecision({ ...ok, ...c } as typeof ok);
      return undefined;
    } catch (error) {
      return (error as { code: string }).code;
    }
  };

  it('lets a reviewer decide an undecided item of a running instance', () => {
    expect(code(ok)).toBeUndefined();
    expect(code({ justification: undefined, instance: { ...ok.instance, requireJustification: false } })).toBe(
      undefined,
    );
  });

  it('refuses in order: not a reviewer, own access, instance over, decided, no justification', () => {
    expect(code({ verdict: 'notReviewer', current: 'Approve' })).toBe('Forbidden');
    expect(code({ verdict: 'self', current: 'Approve' })).toBe('SelfApprovalForbidden');
    expect(code({ instance: { ...ok.instance, endDateTime: now.toISOString() }, current: 'Approve' })).toBe('Conflict');
    expect(code({ instance: { ...ok.instance, status: 'Completed' } })).toBe('Conflict');
    expect(code({ current: 'Deny', justification: undefined })).toBe('AlreadyDecided');
    expect(code({ justification: undefined })).toBe('JustificationRequired');
  });
});
