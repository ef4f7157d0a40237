import type { Caller } from '../auth/caller.ts';
import { type Assignment, inForce } from './assignment.ts';
import { addDuration, exceeds } from './duration.ts';
import { DomainError, invalid } from './errors.ts';
import type { RolePolicy } from './policy.ts';
import { checkStorable, type ResolvedSchedule } from './schedule.ts';

interface Window {
  start: Date;
  end: Date;
}

/** The rules of api.md for activating an eligible role yourself, in a fixed order. */
export interface ActivationCheck {
  policy: RolePolicy;
  caller: Caller;
  justification: string | undefined;
  ticket: { system: string; number: string } | undefined;
  schedule: ResolvedSchedule;
}

export function checkActivation(c: ActivationCheck): void {
  const rules = c.policy.activation;
  if (rules.requireMfa && !c.caller.mfa) {
    throw new DomainError(
      'MfaRequired',
      "the role's policy requires multi-factor authentication to activate; sign in again with MFA",
    );
  }
  if (rules.authenticationContext && !c.caller.acrs.includes(rules.authenticationContext)) {
    throw new DomainError(
      'AuthenticationContextRequired',
      `the role's policy requires the authentication context '${rules.authenticationContext}'; sign in again satisfying it`,
    );
  }
  if (rules.requireJustification && !c.justification) {
    throw new DomainError('JustificationRequired', "the role's policy requires a justification to activate");
  }
  if (rules.requireTicket && !c.ticket) {
    throw new DomainError('TicketRequired', "the role's policy requires a ticket (system and number) to activate");
  }
  if (c.schedule.end === null) {
    throw new DomainError('PermanentNotAllowed', `an activation always ends; ask for at most ${rules.maxDuration}`);
  }
  if (exceeds(c.schedule.start, c.schedule.end, rules.maxDuration)) {
    throw new DomainError(
      'DurationExceedsPolicy',
      `the role's policy allows activations of at most ${rules.maxDuration}`,
    );
  }
}

/** The new end of an extended activation: as long again as the policy allows, counted from now. */
export function extendedEnd(policy: RolePolicy, now: Date, requested: Date | null): Date {
  const max = addDuration(now, policy.activation.maxDuration);
  if (requested === null) return checkStorable(max, 'schedule.expiration');
  if (requested > max) {
    throw new DomainError(
      'DurationExceedsPolicy',
      `an extension ends at most ${policy.activation.maxDuration} from now`,
    );
  }
  return requested;
}

// ---- an activation and the eligibility it stands on ---------------------------------------------------

/** The part of an eligibility that bounds its activations. */
export type EligibilitySpan = Pick<Assignment, 'status' | 'startDateTime' | 'endDateTime'>;

/** The part of an activation request that decides its window. */
export interface AskedActivation {
  /** When it was asked for (the request's createdAt). */
  askedAt: string;
  /** The start asked for (askedAt when none was given). */
  startDateTime: string;
  /** The end asked for, as resolved when asked. */
  endDateTime: string | null;
  /** The duration asked for (`afterDuration`), or null when an end time was named. */
  duration: string | null;
}

const notEligible = (detail: string) => new DomainError('NotEligible', detail);

/**
 * The window of an activation granted at `now` (issue 12, item 16; issue 11, item 1).
 * - A duration counts from the grant: an activation asked for 2 hours and approved 3 hours later lasts 2 hours
 *   from the approval. A later start asked for (a scheduled activation) keeps its asked window, as does an end
 *   time named explicitly: granted late, it is shorter, and granted after its end it is refused (never 0 s).
 * - It never ends after the eligibility it stands on (clamped to its end); an eligibility not in force at the
 *   start is `NotEligible`.
 */
export function activationWindow(asked: AskedActivation, eligibility: EligibilitySpan, now: Date): Window {
  const askedStart = Date.parse(asked.startDateTime);
  const scheduled = askedStart > Date.parse(asked.askedAt);
  const start = new Date(Math.max(now.getTime(), askedStart));
  if (!inForce(eligibility, start)) {
    throw notEligible('the eligibility this activation stands on is not in force at its start');
  }
  let end: Date;
  if (asked.duration && !scheduled) end = addDuration(start, asked.duration);
  else if (asked.endDateTime) end = new Date(asked.endDateTime);
  else throw new DomainError('PermanentNotAllowed', 'an activation always ends');
  if (end.getTime() <= start.getTime()) {
    throw new DomainError('Conflict', `the window asked for ended at ${end.toISOString()} before it could be granted`);
  }
  return { start, end: boundedBy(end, eligibility) };
}

