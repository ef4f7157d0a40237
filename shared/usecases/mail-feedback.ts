import type { Deps } from '../deps.ts';
import { SYSTEM_ACTOR } from '../domain/audit.ts';
import {
  type MailStatus,
  type MailSuppression,
  mailStatus,
  normalizeAddress,
  parseMailFeedback,
  suppressionsOf,
} from '../domain/mail-feedback.ts';
import { log } from '../log.ts';
import { keys, ops, stored, type WriteOp } from '../store/records.ts';
import type { Store } from '../store/store.ts';
import { auditEvent } from './context.ts';

/** Suppressions written per transaction (each with its audit event: well under DynamoDB's 100 items). */
const PER_TRANSACTION = 20;

export interface FeedbackOutcome {
  /** Addresses newly suppressed. */
  suppressed: number;
  /** Why nothing was written, when nothing was. */
  ignored?: 'invalid' | 'notPermanent' | 'alreadyRecorded';
}

/**
 * Records what SES reported about a message (the mail feedback function, on the configuration set's bounce and
 * complaint events): each address of a permanent bounce or a complaint is suppressed, with an audit event
 * `principal.mailSuppressed` naming the principal the message went to. An event that does not parse writes
 * nothing (it is logged, never retried: retrying would not change it); a redelivered event (same feedback id) writes
 * nothing twice.
 */
export async function recordMailFeedback(deps: Deps, event: unknown): Promise<FeedbackOutcome> {
  const parsed = parseMailFeedback(event);
  if (!parsed) {
    log('warn', 'mail feedback: not an SES bounce or complaint event; ignored', {
      detailType:
        typeof (event as { 'detail-type'?: unknown })?.['detail-type'] === 'string'
          ? String((event as { 'detail-type': string })['detail-type']).slice(0, 100)
          : null,
    });
    return { suppressed: 0, ignored: 'invalid' };
  }
  const wanted = suppressionsOf(parsed);
  if (wanted.length === 0) {
    log('info', 'mail feedback: a transient or undetermined bounce; the address stays mailed', {
      eventType: parsed.detail.eventType,
    });
    return { suppressed: 0, ignored: 'notPermanent' };
  }
  const existing = new Map(
    (await deps.store.getMany(wanted.map((s) => keys.mailSuppression(s.address)))).map((i) => {
      const s = stored.mailSuppression.fromItem(i);
      return [s.address, s.feedbackId];
    }),
  );
  const fresh = wanted.filter((s) => existing.get(s.address) !== s.feedbackId);
  if (fresh.length === 0) return { suppressed: 0, ignored: 'alreadyRecorded' };
  const now = deps.clock.now();
  for (let i = 0; i < fresh.length; i += PER_TRANSACTION) {
    const writes: WriteOp[] = fresh.slice(i, i + PER_TRANSACTION).flatMap((s) => [
      ops.putMailSuppression(s),
      ops.audit(
        auditEvent(
          now,
          SYSTEM_ACTOR,
          'principal.mailSuppressed',
          { principalId: s.principal?.principalId ?? null },
          {
            principalType: s.principal?.principalType ?? null,
            address: s.address,
            reason: s.reason,
            kind: s.kind,
            diagnostic: s.diagnostic,
            feedbackId: s.feedbackId,
            since: s.since,
          },
        ),
      ),
    ]);
    await deps.store.transact(writes);
  }
  log('info', 'mail feedback: addresses suppressed', { suppressed: fresh.length, eventType: parsed.detail.eventType });
  return { suppressed: fresh.length };
}

/** The suppression of an address, if any. */
export async function suppressionOf(store: Store, address: string | null): Promise<MailSuppression | undefined> {
  if (!address) return undefined;
  const item = await store.get(keys.mailSuppression(normalizeAddress(address)));
  return item ? stored.mailSuppression.fromItem(item) : undefined;
}

/** The mail status of a principal's address. */
export async function mailStatusOf(store: Store, address: string | null): Promise<MailStatus> {
  return mailStatus(await suppressionOf(store, address));
}

/** Of the given addresses, those that are suppressed (one batch read). */
export async function suppressedAmong(store: Store, addresses: readonly string[]): Promise<Set<string>> {
  if (addresses.length === 0) return new Set();
  const found = await store.getMany([...new Set(addresses.map(normalizeAddress))].map(keys.mailSuppression));
  return new Set(found.map((i) => stored.mailSuppression.fromItem(i).address));
}
