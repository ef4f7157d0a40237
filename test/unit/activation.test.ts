import { describe, expect, it } from 'vitest';
import {
  activationWindow,
  checkActivationType,
  checkDeactivation,
  checkExtension,
  fitToEligibility,
} from '#shared/domain/activation.ts';
import { checkStart } from '#shared/domain/assignment.ts';
import { DomainError } from '#shared/domain/errors.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';
import { checkStorable, resolveSchedule, resolveStart } from '#shared/domain/schedule.ts';

const now = new Date('2026-11-26T10:00:00.000Z');
const at = (minutes: number) => new Date(now.getTime() + minutes * 60_000);
const iso = (minutes: number) => at(minutes).toISOString();

function refusal(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

const permanent = { status: 'Active' as const, startDateTime: iso(-600), endDateTime: null };
const until = (minutes: number) => ({ ...permanent, endDateTime: iso(minutes) });

describe('activationWindow: when an activation starts and ends', () => {
  // Asked at `now` for 2 hours, no later start.
  const asked = { askedAt: iso(0), startDateTime: iso(0), endDateTime: iso(120), duration: 'PT2H' };

  it('counts the asked duration from the grant, not from the request', () => {
    // Prepare: approved 3 hours after it was asked for.
    const grantedAt = at(180);

    // Act
    const w = activationWindow(asked, permanent, grantedAt);

    // Assess
    expect(w.start.toISOString()).toBe(iso(180));
    expect(w.end.toISOString()).toBe(iso(300));
  });

  it('keeps the asked window of a later start, and refuses it once that window has passed (never 0 s)', () => {
    const scheduled = { askedAt: iso(0), startDateTime: iso(60), endDateTime: iso(180), duration: 'PT2H' };
    expect(activationWindow(scheduled, permanent, at(30))).toEqual({ start: at(60), end: at(180) });
    expect(activationWindow(scheduled, permanent, at(90))).toEqual({ start: at(90), end: at(180) });
    expect(refusal(() => activationWindow(scheduled, permanent, at(180)))).toBe('Conflict');
  });

  it('keeps an end time named explicitly', () => {
    const named = { askedAt: iso(0), startDateTime: iso(0), endDateTime: iso(90), duration: null };
    expect(activationWindow(named, permanent, at(30)).end.toISOString()).toBe(iso(90));
    expect(refusal(() => activationWindow(named, permanent, at(91)))).toBe('Conflict');
  });

  it('never ends after the eligibility it stands on', () => {
    expect(activationWindow(asked, until(45), now).end.toISOString()).toBe(iso(45));
  });

  it('is NotEligible when the eligibility is not in force at the start', () => {
    expect(refusal(() => activationWindow(asked, until(45), at(46)))).toBe('NotEligible');
    expect(refusal(() => activationWindow(asked, { ...permanent, status: 'Revoked' }, now))).toBe('NotEligible');
    const later = { askedAt: iso(0), startDateTime: iso(60), endDateTime: iso(120), duration: 'PT1H' };
    expect(refusal(() => activationWindow(later, until(30), now))).toBe('NotEligible');
  });
});

describe('checkExtension: how far an activation may be extended', () => {
  const policy = defaultPolicy(); // maxDuration PT8H, maxExtensions 1
  const activation = { endDateTime: iso(60), extensions: 0 };

  it('extends by up to maxDuration from now under a permanent eligibility', () => {
    expect(checkExtension({ policy, now, activation, eligibility: permanent, requested: null })).toEqual(at(480));
  });

  it('stops at the end of the eligibility (ivan)', () => {
    expect(checkExtension({ policy, now, activation, eligibility: until(120), requested: null })).toEqual(at(120));
  });

  it('refuses when the eligibility leaves nothing to add, rather than granting 0 s', () => {
    expect(refusal(() => checkExtension({ policy, now, activation, eligibility: until(60), requested: null }))).toBe(
      'NotEligible',
    );
  });

  it('refuses when the eligibility no longer stands (judy)', () => {
    expect(refusal(() => checkExtension({ policy, now, activation, eligibility: null, requested: null }))).toBe(
      'NotEligible',
    );
    const ended = { ...permanent, status: 'Revoked' as const };
    expect(refusal(() => checkExtension({ policy, now, activation, eligibility: ended, requested: null }))).toBe(
      'NotEligible',
    );
  });

  it('counts extensions and bounds the end asked for', () => {
    const used = { ...activation, extensions: 1 };
    expect(
      refusal(() => checkExtension({ policy, now, activation: used, eligibility: permanent, requested: null })),
    ).toBe('DurationExceedsPolicy');
    expect(refusal(() => checkExtension({ policy, now, activation, eligibility: permanent, requested: at(481) }))).toBe(
      'DurationExceedsPolicy',
    );
    expect(refusal(() => checkExtension({ policy, now, activation, eligibility: permanent, requested: at(30) }))).toBe(
      'ValidationFailed',
    );
  });
});

describe('fitToEligibility: an activation follows the eligibility it stands on', () => {
  const activation = { status: 'Active' as const, startDateTime: iso(-30), endDateTime: iso(60) };

  it('ends with an eligibility that ends: Revoked before its own end, Expired at it', () => {
    expect(fitToEligibility(activation, null, now)).toEqual({ kind: 'end', status: 'Revoked' });
    expect(fitToEligibility(activation, null, at(60))).toEqual({ kind: 'end', status: 'Expired' });
  });

  it('moves back to an eligibility end that comes first, and is kept otherwise', () => {
    expect(fitToEligibility(activation, until(30), now)).toEqual({ kind: 'clamp', endDateTime: iso(30) });
    expect(fitToEligibility(activation, until(90), now)).toEqual({ kind: 'keep' });
    expect(fitToEligibility(activation, permanent, now)).toEqual({ kind: 'keep' });
  });

  it('ends when the eligibility is moved to a later start', () => {
    const moved = { status: 'Scheduled' as const, startDateTime: iso(60), endDateTime: null };
    expect(fitToEligibility(activation, moved, now)).toEqual({ kind: 'end', status: 'Revoked' });
  });
});

describe('date bounds of a schedule', () => {
  it('puts a start at most maxScheduleAhead ahead', () => {
    expect(resolveStart(new Date(now.getTime() + 90 * 86_400_000).toISOString(), now, 'P90D')).toBeInstanceOf(Date);
    expect(refusal(() => resolveStart(new Date(now.getTime() + 91 * 86_400_000).toISOString(), now, 'P90D'))).toBe(
      'ValidationFailed',
    );
    expect(refusal(() => resolveStart('9999-01-01T00:00:00Z', now, 'P90D'))).toBe('ValidationFailed');
  });

  it('turns a start in the past into now', () => {
    expect(resolveStart(iso(-5), now, 'P90D')).toEqual(now);
  });

  it('refuses an end after 9999-12-31 with a 400 that names the field', () => {
    const fallback = { type: 'noExpiration' as const };
    let problem: DomainError | undefined;
    try {
      resolveSchedule({ expiration: { type: 'afterDuration', duration: 'P9999Y' } }, now, fallback);
    } catch (error) {
      problem = error as DomainError;
    }
    expect(problem?.code).toBe('ValidationFailed');
    expect(problem?.errors?.[0]?.path).toBe('schedule.expiration.duration');
    expect(checkStorable(new Date('9999-12-31T23:59:59.999Z'), 'x').getUTCFullYear()).toBe(9999);
    expect(refusal(() => checkStorable(new Date('+010000-01-01T00:00:00Z'), 'x'))).toBe('ValidationFailed');
  });
});

describe('what an activation is made from and how it ends', () => {
  it('makes only an active assignment by activating', () => {
    expect(refusal(() => checkActivationType('eligible'))).toBe('ValidationFailed');
    expect(refusal(() => checkActivationType('active'))).toBeUndefined();
  });

  it('lets its holder deactivate an activation, never an assigned role', () => {
    expect(refusal(() => checkDeactivation({ origin: 'assigned' }))).toBe('ValidationFailed');
    expect(refusal(() => checkDeactivation({ origin: 'activated' }))).toBeUndefined();
  });
});

describe('the start of a scheduled assignment', () => {
  const scheduled = { requestId: 'req_b', startDateTime: iso(0) };

  it('is made by its current request once due, never early', () => {
    expect(refusal(() => checkStart('req_b', scheduled, at(0)))).toBeUndefined();
    expect(refusal(() => checkStart('req_b', scheduled, at(-1)))).toBe('Conflict');
  });

  it('is refused to a request a moved start superseded', () => {
    expect(() => checkStart('req_a', scheduled, at(5))).toThrow("request 'req_a' was superseded by 'req_b'");
  });
});
