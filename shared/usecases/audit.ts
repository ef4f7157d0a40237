import type { AuditEvent } from '../domain/audit.ts';
import { AUDIT_SHARDS, dayOf, daysBetween } from '../domain/audit-chain.ts';
import { invalid } from '../domain/errors.ts';
import { decodeCursor, encodeCursor, queryFingerprint } from '../store/pagination.ts';
import { type Item, queries, stored } from '../store/records.ts';
import type { Page, Store } from '../store/store.ts';
import type { CallContext } from './context.ts';

export interface AuditFilters {
  from?: string | undefined;
  to?: string | undefined;
  actorId?: string | undefined;
  principalId?: string | undefined;
  roleId?: string | undefined;
  action?: string | undefined;
}

/**
 * A listing without `from` is bounded below only by the days that have events (`0` sorts before every day and time),
 * as the listings by principal, actor or role are.
 */
const NO_LOWER_BOUND = '0';

/** DynamoDB reads a listing page may make before it answers with what it has (and a token to go on). */
const MAX_READS_PER_PAGE = 48;

/**
 * Audit events newest first. A filter on principal, actor or role reads that index; otherwise the days that have
 * events (from `to` back to `from`, if given) are read one after another,
 * each day's shard partitions merged by sort key (`<time>#<id>`, unique), so the order is exact across shards.
 * The token is the sort key of the last event looked at: the next page starts below it, so events written after
 * the first page (whose `to` defaults to now) never shift a page.
 */
export async function listAuditEvents(
  ctx: CallContext,
  f: AuditFilters,
  page: { limit: number; nextToken?: string | undefined },
): Promise<Page<AuditEvent>> {
  const to = f.to ? new Date(f.to).toISOString() : ctx.now.toISOString();
  const from = f.from ? new Date(f.from).toISOString() : undefined;
  if (from && from > to) throw invalid('from is after to', [{ path: 'from', message: 'must not be after to' }]);
  // The filters read the event, not the item: a stored event holds its actor and target partly in its keys (the
  // compact form, store/audit-item.ts). Each item is decoded once, for the filter and the page.
  const decoded = new WeakMap<Item, AuditEvent>();
  const map = (item: Item): AuditEvent => {
    const known = decoded.get(item);
    if (known) return known;
    const e = stored.audit.fromItem(item);
    decoded.set(item, e);
    return e;
  };
  const filter = (item: Item) => {
    const e = map(item);
    return (
      (!f.action || e.action === f.action) &&
      (!f.actorId || e.actor.id === f.actorId) &&
      (!f.roleId || e.target.roleId === f.roleId) &&
      (!f.principalId || e.target.principalId === f.principalId)
    );
  };
  if (f.principalId || f.actorId || f.roleId) {
    const by = f.principalId
      ? { principalId: f.principalId }
      : f.actorId
        ? { actorId: f.actorId }
        : { roleId: f.roleId as string };
    return ctx.store.page([queries.audit(by, from ?? '0', to)], { ...page, filter, map });
  }
  const range = { from: from ?? NO_LOWER_BOUND, to, givenTo: f.to ?? null, action: f.action ?? null };
  if (from === undefined && !f.to && !page.nextToken) {
    // The default page (the newest events) reads today's shard partitions at once, beside nothing but the gate: when
    // today holds the page (the usual case), the call is one round trip of AUDIT_SHARDS Queries; the days with events
    // are read only when it does not (bench/README.md, the audit function's first call).
    return listByDay(ctx.store, range, page, filter, map, dayOf(to));
  }
  return listByDay(ctx.store, range, page, filter, map);
}

/** The days with audit events in [fromDay, the day of `hi`], newest first. */
async function eventDays(store: Store, fromDay: string, hi: string): Promise<string[]> {
  return (await store.all(queries.auditDays(fromDay, dayOf(hi)), false)).map((d) => stored.auditDay.fromItem(d).day);
}

/**
 * Twice a shard's even share of the page: the events fall on the shards at random, and a shard that holds more than
 * its page costs another round trip (one after another), which a page read at once avoids (bench/README.md).
 */
const shardPageSize = (action: string | null, limit: number): number =>
  Math.min(200, Math.max(4, Math.ceil((2 * (action ? 2 : 1) * limit) / AUDIT_SHARDS) + 1));

/** Where a merged audit page's cursor may point: a sort key (time#id) within the asked range. */
const MERGED_CURSOR = { attrs: ['pk', 'sk'], partitionAttr: 'pk', partition: 'AUDIT', sortAttr: 'sk' } as const;

