import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Actor, AuditEvent, AuditTarget } from '../domain/audit.ts';
import { CorruptItem, type Item, keyFields, type Pattern } from './keyspace.ts';

/**
 * The stored form of an audit event (issue 18: an event over 1 KB bills twice, in the table and in each of its
 * three indexes). The event is what is hashed and what every reader gets back (`stored.audit.fromItem`); the item
 * holds it without repeating what its keys already say, and packs the rest:
 *
 * - `id` and `time` are the sort key (`<time>#<id>`), `chain` the partition (`AUDIT#<chain>`): not stored again;
 * - `actor` is its type only (`user`, `system`): its id is the byActor index's partition (`AUDITA#<id>`);
 * - `target` holds only what no key holds and is not null (the principal and the role are the byPrincipal and
 *   byRole partitions when set); absent when nothing is left;
 * - `hash` and `previousHash` are binary (32 bytes instead of 64 hex characters); `previousHash` is absent when null;
 * - `details` is a map as before, or `detailsZ`, its JSON compressed (raw deflate with a preset dictionary), when
 *   that is smaller.
 *
 * Items written before (every attribute of the event, `time` among them) are read as they are. A lifecycle marker
 * (`PUBLISH_ATTR`) may sit beside: it is no part of the event, never hashed, never read back here.
 */

/**
 * The marker of an audit item that is also one or more lifecycle events: their detail-types, a string set (one
 * change, one audit event, e.g. a request created and its activation: issue 18 cut 3); a string (one detail-type)
 * on items marked before.
 */
export const PUBLISH_ATTR = 'publish';

/** What `details` may be compressed to; kept as a map when the compressed form is not smaller. */
const DETAILS_Z = 'detailsZ';

/**
 * The preset dictionary `detailsZ` is deflated with: the JSON of the details most events carry (an assignment, a
 * request), whose field names and usual values deflate then finds already seen (an activation's request: 623 B of
 * JSON, 356 B deflated alone, 142 B with it). FROZEN: every stored `detailsZ` needs exactly these bytes to be read
 * (test/unit/audit-item.test.ts pins their hash); another dictionary would be another attribute.
 */
const DETAILS_DICTIONARY = Buffer.from(
  '{"assignment":{"id":"asg_","principalId":"","principalType":"user","roleId":"","scope":"/","assignmentType":' +
    '"active","origin":"activated","status":"Active","startDateTime":"","endDateTime":null,"requestId":"req_",' +
    '"eligibilityId":"asg_","extensions":0,"justification":null,"createdAt":"","updatedAt":"","version":1,' +
    '"provisioning":{"status":"InProgress","targets":[]}},"before":{},"after":{},"change":{"id":"chg_",' +
    '"approvedBy":""}{"request":{"id":"req_","action":"selfActivate","status":"Granted","assignmentType":"eligible",' +
    '"principalId":"","principalType":"group","roleId":"","scope":"/","policyScope":"/","justification":null,' +
    '"ticket":null,"schedule":{"startDateTime":"","expiration":{"type":"afterDuration","endDateTime":null,' +
    '"duration":"PT1H"}},"createdBy":"","createdAt":"","decidedAt":null,"assignmentId":"asg_","approval":' +
    '{"stages":[]},"eligibilityId":"asg_","failureReason":null}}',
  'utf8',
);

/** The dictionary's SHA-256 (hex), for the test that keeps it frozen. */
export const DETAILS_DICTIONARY_SHA256 = (): string => createHash('sha256').update(DETAILS_DICTIONARY).digest('hex');

const TARGET_FIELDS = ['principalId', 'roleId', 'scope', 'assignmentId', 'requestId'] as const;

/** The patterns of the audit entity the stored form reads fields back from. */
export interface AuditPatterns {
  readonly primary: Pattern<never>;
  readonly byPrincipal: Pattern<never>;
  readonly byActor: Pattern<never>;
  readonly byRole: Pattern<never>;
}

const hexToBytes = (hex: string): Uint8Array | string => (/^[0-9a-f]{64}$/.test(hex) ? Buffer.from(hex, 'hex') : hex);

/** Binary as the document client gives it (Uint8Array) or as a stream record's JSON does (base64). */
function bytesOf(v: unknown, what: string): Buffer {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === 'string') return Buffer.from(v, 'base64');
  throw new CorruptItem(`audit item: '${what}' is not binary`);
}

/**
 * A hash as stored: binary (a stream record's JSON gives it base64: 44 characters ending `=`, which no hex hash is),
 * or text when it was no SHA-256 hex (never so from the store; a test's sample).
 */
const hashOf = (v: unknown, what: string): string =>
  typeof v === 'string' && !/^[A-Za-z0-9+/]{43}=$/.test(v) ? v : bytesOf(v, what).toString('hex');

/** The attributes of an audit event's item beside its keys (see above). */
export function encodeAudit(e: AuditEvent): Item {
  const target: Partial<AuditTarget> = {};
  for (const f of TARGET_FIELDS) {
    const v = e.target[f];
    // The principal and the role are keys of their indexes when set (`when` of byPrincipal and byRole: truthy).
    if (v === null || ((f === 'principalId' || f === 'roleId') && v)) continue;
    target[f] = v;
  }
  const out: Item = { action: e.action, actor: e.actor.type };
  if (Object.keys(target).length > 0) out.target = target;
  if (e.seq !== undefined) out.seq = e.seq;
  out.hash = hexToBytes(e.hash);
  if (e.previousHash !== null) out.previousHash = hexToBytes(e.previousHash);
  const json = JSON.stringify(e.details);
  const packed = deflateRawSync(json, { level: 9, dictionary: DETAILS_DICTIONARY });
  if (packed.length < Buffer.byteLength(json)) out[DETAILS_Z] = packed;
  else out.details = e.details;
  return out;
}

