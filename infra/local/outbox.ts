/**
 * The mail that SES would have sent, kept in memory for `GET /_local/emails` (not the transactional outbox of
 * lifecycle events, shared/usecases/outbox.ts). The local SES stand-in (aws-standins.ts) calls `add` for each
 * SendEmail the real mailer adapter sends; tests read `list()` or the HTTP control.
 */
export interface LocalEmail {
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** ISO 8601 time (by the process clock) the mail was sent. */
  readonly sentAt: string;
}

const emails: LocalEmail[] = [];

/** Record a sent mail. */
export function add(email: LocalEmail): void {
  emails.push(email);
}

/** Every mail sent since start (or since the last `clear`), oldest first. */
export function list(): readonly LocalEmail[] {
  return [...emails];
}

/** Forget every mail (tests). */
export function clear(): void {
  emails.length = 0;
}
