import { describe, expect, it } from 'vitest';
import { DomainError } from '#shared/domain/errors.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';
import { checkAdminAssignment, checkSelfPrincipalType, defaultAssignmentExpiration } from '#shared/domain/rules.ts';
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