/** The merged list's cursor: the sort key of the last event seen, in a pseudo-partition of its own. */
function mergedCursor(token: string, fingerprint: string, range: { from: string; to: string }): string {
  const cursor = decodeCursor(token, fingerprint, (part) =>
    part === 0 ? { ...MERGED_CURSOR, between: [range.from, `${range.to}\uffff`] } : undefined,
  );
  const sk = cursor.key?.sk;
  if (typeof sk !== 'string') {
    throw invalid('nextToken does not belong to this list', [{ path: 'nextToken', message: 'invalid' }]);
  }
  return sk;
}

async function listByDay<T>(
  store: Store,
  range: { from: string; to: string; givenTo: string | null; action: string | null },
  page: { limit: number; nextToken?: string | undefined },
  filter: (item: Item) => boolean,
  map: (item: Item) => T,
  /** The day to read first, without reading the days with events (those before it are read only if the page goes
   * on past it). */
  newestDay?: string,
): Promise<Page<T>> {
  const fingerprint = queryFingerprint({ audit: 'byDay', from: range.from, to: range.givenTo, action: range.action });
  const below = page.nextToken ? mergedCursor(page.nextToken, fingerprint, range) : null;
  const hi = below ?? `${range.to}\uffff`;
  const readsBefore = store.stats.reads;
  const days = newestDay ? [newestDay] : await eventDays(store, dayOf(range.from), hi);
  const pageSize = shardPageSize(range.action, page.limit);
  const items: T[] = [];
  let last: string | null = null;
  /** Takes one item (newest first); the page when it is complete, else undefined. */
  const take = (item: Item): Page<T> | undefined => {
    const sk = String(item.sk);
    if (below !== null && sk >= below) return undefined;
    if (items.length === page.limit)
      return { items, nextToken: encodeCursor(fingerprint, 0, { pk: MERGED_CURSOR.partition, sk: last as string }) };
    last = sk;
    if (filter(item)) items.push(map(item));
    // Enough reads for one call (a rare action over a long range): answer with what was found, and go on.
    if (store.stats.reads - readsBefore >= MAX_READS_PER_PAGE)
      return { items, nextToken: encodeCursor(fingerprint, 0, { pk: MERGED_CURSOR.partition, sk }) };
    return undefined;
  };
  for (let d = 0; d < days.length; d++) {
    const day = days[d] as string;
    for await (const item of store.merge(queries.auditDay(day, range.from, hi, false), { pageSize })) {
      const done = take(item);
      if (done) return done;
    }
    // The newest day did not fill the page: the page goes on with the days before it that have events.
    if (d === 0 && newestDay)
      days.push(...(await eventDays(store, dayOf(range.from), hi)).filter((older) => older < day));
  }
  return { items, nextToken: null };
}

/** What a job may spend: the invocation's remaining time, and how much of it to keep for finishing. */
export interface TimeBudget {
  timeLeft: () => number;
  reserveMs: number;
}

export const NO_BUDGET: TimeBudget = { timeLeft: () => Infinity, reserveMs: 0 };

/**
 * Hands every audit event in [from, to] to `visit`, a page at a time (memory stays flat), day by day, oldest
 * first, starting after the event whose sort key is `after` (a previous run's `last`). Stops early when the budget
 * runs low; `complete` says whether every event was seen, `last` is the sort key of the last event visited.
 */
export async function forEachAuditEvent(
  store: Store,
  from: string,
  to: string,
  visit: (e: AuditEvent) => void,
  budget: TimeBudget = NO_BUDGET,
  after?: string,
): Promise<{ complete: boolean; last?: string | undefined }> {
  let last = after;
  for (const day of daysBetween(from, new Date(Date.parse(to) + 1).toISOString())) {
    if (after && day < dayOf(after)) continue;
    const lo = after && after > from ? after : from;
    const parts = queries.auditDay(day, lo, `${to}\uffff`, true);
    for await (const item of store.merge(parts, { pageSize: 1000, prefetch: true, windowMs: 60_000 })) {
      const e = stored.audit.fromItem(item);
      const sk = `${e.time}#${e.id}`;
      if (after && sk <= after) continue;
      if (budget.timeLeft() < budget.reserveMs) return { complete: false, last };
      visit(e);
      last = sk;
    }
  }
  return { complete: true, last };
}
