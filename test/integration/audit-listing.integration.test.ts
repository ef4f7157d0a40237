/**
 * The audit partition spread over days and shards (issue: one partition per month was a hot key), and the
 * newest-first listing that merges a day's shard partitions: exact order, no event twice or missed, pages that
 * stay put while new events are written, filters across pages.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, useClock } from '#shared/clock.ts';
import { depsFromEnv } from '#shared/deps.ts';
import { type AuditEvent, SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { ATTR, ops, stored } from '#shared/store/records.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { auditEvent } from '#shared/usecases/context.ts';
import { call } from '#test/support/invoke.ts';
import { createTestTable } from '#test/support/table.ts';

const clock = new ManualClock(new Date('2026-06-03T12:00:00Z'));
const written: AuditEvent[] = [];

beforeAll(async () => {
  process.env.ELEVATE_LOG = 'error';
  useClock(clock);
  await createTestTable();
  const deps = depsFromEnv();
  await bootstrap(deps, ['admin']);
  // 90 events over three days, some at the same instant, written 6 at a time (each transaction picks a shard).
  const writes = [];
  for (let i = 0; i < 90; i++) {
    const at = new Date(Date.parse('2026-06-01T00:00:00Z') + Math.floor(i / 2) * 4_000_000);
    const e = auditEvent(at, SYSTEM_ACTOR, i % 3 === 0 ? 'role.created' : 'role.updated', { roleId: `r${i}` }, { i });
    written.push(e);
    writes.push(deps.store.transact([ops.audit(e)]));
    if (writes.length === 6) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
}, 120_000);

type Listed = { id: string; time: string; chain?: string; action: string };

async function listAll(query: string, between?: () => Promise<void>): Promise<Listed[]> {
  const seen: Listed[] = [];
  let token: string | null = null;
  do {
    const res: { status: number; body: { items: Listed[]; nextToken: string | null } } = await call(
      'GET',
      `/v1/audit-events?${query}${token ? `&nextToken=${token}` : ''}`,
      { as: 'admin' },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    seen.push(...res.body.items);
    token = res.body.nextToken;
    await between?.();
  } while (token);
  return seen;
}

const newestFirst = (a: Listed, b: Listed) => (a.time === b.time ? (a.id < b.id ? 1 : -1) : a.time < b.time ? 1 : -1);

describe('the audit partition', () => {
  it('stores each event in the partition of its chain: its day and shard, several a day', async () => {
    const { store } = depsFromEnv();
    const pks = new Set<string>();
    for (const e of written.slice(0, 30)) {
      const listed = (await listAll(`from=${e.time}&to=${e.time}&limit=50`)).find((x) => x.id === e.id) as Listed;
      const item = await store.get({ [ATTR.pk]: `AUDIT#${listed.chain}`, [ATTR.sk]: `${e.time}#${e.id}` });
      expect(item && stored.audit.fromItem(item).id, e.id).toBe(e.id);
      expect(String(item?.[ATTR.pk])).toMatch(/^AUDIT#2026-06-0[1-3]#\d+$/);
      pks.add(String(item?.[ATTR.pk]));
    }
    expect(pks.size).toBeGreaterThan(2);
  });

  it('lists newest first across shards and days, page after page, exactly once each', async () => {
    // Act: pages of 7 with no `to`; the clock moves and new events are written between pages.
    const before = clock.now().toISOString();
    const listed = await listAll('from=2026-06-01T00:00:00Z&limit=7', async () => {
      clock.advance(60_000);
      await depsFromEnv().store.transact([
        ops.audit(auditEvent(clock.now(), SYSTEM_ACTOR, 'role.updated', { roleId: 'late' }, {})),
      ]);
    });

    // Assess
    const expected = (await listAll(`from=2026-06-01T00:00:00Z&to=${before}&limit=200`)).sort(newestFirst);
    expect(listed.map((e) => e.id)).toEqual(expected.map((e) => e.id));
    expect(new Set(listed.map((e) => e.id)).size).toBe(listed.length);
    for (const e of written) expect(listed.some((x) => x.id === e.id)).toBe(true);
  });

  it('lists the newest events by default (no from, no to), page after page across days, as the bounded list', async () => {
    // Act: the default pages read today's shards first, then the days before it that have events.
    const now = clock.now().toISOString();
    const listed = await listAll('limit=7');
    const firstPage = await call('GET', '/v1/audit-events?limit=200', { as: 'admin' });

    // Assess: every event, the 90 of three days and the bootstrap's, newest first, once each.
    const expected = (await listAll(`from=2000-01-01T00:00:00Z&to=${now}&limit=200`)).sort(newestFirst);
    expect(listed.map((e) => e.id)).toEqual(expected.map((e) => e.id));
    expect(firstPage.body.items.map((e: Listed) => e.id)).toEqual(expected.map((e) => e.id));
    expect(firstPage.body.nextToken).toBeNull();
    for (const e of written) expect(listed.some((x) => x.id === e.id)).toBe(true);
    expect(new Set(listed.map((e) => e.time.slice(0, 10)))).toEqual(
      new Set(['2026-06-01', '2026-06-02', '2026-06-03']),
    );
  });

  it('filters by action across pages and shards', async () => {
    const created = await listAll('from=2026-06-01T00:00:00Z&to=2026-06-04T00:00:00Z&action=role.created&limit=4');
    const expected = written.filter((e) => e.action === 'role.created').map((e) => e.id);
    // ours, and the built-in roles' role.created of the bootstrap
    expect(
      created
        .map((e) => e.id)
        .filter((id) => expected.includes(id))
        .sort(),
    ).toEqual([...expected].sort());
    expect(created.every((e) => e.action === 'role.created')).toBe(true);
    expect(created.length).toBe(expected.length + 2);
    expect([...created].sort(newestFirst).map((e) => e.id)).toEqual(created.map((e) => e.id));
  });
});
