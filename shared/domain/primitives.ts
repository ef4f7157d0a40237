import * as z from 'zod';
import { isDuration } from './duration.ts';
import { normalizeText } from './text.ts';

/** Shared building blocks of the schemas: ids, times and durations. */
export const Slug = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{1,62}$/,
    'a slug of 2-63 lower-case letters, digits and dashes, starting with a letter or digit',
  );

/** Principal ids come from the identity provider (`sub`): printable, no control characters, bounded. */
export const PrincipalId = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[^\s\p{Cc}]+$/u, 'a principal id has no spaces or control characters');

export const IsoDateTime = z.iso
  .datetime({ offset: false, local: false, precision: undefined })
  .meta({ description: 'ISO 8601 UTC time', examples: ['2026-11-26T10:00:00Z'] });

export const IsoDuration = z
  .string()
  .max(40)
  .refine(isDuration, 'an ISO 8601 duration such as PT8H or P14D')
  .meta({ id: 'IsoDuration', description: 'An ISO 8601 duration', examples: ['PT8H', 'P14D'] });

export const PrincipalType = z.enum(['user', 'group', 'servicePrincipal']);
export type PrincipalType = z.infer<typeof PrincipalType>;

/**
 * Who a principal is: its type and its id. Users, groups and service principals have separate id spaces (a user
 * whose `sub` is `dbas` is not the group `dbas`), so every assignment, access decision and profile names both.
 */
export interface PrincipalRef {
  principalType: PrincipalType;
  principalId: string;
}

/** The caller of an API call is always a user. */
export const userRef = (principalId: string): PrincipalRef => ({ principalType: 'user', principalId });

export const Email = z.email().max(320);

/** Free text, normalised (text.ts) before any check: text that shows nothing is blank. */
export const Text = (max: number) =>
  z.string().overwrite(normalizeText).min(1, 'blank: it has no visible characters').max(max);

export const Justification = Text(1000);
