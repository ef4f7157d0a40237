import * as z from 'zod';
import { PRINCIPAL_TAG } from './mail-tag.ts';
import { PrincipalId, type PrincipalRef, PrincipalType } from './primitives.ts';

/**
 * Mail feedback: what SES reports back about a message (bounces and complaints, through the configuration set's
 * event destination on the default EventBridge bus), and the rule that follows from it:
 *
 * - a permanent bounce (`bounceType: Permanent`) or a complaint suppresses the address: Elevate sends it no more
 *   mail until an admin clears the suppression;
 * - a transient or undetermined bounce (mailbox full, auto-reply, a greylisting server) suppresses nothing.
 *
 * Parsing is strict about everything the rule reads (types, lengths, at most 50 recipients: SES's own limit per
 * message) and ignores fields it does not read, so a field AWS adds later does not drop a real bounce. Anything
 * else is refused as a whole (`parseMailFeedback` answers null): odd input writes nothing.
 */

// The tag naming a message's principal is written by the mailer (mail-tag.ts) and read back here.
export { PRINCIPAL_TAG, principalTag } from './mail-tag.ts';

/** SES takes at most 50 recipients a message, so no feedback names more. */
const MAX_RECIPIENTS = 50;
/** How much of an SMTP diagnostic is kept (they are one line in practice; the rest is cut, not refused). */
export const MAX_DIAGNOSTIC = 500;

const Short = z.string().min(1).max(256);
const Address = z
  .string()
  .trim()
  .min(3)
  .max(320)
  .regex(/^[^\s@]+@[^\s@]+$/, 'an e-mail address');
const Diagnostic = z
  .string()
  .max(100_000)
  .transform((s) => s.slice(0, MAX_DIAGNOSTIC));

const Recipient = z.object({ emailAddress: Address, diagnosticCode: Diagnostic.optional() });

const Mail = z.object({
  messageId: Short,
  timestamp: z.iso.datetime({ offset: true }),
  /** The message tags (values are lists); only Elevate's principal tag is read. */
  tags: z.record(z.string().max(256), z.array(z.string().max(256)).max(10)).optional(),
});

const Bounce = z.object({
  eventType: z.literal('Bounce'),
  bounce: z.object({
    feedbackId: Short,
    bounceType: z.enum(['Permanent', 'Transient', 'Undetermined']),
    bounceSubType: Short,
    bouncedRecipients: z.array(Recipient).min(1).max(MAX_RECIPIENTS),
    timestamp: z.iso.datetime({ offset: true }),
  }),
  mail: Mail,
});

const Complaint = z.object({
  eventType: z.literal('Complaint'),
  complaint: z.object({
    feedbackId: Short,
    complainedRecipients: z.array(Recipient).min(1).max(MAX_RECIPIENTS),
    complaintFeedbackType: Short.optional(),
    complaintSubType: Short.nullable().optional(),
    timestamp: z.iso.datetime({ offset: true }),
  }),
  mail: Mail,
});

/** The EventBridge envelope SES uses for its configuration-set events (detail-type says which). */
export const SesFeedbackEvent = z.object({
  source: z.literal('aws.ses'),
  'detail-type': z.enum(['Email Bounced', 'Email Complaint Received']),
  detail: z.discriminatedUnion('eventType', [Bounce, Complaint]),
});
export type SesFeedbackEvent = z.infer<typeof SesFeedbackEvent>;

/** Why an address is suppressed. */
export const SuppressionReason = z.enum(['bounce', 'complaint']);
export type SuppressionReason = z.infer<typeof SuppressionReason>;

/** An address Elevate no longer mails, and why (what SES said). */
export interface MailSuppression {
  /** The address, normalised (normalizeAddress). */
  address: string;
  reason: SuppressionReason;
  /** `Permanent/General`, `Permanent/OnAccountSuppressionList`, the complaint's feedback type (`abuse`)... */
  kind: string;
  /** The receiving server's SMTP diagnostic, cut to MAX_DIAGNOSTIC characters; null when SES gave none. */
  diagnostic: string | null;
  /** SES's id of the feedback (a redelivered event carries the same one). */
  feedbackId: string;
  /** When the bounce or complaint happened (SES's timestamp). */
  since: string;
  /** The principal the message was addressed to (from its tag); null when it was a literal address. */
  principal: PrincipalRef | null;
}

