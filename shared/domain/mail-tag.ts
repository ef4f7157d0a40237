import type { PrincipalRef } from './primitives.ts';

/**
 * The tag every message carries naming the principal its single recipient was resolved from: the mailer writes it,
 * the mail feedback reads it back (mail-feedback.ts). Apart from the feedback's schemas, so that every function's
 * mailer does not build them at cold start.
 */
export const PRINCIPAL_TAG = 'elevate-principal';

/**
 * The value of the principal tag: `<type>#<id>` in base64url (SES tag values take letters, digits, `_` and `-`
 * only, at most 256 characters); undefined when the principal's id is too long to fit (the feedback then names no
 * principal, and the address is suppressed all the same).
 */
export function principalTag(p: PrincipalRef): string | undefined {
  const value = Buffer.from(`${p.principalType}#${p.principalId}`, 'utf8').toString('base64url');
  return value.length <= 256 ? value : undefined;
}
