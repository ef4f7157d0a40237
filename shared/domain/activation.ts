import type { Caller } from '../auth/caller.ts';
import { addDuration, exceeds } from './duration.ts';
import { DomainError } from './errors.ts';
import type { RolePolicy } from './policy.ts';
import type { ResolvedSchedule } from './schedule.ts';

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
  if (requested === null) return max;
  if (requested > max) {
    throw new DomainError(
      'DurationExceedsPolicy',
      `an extension ends at most ${policy.activation.maxDuration} from now`,
    );
  }
  return requested;
}
