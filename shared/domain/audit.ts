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

/** The action of a request's own event: a request created on its own, to be decided or started later. */
export const REQUEST_CREATED = 'request.created';

/** What a change records of itself before it is stamped (id, time, actor, hash: `auditEvent`). */
export interface AuditDraft {
  action: string;
  target: Partial<AuditTarget>;
  details: Record<string, unknown>;
}

/** A request a change creates: the target its event names (its id as `requestId`) and the request as recorded. */
export interface CreatedRequest {
  target: Partial<AuditTarget> & { requestId: string };
  request: unknown;
}

/**
 * The one audit event of a change that creates a request (api.md: one event per change, issue 18 cut 3). A request
 * carried out in the same change (an activation without approval, an assignment, a removal, a deactivation, ...) is
 * recorded in the change's own event (`change`): its `details.request` and its `target.requestId`, no event of its
 * own. A request created on its own (it waits for an approval or its start: no `change`) is `request.created`.
 */
export function eventOfChange(created: CreatedRequest, change?: AuditDraft): AuditDraft {
  if (!change) return { action: REQUEST_CREATED, target: created.target, details: { request: created.request } };
  if (Object.hasOwn(change.details, 'request')) {
    throw new Error(`the event ${change.action} already records a request: the change creates one`);
  }
  return {
    action: change.action,
    target: { ...created.target, ...change.target, requestId: created.target.requestId },
    details: { ...change.details, request: created.request },
  };
}