/** Addresses compare without case (SES treats the domain so, and no mail system here tells local parts apart). */
export function normalizeAddress(address: string): string {
  return address.trim().toLowerCase();
}

/** The event, parsed; null when it is not a bounce or complaint SES would send (nothing is written for it). */
export function parseMailFeedback(event: unknown): SesFeedbackEvent | null {
  const parsed = SesFeedbackEvent.safeParse(event);
  if (!parsed.success) return null;
  const { 'detail-type': type, detail } = parsed.data;
  // The detail type and the event type say the same thing, or the event is not SES's.
  if ((type === 'Email Bounced') !== (detail.eventType === 'Bounce')) return null;
  return parsed.data;
}

/**
 * The suppressions a feedback event makes: one per recipient of a permanent bounce or a complaint, none for a
 * transient or undetermined bounce.
 */
export function suppressionsOf(event: SesFeedbackEvent): MailSuppression[] {
  const { detail } = event;
  const principal = principalFromTags(detail.mail.tags);
  if (detail.eventType === 'Bounce') {
    const b = detail.bounce;
    if (b.bounceType !== 'Permanent') return [];
    return dedupe(
      b.bouncedRecipients.map((r) => ({
        address: normalizeAddress(r.emailAddress),
        reason: 'bounce',
        kind: `${b.bounceType}/${b.bounceSubType}`,
        diagnostic: r.diagnosticCode ?? null,
        feedbackId: b.feedbackId,
        since: new Date(b.timestamp).toISOString(),
        principal,
      })),
    );
  }
  const c = detail.complaint;
  return dedupe(
    c.complainedRecipients.map((r) => ({
      address: normalizeAddress(r.emailAddress),
      reason: 'complaint',
      kind: c.complaintSubType ?? c.complaintFeedbackType ?? 'complaint',
      diagnostic: null,
      feedbackId: c.feedbackId,
      since: new Date(c.timestamp).toISOString(),
      principal,
    })),
  );
}

function dedupe(list: MailSuppression[]): MailSuppression[] {
  return [...new Map(list.map((s) => [s.address, s])).values()];
}

/** The principal a message's tags name, if they name a valid one. */
export function principalFromTags(tags: Record<string, string[]> | undefined): PrincipalRef | null {
  const value = tags?.[PRINCIPAL_TAG]?.[0];
  if (!value || !/^[A-Za-z0-9_-]+$/.test(value)) return null;
  const text = Buffer.from(value, 'base64url').toString('utf8');
  const at = text.indexOf('#');
  const type = PrincipalType.safeParse(text.slice(0, at));
  const id = PrincipalId.safeParse(text.slice(at + 1));
  return at > 0 && type.success && id.success ? { principalType: type.data, principalId: id.data } : null;
}

/** What an admin sees of a principal's mail: whether its address is suppressed, why and since when. */
export const MailStatus = z.object({
  suppressed: z.boolean().meta({
    description: 'true: SES reported a permanent bounce or a complaint for the address; no mail goes to it',
  }),
  reason: SuppressionReason.nullable(),
  kind: z
    .string()
    .nullable()
    .meta({ description: "SES's bounce type and subtype (Permanent/General) or the complaint's feedback type" }),
  diagnostic: z.string().nullable().meta({ description: "the receiving server's SMTP diagnostic, if SES gave one" }),
  since: z.string().nullable().meta({ description: 'when the bounce or complaint happened' }),
});
export type MailStatus = z.infer<typeof MailStatus>;

export function mailStatus(s: MailSuppression | undefined): MailStatus {
  return s
    ? { suppressed: true, reason: s.reason, kind: s.kind, diagnostic: s.diagnostic, since: s.since }
    : { suppressed: false, reason: null, kind: null, diagnostic: null, since: null };
}
