import { createHash } from 'node:crypto';
import * as z from 'zod';

/** Audit events: one per change or refusal, written in the same transaction as the change. */
export const Actor = z.object({ id: z.string(), type: z.enum(['user', 'system']) });
export type Actor = z.infer<typeof Actor>;

export const SYSTEM_ACTOR: Actor = { id: 'elevate', type: 'system' };

export const AuditTarget = z.object({
  principalId: z.string().nullable(),
  roleId: z.string().nullable(),
  scope: z.string().nullable(),
  assignmentId: z.string().nullable(),
  requestId: z.string().nullable(),
});
export type AuditTarget = z.infer<typeof AuditTarget>;

export const AuditEvent = z.object({
  id: z.string(),
  time: z.string(),
  action: z.string(),
  actor: Actor,
  target: AuditTarget,
  details: z.record(z.string(), z.unknown()),
  hash: z.string(),
  previousHash: z.string().nullable(),
  /** The hash chain the event is linked into (`<yyyy-mm-dd>#<shard>`); set by the store when it is written. */
  chain: z.string().optional(),
  /** Its position in that chain, from 1. */
  seq: z.int().optional(),
});
export type AuditEvent = z.infer<typeof AuditEvent>;

/** JSON with object keys sorted at every level: the same event always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** SHA-256 (hex) of the event's canonical form, without its own hash. */
export function eventHash(event: Omit<AuditEvent, 'hash'>): string {
  return createHash('sha256').update(canonicalJson(event)).digest('hex');
}

export const emptyTarget = (): AuditTarget => ({
  principalId: null,
  roleId: null,
  scope: null,
  assignmentId: null,
  requestId: null,
});
