import type { AuditEvent } from '../domain/audit.ts';
import { AUDIT_SHARDS, dayOf, daysBetween } from '../domain/audit-chain.ts';
import { invalid } from '../domain/errors.ts';
import { decodeCursor, encodeCursor, queryFingerprint } from '../store/pagination.ts';
import { type Item, keys, queries, stored } from '../store/records.ts';
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

/** When Elevate was installed (the earliest audit month): written once, so read once per table and process. */
const installs = new Map<string, string>();
async function installedAt(store: Store): Promise<string | undefined> {
  const known = installs.get(store.tableName);
  if (known) return known;
  const item = await store.get(keys.install(), false);
  const install = item && stored.install.fromItem(item);
  if (!install) return undefined;
  installs.set(store.tableName, install.installedAt);
  return install.installedAt;
}

/** DynamoDB reads a listing page may make before it answers with what it has (and a token to go on). */
const MAX_READS_PER_PAGE = 48;

/**
 * Audit events newest first. A filter on principal, actor or role reads that index; otherwise the days that have
 * events (from `to` back to `from`, at the earliest the day Elevate was installed) are read one after another,
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
  let from = f.from ? new Date(f.from).toISOString() : undefined;
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
  const range = { to, givenTo: f.to ?? null, action: f.action ?? null };
  if (from === undefined && !page.nextToken) {
    // A first page with no lower bound starts at the day Elevate was installed: that record is read beside the days
    // with events (every such day is on or after it), not before them, so a cold call makes one round trip less.
    // The default page (no `to` either: the newest events) also reads the newest day's shard partitions beside them,
    // from that day's first instant: they are the page when that day has events (one round trip instead of two), and
    // are dropped unread past their first items when it has none (bench/README.md, the audit function's first call).
    const readsBefore = ctx.store.stats.reads;
    const ahead = f.to
      ? undefined
      : readAhead(ctx.store, dayOf(to), `${to}\uffff`, shardPageSize(range.action, page.limit));
    const [installed, days] = await Promise.all([installedAt(ctx.store), eventDays(ctx.store, '0', `${to}\uffff`)]);
    const start = installed ?? to;
    const known = days.filter((d) => d >= dayOf(start));
    if (ahead && known[0] !== ahead.day) ahead.cancel();
    return listByDay(ctx.store, { ...range, from: start }, page, filter, map, { days: known, ahead, readsBefore });
  }
  from ??= (await installedAt(ctx.store)) ?? to;
  return listByDay(ctx.store, { ...range, from }, page, filter, map);
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

/** One day's shard partitions merged newest first, from the day's first instant up to `hi`, their reads started now. */
interface ReadAhead {
  day: string;
  items: AsyncGenerator<Item>;
  /** Drops the reads (the day turned out to have no events). */
  cancel: () => void;
}

function readAhead(store: Store, day: string, hi: string, pageSize: number): ReadAhead {
  const merged = store.merge(queries.auditDay(day, day, hi, false), { pageSize });
  const first = merged.next();
  first.catch(() => {});
  async function* items(): AsyncGenerator<Item> {
    try {
      for (let next = await first; !next.done; next = await merged.next()) yield next.value;
    } finally {
      await merged.return(undefined);
    }
  }
  return { day, items: items(), cancel: () => void merged.return(undefined).catch(() => {}) };
}

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
  /** The days with events when already read (newest first), the newest day's reads when started, and the read count
   * the page's budget starts from (before the reads started ahead). */
  known?: { days: string[]; ahead?: ReadAhead | undefined; readsBefore: number },
): Promise<Page<T>> {
  const fingerprint = queryFingerprint({ audit: 'byDay', from: range.from, to: range.givenTo, action: range.action });
  const below = page.nextToken ? mergedCursor(page.nextToken, fingerprint, range) : null;
  const hi = below ?? `${range.to}\uffff`;
  const days = known?.days ?? (await eventDays(store, dayOf(range.from), hi));
  const readsBefore = known?.readsBefore ?? store.stats.reads;
  const pageSize = shardPageSize(range.action, page.limit);
  // The newest day's partitions, when their reads were started ahead; any other day's, read now.
  const dayItems = (day: string, d: number): AsyncGenerator<Item> =>
    d === 0 && known?.ahead?.day === day
      ? known.ahead.items
      : store.merge(queries.auditDay(day, range.from, hi, false), { pageSize });
  const items: T[] = [];
  let last: string | null = null;
  for (let d = 0; d < days.length; d++) {
    for await (const item of dayItems(days[d] as string, d)) {
      const sk = String(item.sk);
      // Only the reads started ahead go below the range (from their day's first instant): nothing further is in it.
      if (sk < range.from) break;
      if (below !== null && sk >= below) continue;
      if (items.length === page.limit)
        return { items, nextToken: encodeCursor(fingerprint, 0, { pk: MERGED_CURSOR.partition, sk: last as string }) };
      last = sk;
      if (filter(item)) items.push(map(item));
      if (store.stats.reads - readsBefore >= MAX_READS_PER_PAGE) {
        // Enough reads for one call (a rare action over a long range): answer with what was found, and go on.
        return { items, nextToken: encodeCursor(fingerprint, 0, { pk: MERGED_CURSOR.partition, sk }) };
      }
    }
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
