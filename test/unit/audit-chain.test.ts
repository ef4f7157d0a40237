import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type AuditEvent, eventHash } from '#shared/domain/audit.ts';
import { linkEvents, verifyEvents } from '#shared/domain/audit-chain.ts';
import { csvHeader, csvRow, eventOfCsv, jsonLine, parseCsv } from '#shared/domain/audit-format.ts';
import { verifyExports } from '#shared/domain/audit-verify.ts';

const raw = (i: number, time = `2026-01-02T10:00:0${i}.000Z`): AuditEvent => {
  const body = {
    id: `evt_${String(i).padStart(26, '0')}`,
    time,
    action: 'role.created',
    actor: { id: 'admin', type: 'user' as const },
    target: { principalId: null, roleId: `r${i}`, scope: i === 2 ? '' : null, assignmentId: null, requestId: null },
    details: { note: 'a, "quoted"\nline' },
    previousHash: null,
  };
  return { ...body, hash: eventHash(body) };
};

describe('the audit chain', () => {
  it('links events after a head and verifies; a second transaction continues it', () => {
    const first = linkEvents([raw(1), raw(0)], '2026-01-02#1', null);
    expect(first.events.map((e) => [e.id.slice(-1), e.seq])).toEqual([
      ['0', 1],
      ['1', 2],
    ]);
    expect(first.events[0]?.previousHash).toBeNull();
    expect(first.events[1]?.previousHash).toBe(first.events[0]?.hash);
    const second = linkEvents([raw(2)], '2026-01-02#1', first.head);
    expect(second.events[0]).toMatchObject({ seq: 3, previousHash: first.head.hash });
    const all = [...first.events, ...second.events].map((event, i) => ({ event, at: `line ${i + 1}` }));
    expect(verifyEvents(all).breaks).toEqual([]);
  });

  it('names the altered event, a missing one, and a broken link', () => {
    const { events } = linkEvents([raw(0), raw(1), raw(2), raw(3)], '2026-01-02#0', null);
    const items = events.map((event, i) => ({ event, at: `f:${i + 1}` }));
    const altered = items.map((x) => ({ ...x, event: { ...x.event } }));
    (altered[1] as { event: AuditEvent }).event.action = 'role.deleted';
    expect(verifyEvents(altered).breaks).toEqual([
      expect.objectContaining({ at: 'f:2', eventId: events[1]?.id, problem: expect.stringContaining('hash differs') }),
    ]);
    const gap = [items[0], items[2], items[3]] as typeof items;
    expect(verifyEvents(gap).breaks).toEqual([
      expect.objectContaining({ at: 'f:3', problem: 'seq jumps from 1 to 3: 1 event(s) missing' }),
    ]);
    // re-hashing an altered event hides it from its own hash, not from the next event's previousHash
    const rehashed = altered.map((x) => ({ ...x, event: { ...x.event } }));
    const { hash: _h, ...body } = (rehashed[1] as { event: AuditEvent }).event;
    (rehashed[1] as { event: AuditEvent }).event.hash = eventHash(body);
    const breaks = verifyEvents(rehashed).breaks;
    expect(breaks).toHaveLength(1);
    expect(breaks[0]).toMatchObject({ at: 'f:3', problem: expect.stringContaining('is not the hash of seq 2') });
  });

  it('CSV round-trips every event exactly (null vs empty string, quotes, newlines)', () => {
    const { events } = linkEvents([raw(0), raw(1), raw(2)], '2026-01-02#3', null);
    const text = csvHeader() + events.map(csvRow).join('');
    const rows = [...parseCsv(text)].slice(1).map((r) => eventOfCsv(r.fields));
    expect(rows).toEqual(events);
    const jsonl = events.map(jsonLine).join('');
    expect(
      jsonl
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual(events);
  });

  it('verifyExports checks objects without manifests', () => {
    const { events } = linkEvents([raw(0), raw(1)], '2026-01-02#0', null);
    const good = { name: 'a.jsonl.gz', bytes: gzipSync(events.map(jsonLine).join('')) };
    expect(verifyExports([good]).ok).toBe(true);
    const bad = {
      name: 'b.jsonl.gz',
      bytes: gzipSync(events.map(jsonLine).join('').replace('role.created', 'role.deleted')),
    };
    const report = verifyExports([bad]);
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatch(/^b\.jsonl\.gz:1: event evt_0+ \(chain 2026-01-02#0\): hash differs/);
  });
});
