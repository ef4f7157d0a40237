import { type AuditEvent, eventHash } from './audit.ts';

/**
 * The audit hash chain, pure. Each event belongs to one chain `<yyyy-mm-dd>#<shard>` (the UTC day of its time and
 * one of AUDIT_SHARDS shards that the store picks at random per transaction), carries `seq` (1, 2, ... within the
 * chain), `previousHash` (the hash of seq - 1; null for seq 1) and `hash` (SHA-256 of its canonical form, which
 * covers chain, seq and previousHash). A day's chains are self-contained, so one day's export verifies on its own;
 * days are tied together by the chain of export manifests (see usecases/exports.ts).
 */
export const AUDIT_SHARDS = 8;

export interface ChainHead {
  hash: string;
  seq: number;
}

export const dayOf = (time: string): string => time.slice(0, 10);
export const chainId = (day: string, shard: number): string => `${day}#${shard}`;

/** Links `events` (one transaction's, all of the chain's day) after `head`, in (time, id) order. */
export function linkEvents(
  events: readonly AuditEvent[],
  chain: string,
  head: ChainHead | null,
): { events: AuditEvent[]; head: ChainHead } {
  const ordered = [...events].sort((a, b) => (a.time === b.time ? cmp(a.id, b.id) : cmp(a.time, b.time)));
  let previous = head;
  const linked = ordered.map((e) => {
    const { hash: _old, ...rest } = e;
    const body = { ...rest, chain, seq: (previous?.seq ?? 0) + 1, previousHash: previous?.hash ?? null };
    const event = { ...body, hash: eventHash(body) };
    previous = { hash: event.hash, seq: event.seq };
    return event;
  });
  return { events: linked, head: previous as unknown as ChainHead };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Where a chain breaks. `at` is the caller's locator of the event (e.g. `file:line`). */
export interface ChainBreak {
  at: string;
  eventId: string;
  chain: string;
  problem: string;
}

export interface ChainSummary {
  chain: string;
  firstSeq: number;
  lastSeq: number;
  firstHash: string;
  lastHash: string;
  count: number;
}

/**
 * Checks events (in any order; grouped by chain and sorted by seq): each hash against the canonical form, seq
 * contiguous, each previousHash the hash of the one before. A chain's first event here is an anchor when its seq is
 * above 1 (an export of part of a day); seq 1 must have previousHash null.
 */
export function verifyEvents<T extends { event: AuditEvent; at: string }>(
  items: readonly T[],
): { breaks: ChainBreak[]; chains: ChainSummary[] } {
  const breaks: ChainBreak[] = [];
  const byChain = new Map<string, T[]>();
  for (const item of items) {
    const e = item.event;
    const { hash, ...body } = e;
    const computed = eventHash(body);
    if (computed !== hash) {
      breaks.push({
        at: item.at,
        eventId: e.id,
        chain: e.chain ?? '-',
        problem: `hash differs: stored ${hash}, computed from the event ${computed} (the event was altered)`,
      });
    }
    if (e.chain === undefined || e.seq === undefined) {
      breaks.push({ at: item.at, eventId: e.id, chain: '-', problem: 'the event has no chain or seq' });
      continue;
    }
    if (dayOf(e.time) !== e.chain.split('#')[0]) {
      breaks.push({ at: item.at, eventId: e.id, chain: e.chain, problem: `time ${e.time} is not of the chain's day` });
    }
    const list = byChain.get(e.chain) ?? [];
    list.push(item);
    byChain.set(e.chain, list);
  }
  const chains: ChainSummary[] = [];
  for (const [chain, list] of [...byChain].sort(([a], [b]) => cmp(a, b))) {
    list.sort((a, b) => (a.event.seq as number) - (b.event.seq as number));
    const first = list[0] as T;
    if (first.event.seq === 1 && first.event.previousHash !== null) {
      breaks.push({
        at: first.at,
        eventId: first.event.id,
        chain,
        problem: `seq 1 must have previousHash null, has ${first.event.previousHash}`,
      });
    }
    for (let i = 1; i < list.length; i++) {
      const prev = (list[i - 1] as T).event;
      const cur = list[i] as T;
      const seq = cur.event.seq as number;
      if (seq === prev.seq) {
        breaks.push({ at: cur.at, eventId: cur.event.id, chain, problem: `seq ${seq} appears twice` });
      } else if (seq !== (prev.seq as number) + 1) {
        breaks.push({
          at: cur.at,
          eventId: cur.event.id,
          chain,
          problem: `seq jumps from ${prev.seq} to ${seq}: ${seq - (prev.seq as number) - 1} event(s) missing`,
        });
      } else if (cur.event.previousHash !== prev.hash) {
        breaks.push({
          at: cur.at,
          eventId: cur.event.id,
          chain,
          problem: `previousHash ${cur.event.previousHash} is not the hash of seq ${prev.seq} (${prev.id} at ${(list[i - 1] as T).at}: ${prev.hash})`,
        });
      }
    }
    const last = (list[list.length - 1] as T).event;
    chains.push({
      chain,
      firstSeq: first.event.seq as number,
      lastSeq: last.seq as number,
      firstHash: first.event.hash,
      lastHash: last.hash,
      count: list.length,
    });
  }
  return { breaks, chains };
}

/** The UTC days (yyyy-mm-dd) that [from, to) touches, oldest first. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  const last = dayOf(new Date(Date.parse(to) - 1).toISOString());
  for (let t = Date.parse(`${dayOf(from)}T00:00:00.000Z`); ; t += 86_400_000) {
    const day = dayOf(new Date(t).toISOString());
    if (day > last) return days;
    days.push(day);
  }
}
