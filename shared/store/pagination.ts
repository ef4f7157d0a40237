import { createHash } from 'node:crypto';
import { invalid } from '../domain/errors.ts';

/**
 * Opaque list cursors. A token carries which partition of a (possibly multi-partition) query it is in
 * and where in it, plus a fingerprint of the query, and is checked on the way back in: a token from
 * another query, or one whose key points into another partition, is a 400, never a read elsewhere.
 */
export type Key = Record<string, string>;

interface Cursor {
  v: 1;
  q: string;
  p: number;
  /** null: the start of partition p. */
  k: Key | null;
}

export const queryFingerprint = (query: unknown): string =>
  createHash('sha256').update(JSON.stringify(query)).digest('base64url').slice(0, 16);

export function encodeCursor(query: string, part: number, key: Key | null): string {
  const cursor: Cursor = { v: 1, q: query, p: part, k: key };
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

export function decodeCursor(token: string, query: string): { part: number; key: Key | null } {
  const bad = () => invalid('nextToken is not a token this list gave out', [{ path: 'nextToken', message: 'invalid' }]);
  let cursor: unknown;
  try {
    cursor = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (typeof cursor !== 'object' || cursor === null) throw bad();
  const c = cursor as Partial<Cursor>;
  if (c.v !== 1 || c.q !== query || !Number.isInteger(c.p) || typeof c.k !== 'object') throw bad();
  if (c.k === null) return { part: c.p as number, key: null };
  const entries = Object.entries(c.k);
  if (entries.length === 0 || entries.length > 4 || entries.some(([, v]) => typeof v !== 'string')) throw bad();
  return { part: c.p as number, key: c.k as Key };
}
