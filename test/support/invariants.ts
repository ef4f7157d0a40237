/**
 * Invariants of the table, checked by reading every item (a Scan: test-only, to see the table as it is rather
 * than through the code under test). The robustness tests (fuzz, faults, concurrency) run them after the fact:
 * whatever the requests were and however they failed, the table must never be left half-written.
 */
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { verifyEvents } from '#shared/domain/audit-chain.ts';
import { type Item, stored } from '#shared/store/records.ts';
import { testDynamoClient } from './table.ts';

export interface TableRef {
  readonly tableName: string;
  /** DynamoDB endpoint; the run's shared DynamoDB Local when omitted. */
  readonly dynamoEndpoint?: string;
}

/** Every item of the table, in no particular order. */
export async function scanTable(table: TableRef): Promise<Item[]> {
  const client = testDynamoClient(table.dynamoEndpoint);
  const doc = DynamoDBDocumentClient.from(client);
  const items: Item[] = [];
  try {
    let start: Record<string, unknown> | undefined;
    do {
      const out = await doc.send(
        new ScanCommand({ TableName: table.tableName, ExclusiveStartKey: start, ConsistentRead: true }),
      );
      items.push(...((out.Items ?? []) as Item[]));
      start = out.LastEvaluatedKey;
    } while (start);
  } finally {
    client.destroy();
  }
  return items;
}

const LIVE = new Set(['Scheduled', 'Active']);
const slotOf = (i: Item) => `${i.principalId}|${i.roleId}|${i.assignmentType}|${i.scope}`;

/**
 * The broken invariants (empty when the table is consistent):
 * - every assignment record names a request that exists, and at least one audit event names the assignment;
 * - every live slot has its assignment record, with the same version, and that record is Scheduled or Active;
 * - every record stored as Scheduled or Active has its live slot (no record is live without it), and no two live
 *   records share a principal/role/type/scope;
 * - every role's `liveAssignments` equals the number of live slots of the role;
 * - every live activation stands on a live eligibility and ends no later than it (issue 11, item 1);
 * - no assignment or request names a date after 9999-12-31 (issue 11, item 14);
 * - every audit event has a chain and seq, the chains verify (hashes, contiguous seq, links), and each chain ends
 *   at its head item.
 */
export function invariantViolations(items: readonly Item[]): string[] {
  const problems: string[] = [];
  const byEntity = new Map<string, Item[]>();
  for (const item of items) {
    const entity = String(item.entity);
    byEntity.set(entity, [...(byEntity.get(entity) ?? []), item]);
  }
  const of = (entity: string) => byEntity.get(entity) ?? [];
  const requests = new Set(of('request').map((r) => String(r.id)));
  const events = of('audit').map((i) => stored.audit.fromItem(i));
  const auditedAssignments = new Set(events.map((e) => e.target.assignmentId).filter(Boolean));
  const assignments = new Map(of('assignment').map((a) => [String(a.id), a]));

  for (const a of assignments.values()) {
    if (!a.requestId || !requests.has(String(a.requestId))) {
      problems.push(`assignment ${a.id} names request ${a.requestId}, which does not exist`);
    }
    if (!auditedAssignments.has(String(a.id))) problems.push(`no audit event names assignment ${a.id}`);
  }

  const slots = of('live');
  const slotIds = new Set(slots.map((s) => String(s.id)));
  const slotsPerRole = new Map<string, number>();
  for (const s of slots) {
    slotsPerRole.set(String(s.roleId), (slotsPerRole.get(String(s.roleId)) ?? 0) + 1);
    const a = assignments.get(String(s.id));
    if (!a) problems.push(`live slot ${s.sk} of ${s.principalId} has no assignment record ${s.id}`);
    else if (a.version !== s.version) {
      problems.push(`live slot of assignment ${s.id} is at version ${s.version}, the record at ${a.version}`);
    } else if (!LIVE.has(String(a.status))) {
      problems.push(`assignment ${s.id} is ${a.status} but still has a live slot`);
    } else if (slotOf(a) !== slotOf(s)) problems.push(`live slot ${s.sk} holds assignment ${s.id} of another slot`);
  }
  const liveRecords = new Map<string, string>();
  for (const a of assignments.values()) {
    if (!LIVE.has(String(a.status))) continue;
    if (!slotIds.has(String(a.id))) problems.push(`assignment ${a.id} is ${a.status} but has no live slot`);
    const other = liveRecords.get(slotOf(a));
    if (other) problems.push(`assignments ${other} and ${a.id} are both live in slot ${slotOf(a)}`);
    liveRecords.set(slotOf(a), String(a.id));
  }

  for (const s of slots) {
    if (s.origin !== 'activated') continue;
    const e = assignments.get(String(s.eligibilityId));
    if (!e || !LIVE.has(String(e.status)) || !slotIds.has(String(e.id))) {
      problems.push(`activation ${s.id} is live, but its eligibility ${s.eligibilityId} is not`);
    } else if (e.endDateTime !== null && (s.endDateTime === null || String(s.endDateTime) > String(e.endDateTime))) {
      problems.push(`activation ${s.id} ends at ${s.endDateTime}, after its eligibility ${e.id} (${e.endDateTime})`);
    }
  }
  const extendedYear = /^[+-]\d{6}-/;
  for (const i of [...assignments.values(), ...of('request')]) {
    const schedule = i.schedule as { startDateTime?: string; expiration?: { endDateTime?: string | null } } | undefined;
    for (const d of [i.startDateTime, i.endDateTime, schedule?.startDateTime, schedule?.expiration?.endDateTime]) {
      if (typeof d === 'string' && (extendedYear.test(d) || d > '9999-12-31T23:59:59.999Z')) {
        problems.push(`${i.entity} ${i.id} stores the date ${d}, after 9999-12-31`);
      }
    }
  }

  for (const r of of('role')) {
    const expected = slotsPerRole.get(String(r.id)) ?? 0;
    if (Number(r.liveAssignments) !== expected) {
      problems.push(`role ${r.id} counts ${r.liveAssignments} live assignments, the table holds ${expected}`);
    }
  }
  for (const [roleId, n] of slotsPerRole) {
    if (!of('role').some((r) => r.id === roleId)) problems.push(`${n} live slot(s) of role ${roleId}, which is gone`);
  }

  const { breaks, chains } = verifyEvents(events.map((event) => ({ event, at: `audit ${event.id}` })));
  for (const b of breaks) problems.push(`audit chain ${b.chain}: event ${b.eventId}: ${b.problem}`);
  const heads = new Map(of('auditHead').map((h) => [String(h.chain), h]));
  for (const c of chains) {
    const head = heads.get(c.chain);
    if (!head) problems.push(`audit chain ${c.chain} has no head`);
    else if (Number(head.seq) !== c.lastSeq || head.hash !== c.lastHash) {
      problems.push(`audit chain ${c.chain} ends at seq ${c.lastSeq}, its head says ${head.seq}`);
    }
    if (c.firstSeq !== 1) problems.push(`audit chain ${c.chain} starts at seq ${c.firstSeq}, not 1`);
  }
  return problems;
}

/** Scans the table and returns the broken invariants (see invariantViolations). */
export async function checkInvariants(table: TableRef): Promise<string[]> {
  return invariantViolations(await scanTable(table));
}
