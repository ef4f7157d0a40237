import type { AuditEvent } from '../domain/audit.ts';
import { invalid } from '../domain/errors.ts';
import { keys, monthOf, type QueryPart, queries, strip } from '../store/records.ts';
import type { Page, Store } from '../store/store.ts';
import type { Ctx } from './context.ts';

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
  const install = await store.get(keys.install(), false);
  if (typeof install?.installedAt !== 'string') return undefined;
  installs.set(store.tableName, install.installedAt);
  return install.installedAt;
}

/** Months from `to` back to `from` (inclusive), as yyyy-mm, newest first. */
export function monthsBetween(from: string, to: string): string[] {
  const months: string[] = [];
  let y = Number(to.slice(0, 4));
  let m = Number(to.slice(5, 7));
  const stop = monthOf(from);
  for (;;) {
    const month = `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}`;
    months.push(month);
    if (month <= stop) return months;
    m--;
    if (m === 0) {
      m = 12;
      y--;
    }
  }
}

/**
 * Audit events newest first. A filter on principal, actor or role reads that index; otherwise the
 * month partitions are read from `to` back to `from` (at the earliest, the month Elevate was installed).
 */
export async function listAuditEvents(
  ctx: Ctx,
  f: AuditFilters,
  page: { limit: number; nextToken?: string | undefined },
): Promise<Page<AuditEvent>> {
  const to = f.to ? new Date(f.to).toISOString() : ctx.now.toISOString();
  let from = f.from ? new Date(f.from).toISOString() : undefined;
  if (from && from > to) throw invalid('from is after to', [{ path: 'from', message: 'must not be after to' }]);
  let parts: QueryPart[];
  if (f.principalId) parts = [queries.audit({ principalId: f.principalId }, from ?? '0', to)];
  else if (f.actorId) parts = [queries.audit({ actorId: f.actorId }, from ?? '0', to)];
  else if (f.roleId) parts = [queries.audit({ roleId: f.roleId }, from ?? '0', to)];
  else {
    from ??= (await installedAt(ctx.store)) ?? to;
    const lower = from;
    parts = monthsBetween(lower, to).map((month) => queries.audit({ month }, lower, to));
  }
  return ctx.store.page(parts, {
    ...page,
    filter: (item) =>
      (!f.action || item.action === f.action) &&
      (!f.actorId || (item.actor as { id?: string } | undefined)?.id === f.actorId) &&
      (!f.roleId || (item.target as { roleId?: string } | undefined)?.roleId === f.roleId) &&
      (!f.principalId || (item.target as { principalId?: string } | undefined)?.principalId === f.principalId),
    map: (item) => strip<AuditEvent>(item),
  });
}