/** The event of an audit item: of the stored form above, or of one written before it (every attribute). */
export function decodeAudit(patterns: AuditPatterns, attrs: Item, item: Item): AuditEvent {
  if (typeof attrs.time === 'string') {
    // Written before the compact form: the event's own attributes.
    const { [PUBLISH_ATTR]: _marker, ...event } = attrs;
    return event as AuditEvent;
  }
  const primary = keyFields(patterns.primary, item);
  const byActor = keyFields(patterns.byActor, item);
  if (!primary?.time || !primary.id || !primary.chain || !byActor) {
    throw new CorruptItem(`audit item ${String(item.pk)}/${String(item.sk)}: its keys do not hold the event`);
  }
  const stored = (attrs.target ?? {}) as Partial<AuditTarget>;
  const target = {} as AuditTarget;
  target.principalId = keyFields(patterns.byPrincipal, item)?.principalId ?? stored.principalId ?? null;
  target.roleId = keyFields(patterns.byRole, item)?.roleId ?? stored.roleId ?? null;
  for (const f of ['scope', 'assignmentId', 'requestId'] as const) target[f] = stored[f] ?? null;
  const details =
    attrs[DETAILS_Z] !== undefined
      ? (JSON.parse(
          inflateRawSync(bytesOf(attrs[DETAILS_Z], DETAILS_Z), { dictionary: DETAILS_DICTIONARY }).toString('utf8'),
        ) as Record<string, unknown>)
      : ((attrs.details ?? {}) as Record<string, unknown>);
  const event: AuditEvent = {
    id: primary.id,
    time: primary.time,
    action: attrs.action as string,
    actor: { id: byActor.actorId as string, type: attrs.actor as Actor['type'] },
    target,
    details,
    hash: hashOf(attrs.hash, 'hash'),
    previousHash: attrs.previousHash === undefined ? null : hashOf(attrs.previousHash, 'previousHash'),
    chain: primary.chain,
  };
  if (attrs.seq !== undefined) event.seq = Number(attrs.seq);
  return event;
}

/**
 * The lifecycle events an audit event may also be (issue 18: no outbox item of its own), by detail-type: the
 * event's detail as derived from the audit event. `elevate.request.created` is `{ request }` of the audit event's
 * details; `elevate.assignment.activated` is `{ assignment, requestId }`, the assignment of its details (`after`
 * of a scheduled start) and the request of its target; `elevate.assignment.expired` and `.revoked` are
 * `{ assignment }` of its details (the ended assignment). An audit event is marked (`PUBLISH_ATTR`) only when the
 * derived detail is the detail the change publishes (`ops.audit` checks it), so a `request.created` without a
 * request (bootstrap's, a system request's) is never one. The key order is the order one event's are published in.
 */
export const LIFECYCLE_OF_AUDIT = {
  'elevate.request.created': (e: AuditEvent) => ({ request: e.details.request }),
  'elevate.assignment.activated': (e: AuditEvent) => ({
    assignment: e.details.assignment ?? e.details.after,
    requestId: e.target.requestId,
  }),
  'elevate.assignment.expired': (e: AuditEvent) => ({ assignment: e.details.assignment }),
  'elevate.assignment.revoked': (e: AuditEvent) => ({ assignment: e.details.assignment }),
} as const satisfies Record<string, (e: AuditEvent) => Record<string, unknown>>;

/** The detail-types an audit event can carry (the stream filter's values of `PUBLISH_ATTR`). */
export const DERIVED_LIFECYCLE_TYPES = Object.keys(LIFECYCLE_OF_AUDIT) as (keyof typeof LIFECYCLE_OF_AUDIT)[];

/** The detail of lifecycle event `type` derived from an audit event, or undefined when `type` is not derivable. */
export function lifecycleDetailOf(e: AuditEvent, type: string): Record<string, unknown> | undefined {
  if (!Object.hasOwn(LIFECYCLE_OF_AUDIT, type)) return undefined;
  return LIFECYCLE_OF_AUDIT[type as keyof typeof LIFECYCLE_OF_AUDIT](e);
}

/** The marker of an item publishing these detail-types (a string set, `PUBLISH_ATTR`). */
export const publishMarker = (types: readonly string[]): Set<string> => new Set(types);

/**
 * The detail-types an item's marker names, in `LIFECYCLE_OF_AUDIT`'s order (a set has none), the ones derivable
 * only: a string set as the document client reads it (a Set) or a stream record's JSON gives it (an array), or the
 * string of an item marked before. Empty when unmarked.
 */
export function markedTypes(marker: unknown): string[] {
  const named =
    typeof marker === 'string'
      ? [marker]
      : marker instanceof Set || Array.isArray(marker)
        ? [...marker].filter((t): t is string => typeof t === 'string')
        : [];
  return DERIVED_LIFECYCLE_TYPES.filter((t) => named.includes(t));
}
