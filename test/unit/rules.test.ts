import { describe, expect, it } from 'vitest';
import { checkDismissable } from '#shared/domain/alerts.ts';
import { DomainError } from '#shared/domain/errors.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';
import { checkRoleDeletable } from '#shared/domain/role.ts';
import {
  checkAdminAssignment,
  checkAdminUpdate,
  checkRenewal,
  checkSelfPrincipalType,
  defaultAssignmentExpiration,
} from '#shared/domain/rules.ts';
import { resolveSchedule } from '#shared/domain/schedule.ts';

const now = new Date('2026-11-26T10:00:00Z');
const hours = (n: number) => new Date(now.getTime() + n * 3_600_000);

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

const base = {
  policy: defaultPolicy(),
  assignmentType: 'eligible' as const,
  principalType: 'user' as const,
  schedule: { start: now, end: null },
  justification: 'onboarding',
  actorMfa: true,
};

describe('admin assignment rules', () => {
  it('allows a permanent eligible assignment under the default policy', () => {
    expect(codeOf(() => checkAdminAssignment(base))).toBeUndefined();
  });

  it('refuses a service principal as eligible', () => {
    expect(codeOf(() => checkAdminAssignment({ ...base, principalType: 'servicePrincipal' }))).toBe(
      'InvalidPrincipalType',
    );
  });

  it('refuses a permanent active assignment when the policy does not allow it', () => {
    expect(codeOf(() => checkAdminAssignment({ ...base, assignmentType: 'active' }))).toBe('PermanentNotAllowed');
  });

  it('refuses a permanent active assignment of a service principal even when the policy allows permanent', () => {
    const policy = defaultPolicy();
    policy.activeAssignment.allowPermanent = true;
    expect(
      codeOf(() =>
        checkAdminAssignment({ ...base, policy, assignmentType: 'active', principalType: 'servicePrincipal' }),
      ),
    ).toBe('PermanentNotAllowed');
  });

  it('refuses a duration over the policy maximum, and allows exactly the maximum', () => {
    const policy = defaultPolicy();
    policy.eligibleAssignment.maxDuration = 'PT8H';
    expect(codeOf(() => checkAdminAssignment({ ...base, policy, schedule: { start: now, end: hours(9) } }))).toBe(
      'DurationExceedsPolicy',
    );
    expect(
      codeOf(() => checkAdminAssignment({ ...base, policy, schedule: { start: now, end: hours(8) } })),
    ).toBeUndefined();
  });

  it('requires a justification for active assignments when the policy says so', () => {
    const active = { ...base, assignmentType: 'active' as const, schedule: { start: now, end: hours(1) } };
    expect(codeOf(() => checkAdminAssignment({ ...active, justification: undefined }))).toBe('JustificationRequired');
    expect(codeOf(() => checkAdminAssignment(active))).toBeUndefined();
  });

  it("requires the administrator's MFA for active assignments when the policy says so", () => {
    const policy = defaultPolicy();
    policy.activeAssignment.requireMfa = true;
    const active = { ...base, policy, assignmentType: 'active' as const, schedule: { start: now, end: hours(1) } };
    expect(codeOf(() => checkAdminAssignment({ ...active, actorMfa: false }))).toBe('MfaRequired');
  });

  it('defaults the expiration to permanent where allowed and to the maximum elsewhere', () => {
    const policy = defaultPolicy();
    expect(defaultAssignmentExpiration(policy, 'eligible', 'user')).toEqual({ type: 'noExpiration' });
    expect(defaultAssignmentExpiration(policy, 'active', 'user')).toEqual({ type: 'afterDuration', duration: 'P180D' });
    policy.activeAssignment.allowPermanent = true;
    expect(defaultAssignmentExpiration(policy, 'active', 'servicePrincipal')).toEqual({
      type: 'afterDuration',
      duration: 'P180D',
    });
  });
});

describe('schedules', () => {
  it('starts now when no start is given, and moves a past start to now', () => {
    expect(resolveSchedule(undefined, now, { type: 'noExpiration' })).toEqual({ start: now, end: null });
    expect(resolveSchedule({ startDateTime: '2020-01-01T00:00:00Z' }, now, { type: 'noExpiration' }).start).toEqual(
      now,
    );
  });

  it('ends after a duration counted from the start', () => {
    const s = resolveSchedule(
      { startDateTime: '2026-12-01T00:00:00Z', expiration: { type: 'afterDuration', duration: 'PT2H' } },
      now,
      { type: 'noExpiration' },
    );
    expect(s.end?.toISOString()).toBe('2026-12-01T02:00:00.000Z');
  });

  it('refuses an end before the start, naming the field', () => {
    try {
      resolveSchedule({ expiration: { type: 'afterDateTime', endDateTime: '2026-11-26T09:00:00Z' } }, now, {
        type: 'noExpiration',
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).errors?.[0]?.path).toBe('schedule.expiration.endDateTime');
    }
  });
});