/** An end moved back to the end of the eligibility when it lies beyond it. */
const boundedBy = (end: Date, eligibility: EligibilitySpan): Date =>
  eligibility.endDateTime !== null && end.getTime() > Date.parse(eligibility.endDateTime)
    ? new Date(eligibility.endDateTime)
    : end;

export interface ExtensionCheck {
  policy: RolePolicy;
  now: Date;
  activation: Pick<Assignment, 'endDateTime' | 'extensions'>;
  /** The eligibility the activation stands on as it is now (null: it no longer stands). */
  eligibility: EligibilitySpan | null;
  /** The end asked for; null: as long as the policy allows. */
  requested: Date | null;
}

/**
 * The new end of an extended activation (selfExtend), or its refusal: the eligibility must still be in force; the
 * extension is counted against `maxExtensions`; it ends at most `maxDuration` from now and never after the
 * eligibility ends; and it must end later than the activation does now (`NotEligible` when the eligibility's end
 * leaves nothing to add).
 */
export function checkExtension(c: ExtensionCheck): Date {
  if (!c.eligibility || !inForce(c.eligibility, c.now)) {
    throw notEligible('the eligibility this activation stands on has ended; it cannot be extended');
  }
  if (c.activation.extensions >= c.policy.activation.maxExtensions) {
    throw new DomainError(
      'DurationExceedsPolicy',
      `the role's policy allows ${c.policy.activation.maxExtensions} extension(s) of an activation`,
    );
  }
  const end = boundedBy(extendedEnd(c.policy, c.now, c.requested), c.eligibility);
  if (c.activation.endDateTime !== null && end.getTime() <= Date.parse(c.activation.endDateTime)) {
    if (c.eligibility.endDateTime !== null && end.getTime() === Date.parse(c.eligibility.endDateTime)) {
      throw notEligible(
        `your eligibility ends at ${c.eligibility.endDateTime}; the activation already lasts until then`,
      );
    }
    throw invalid('an extension ends after the current end', [
      { path: 'schedule.expiration', message: `must be after ${c.activation.endDateTime}` },
    ]);
  }
  return end;
}

/** What becomes of a live activation when the eligibility it stands on changes or ends. */
export type Fit =
  | { kind: 'keep' }
  | { kind: 'end'; status: 'Expired' | 'Revoked' }
  | { kind: 'clamp'; endDateTime: string };

/**
 * An activation stays in force only inside its eligibility. `eligibility` is the eligibility after the change, or
 * null when it ends now: then the activation ends too (Expired when its own end has come, else Revoked). An
 * eligibility that is not in force now ends it; one that ends before the activation does moves its end back.
 */
export function fitToEligibility(
  activation: Pick<Assignment, 'status' | 'startDateTime' | 'endDateTime'>,
  eligibility: EligibilitySpan | null,
  now: Date,
): Fit {
  const ownEndCame = activation.endDateTime !== null && Date.parse(activation.endDateTime) <= now.getTime();
  if (!eligibility || !inForce(eligibility, now)) return { kind: 'end', status: ownEndCame ? 'Expired' : 'Revoked' };
  if (
    eligibility.endDateTime !== null &&
    (activation.endDateTime === null || activation.endDateTime > eligibility.endDateTime)
  ) {
    return { kind: 'clamp', endDateTime: eligibility.endDateTime };
  }
  return { kind: 'keep' };
}

/** selfActivate makes an active assignment (an activation) from an eligible one: never an eligible one. */
export function checkActivationType(assignmentType: Assignment['assignmentType']): void {
  if (assignmentType !== 'active') {
    throw invalid('selfActivate makes an active assignment from an eligible one', [
      { path: 'assignmentType', message: "must be 'active'" },
    ]);
  }
}

/** Its holder ends an activation early (selfDeactivate); an assigned role is removed by an administrator. */
export function checkDeactivation(a: Pick<Assignment, 'origin'>): void {
  if (a.origin !== 'activated') {
    throw invalid('only an activation can be deactivated; an assigned role is removed by an administrator', [
      { path: 'assignmentType', message: 'not an activation' },
    ]);
  }
}
