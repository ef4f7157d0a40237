import * as z from 'zod';
import { MailStatus } from './mail-feedback.ts';
import { Email, PrincipalType } from './primitives.ts';
import { SlackUserId } from './slack.ts';

/**
 * A principal's profile: who mail goes to. A user's is recorded from its token's claims on each call that may
 * change something; a group's or service principal's is set by an admin (PUT /v1/principals/{id}).
 */
export const Principal = z.object({
  id: z.string(),
  type: PrincipalType,
  displayName: z.string().nullable(),
  email: z.string().nullable(),
  /** The principal's Slack user (docs/slack.md): set by an admin, or found by its e-mail. Absent: not linked yet. */
  slackUserId: z.string().nullable().optional(),
  updatedAt: z.string(),
});
export type Principal = z.infer<typeof Principal>;

/** A principal as the API shows it: its profile and the state of its mail (mail-feedback.ts). */
export const PrincipalView = Principal.extend({ mail: MailStatus });
export type PrincipalView = z.infer<typeof PrincipalView>;

export const PrincipalInput = z.strictObject({
  type: PrincipalType,
  displayName: z.string().trim().min(1).max(200),
  email: Email.optional(),
  slackUserId: SlackUserId.nullable().optional().meta({ description: 'null unlinks' }),
  mail: z
    .strictObject({ suppressed: z.literal(false) })
    .optional()
    .meta({ description: "{ suppressed: false } clears the suppression of the principal's address (audited)" }),
});
export type PrincipalInput = z.infer<typeof PrincipalInput>;