describe('self actions act on the caller', () => {
  it('lets a self action name no type or the user type, and refuses a group or a service principal', () => {
    expect(() => checkSelfPrincipalType('selfActivate', undefined)).not.toThrow();
    expect(() => checkSelfPrincipalType('selfActivate', 'user')).not.toThrow();
    for (const type of ['group', 'servicePrincipal'] as const) {
      const refusal = (() => {
        try {
          checkSelfPrincipalType('selfRenew', type);
        } catch (error) {
          return error;
        }
      })();
      expect(refusal).toBeInstanceOf(DomainError);
      expect((refusal as DomainError).code).toBe('InvalidPrincipalType');
    }
  });
});

describe('updates by an administrator', () => {
  it('refuses an update that ends in the past: that is a removal', () => {
    expect(codeOf(() => checkAdminUpdate('adminUpdate', null, { start: hours(-2), end: hours(-1) }, now))).toBe(
      'ValidationFailed',
    );
    expect(codeOf(() => checkAdminUpdate('adminUpdate', null, { start: hours(-2), end: hours(1) }, now))).toBe(
      undefined,
    );
  });

  it('lets adminExtend only move the end of a time-bound assignment later', () => {
    const end = hours(4).toISOString();
    expect(codeOf(() => checkAdminUpdate('adminExtend', end, { start: now, end: hours(5) }, now))).toBe(undefined);
    expect(codeOf(() => checkAdminUpdate('adminExtend', end, { start: now, end: hours(4) }, now))).toBe(
      'ValidationFailed',
    );
    expect(codeOf(() => checkAdminUpdate('adminExtend', null, { start: now, end: hours(5) }, now))).toBe(
      'ValidationFailed',
    );
  });
});

describe('renewals a holder asks for', () => {
  const renewal = {
    policy: defaultPolicy(),
    assignmentType: 'eligible' as const,
    principalType: 'user' as const,
    now,
    expiration: undefined,
    justification: 'still on call',
    currentEnd: null,
  };

  it('ends as long as the policy allows from now when no end is asked for', () => {
    const policy = defaultPolicy();
    expect(checkRenewal(renewal).toISOString()).toBe(
      resolveSchedule(
        undefined,
        now,
        { type: 'afterDuration', duration: policy.eligibleAssignment.maxDuration },
        'P90D',
      ).end?.toISOString(),
    );
  });

  it('refuses a permanent renewal, one over the policy, one without a reason, and one that ends no later', () => {
    expect(codeOf(() => checkRenewal({ ...renewal, expiration: { type: 'noExpiration' } }))).toBe(
      'PermanentNotAllowed',
    );
    expect(codeOf(() => checkRenewal({ ...renewal, expiration: { type: 'afterDuration', duration: 'P400D' } }))).toBe(
      'DurationExceedsPolicy',
    );
    expect(codeOf(() => checkRenewal({ ...renewal, justification: undefined }))).toBe('JustificationRequired');
    const later = { type: 'afterDateTime' as const, endDateTime: hours(48).toISOString() };
    expect(codeOf(() => checkRenewal({ ...renewal, expiration: later, currentEnd: hours(72).toISOString() }))).toBe(
      'ValidationFailed',
    );
    expect(checkRenewal({ ...renewal, expiration: later, currentEnd: hours(24).toISOString() })).toEqual(hours(48));
  });
});

describe('deleting a role and dismissing an alert', () => {
  it('deletes only a role that is not built in and holds no live assignment', () => {
    expect(codeOf(() => checkRoleDeletable({ id: 'ops', builtIn: false, liveAssignments: 0 }))).toBe(undefined);
    expect(() => checkRoleDeletable({ id: 'elevate-admin', builtIn: true, liveAssignments: 0 })).toThrow(
      "'elevate-admin' is a built-in role and cannot be deleted",
    );
    expect(() => checkRoleDeletable({ id: 'ops', builtIn: false, liveAssignments: 2 })).toThrow(
      "role 'ops' still has 2 live assignment(s); remove them first",
    );
  });

  it('dismisses only an active alert', () => {
    expect(codeOf(() => checkDismissable({ status: 'active' }))).toBe(undefined);
    expect(codeOf(() => checkDismissable({ status: 'dismissed' }))).toBe('Conflict');
    expect(codeOf(() => checkDismissable({ status: 'resolved' }))).toBe('Conflict');
  });
});
