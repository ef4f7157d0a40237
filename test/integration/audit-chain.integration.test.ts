import { beforeAll, describe, expect, it } from 'vitest';
import { depsFromEnv } from '#shared/deps.ts';
import type { AuditEvent } from '#shared/domain/audit.ts';
import { AUDIT_SHARDS, chainId, dayOf, verifyEvents } from '#shared/domain/audit-chain.ts';
import { keys, queries, stored } from '#shared/store/records.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { call } from '#test/support/invoke.ts';
import { createTestTable } from '#test/support/table.ts';

beforeAll(async () => {
  await createTestTable();
  await bootstrap(depsFromEnv(), ['admin']);
});

describe('the audit hash chain under concurrent writers', () => {
  it('50 parallel role creations: every chain is contiguous, linked, and ends at its head', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call('POST', '/v1/roles', { as: 'admin', body: { id: `par-${i}`, displayName: `P ${i}`, privileged: false } }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(201));

    const { store } = depsFromEnv();
    const now = new Date().toISOString();
    const events: { event: AuditEvent; at: string }[] = [];
    for await (const item of store.merge(queries.auditDay(now.slice(0, 10), '0', '9', true), { pageSize: 100 })) {
      const event = stored.audit.fromItem(item);
      events.push({ event, at: event.id });
    }
    expect(events.filter((e) => e.event.target.roleId?.startsWith('par-')).length).toBe(50);
    const { breaks, chains } = verifyEvents(events);
    expect(breaks).toEqual([]);
    // every chain starts at seq 1 and its last event is its head
    for (const c of chains) {
      expect(c.firstSeq).toBe(1);
      const head = await store.get(keys.auditHead(c.chain));
      expect({ seq: head?.seq, hash: head?.hash }).toEqual({ seq: c.lastSeq, hash: c.lastHash });
    }
    expect(chains.length).toBeGreaterThan(1);
    expect(chains.every((c) => Number(c.chain.split('#')[1]) < AUDIT_SHARDS)).toBe(true);
    expect(chains.map((c) => c.chain)).toContain(chainId(dayOf(now), Number(chains[0]?.chain.split('#')[1])));
  });

  it('GET /v1/audit-events returns the chain fields', async () => {
    const res = await call('GET', '/v1/audit-events?action=role.created&limit=1', { as: 'admin' });
    expect(res.status).toBe(200);
    expect(res.body.items[0]).toMatchObject({
      chain: expect.stringMatching(/^\d{4}-\d\d-\d\d#\d$/),
      seq: expect.any(Number),
    });
    expect(res.body.items[0].hash).toMatch(/^[0-9a-f]{64}$/);
  });
});
