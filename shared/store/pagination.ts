import { createHash } from 'node:crypto';
import { invalid } from '../domain/errors.ts';

/**
 * Opaque list cursors. A token carries which partition of a (possibly multi-partition) query it is in
 * and where in it, plus a fingerprint of the query, and is checked on the way back in against the query it
 * claims to continue: a token from another query, one whose key is not a start key of that query's part
 * (another partition, another index's attributes, a missing or extra attribute, a sort key outside the part's
 * range, an empty or oversized value), or one that does not decode at all, is a 400, never a read elsewhere and
 * never a DynamoDB ValidationException (a 500).
 */
export type Key = Record<string, string>;

interface Cursor {
  v: 1;
  q: string;
  p: number;
  /** null: the start of partition p. */
  k: Key | null;
}

/** What a start key of one part of a query must be: exactly these attributes, in this partition and range. */
export interface PartBounds {
  /** Every key attribute of a start key: the table's pk and sk, plus the index's for a query of an index. */
  readonly attrs: readonly string[];
  readonly partitionAttr: string;
  readonly partition: string;
  readonly sortAttr: string;
  readonly beginsWith?: string;
  readonly between?: readonly [string, string];
}

/** A token is base64url of a small JSON document (contract: at most 4096 characters). */
const TOKEN = /^[A-Za-z0-9_-]{1,4096}$/;
/** DynamoDB's limits on key values, in UTF-8 bytes: 2048 for a partition key, 1024 for a sort key. */
const MAX_KEY_BYTES = 1024;

export const queryFingerprint = (query: unknown): string =>
  createHash('sha256').update(JSON.stringify(query)).digest('base64url').slice(0, 16);

export function encodeCursor(query: string, part: number, key: Key | null): string {
  const cursor: Cursor = { v: 1, q: query, p: part, k: key };
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** DynamoDB orders string keys by their UTF-8 bytes (not JavaScript's UTF-16 order). */
const compareBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** Whether a sort key value lies in the part's key condition (a start key outside it is refused by DynamoDB). */
function inRange(value: string, bounds: PartBounds): boolean {
  if (bounds.beginsWith !== undefined) return value.startsWith(bounds.beginsWith);
  if (bounds.between) return compareBytes(value, bounds.between[0]) >= 0 && compareBytes(value, bounds.between[1]) <= 0;
  return true;
}

/**
 * The part and start key a token continues from, checked against `partOf` (the bounds of each part of the
 * query, undefined past its last part). Anything else is a 400 ValidationFailed on `nextToken`.
 */
export function decodeCursor(
  token: string,
  query: string,
  partOf: (part: number) => PartBounds | undefined,
): { part: number; key: Key | null } {
  const bad = () => invalid('nextToken is not a token this list gave out', [{ path: 'nextToken', message: 'invalid' }]);
  if (!TOKEN.test(token)) throw bad();
  let cursor: unknown;
  try {
    cursor = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (typeof cursor !== 'object' || cursor === null || Array.isArray(cursor)) throw bad();
  const c = cursor as Partial<Cursor>;
  if (Object.keys(c).sort().join() !== 'k,p,q,v' || c.v !== 1 || c.q !== query) throw bad();
  if (!Number.isSafeInteger(c.p) || (c.p as number) < 0) throw bad();
  const part = c.p as number;
  const bounds = partOf(part);
  if (!bounds) throw bad();
  if (c.k === null) return { part, key: null };
  if (typeof c.k !== 'object' || c.k === undefined || Array.isArray(c.k)) throw bad();
  const key = c.k as Record<string, unknown>;
  const names = Object.keys(key);
  if (names.length !== bounds.attrs.length || !bounds.attrs.every((a) => Object.hasOwn(key, a))) throw bad();
  for (const name of names) {
    const value = key[name];
    if (typeof value !== 'string' || value === '' || Buffer.byteLength(value, 'utf8') > MAX_KEY_BYTES) throw bad();
  }
  if (key[bounds.partitionAttr] !== bounds.partition) throw bad();
  if (!inRange(key[bounds.sortAttr] as string, bounds)) throw bad();
  return { part, key: key as Key };
}
