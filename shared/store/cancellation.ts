import { conflict, DomainError } from '../domain/errors.ts';
import { THROTTLING_CODES } from '../retry.ts';
import { auditHead } from './entities.ts';
import { AuditHeadMoved, IdempotencyRace, type WriteOp } from './records.ts';

/** One reason of a canceled TransactWriteItems, as DynamoDB gives it (`CancellationReasons[i].Code`). */
export interface CancellationReason {
  Code?: string | undefined;
}

/**
 * What a canceled transaction means, from its reasons (one per item, in the order of `writeOps`):
 * - `headMoved`: only audit chain heads failed their condition (another change took the next seq first), or only
 *   they met another transaction: link the events again, from the heads as they are now, and retry;
 * - `refused`: a condition of the change itself failed: `error` is what the op that failed names (a replayed
 *   Idempotency-Key first: it explains every other failed condition), or a 409;
 * - `busy`: the change met another transaction in flight on the same items, or was throttled: retry with backoff;
 * - `other`: none of these (a validation error of the request): the SDK's error stands.
 */
export type Cancellation =
  | { kind: 'headMoved' }
  | { kind: 'refused'; error: Error }
  | { kind: 'busy' }
  | { kind: 'other' };

const BUSY_CODES = new Set(['TransactionConflict', ...THROTTLING_CODES]);

export function classifyCancellation(
  reasons: readonly CancellationReason[],
  writeOps: readonly (WriteOp | undefined)[],
): Cancellation {
  const failures = reasons.flatMap((r, i) =>
    r.Code === 'ConditionalCheckFailed' ? [writeOps[i]?.onConflict?.() as Error | undefined] : [],
  );
  if (failures.length > 0) {
    if (failures.every((e) => e instanceof AuditHeadMoved)) return { kind: 'headMoved' };
    const real = failures.filter((e) => !(e instanceof AuditHeadMoved));
    return {
      kind: 'refused',
      error:
        real.find((e) => e instanceof IdempotencyRace) ??
        real[0] ??
        conflict('the change conflicts with the current state; read it again and retry'),
    };
  }
  if (!reasons.some((r) => BUSY_CODES.has(r.Code ?? ''))) return { kind: 'other' };
  // Two changes met on one chain head only: not a conflict of the change itself.
  if (reasons.every((r, i) => r.Code === 'None' || isAuditHead(writeOps[i]))) return { kind: 'headMoved' };
  return { kind: 'busy' };
}

const isAuditHead = (op: WriteOp | undefined): boolean =>
  op !== undefined && 'Put' in op && op.Put.Item.entity === auditHead.name;

/** Only audit chain heads moved (see headMoved): retried at once; a 409 when they keep moving. */
export class ChainHeadsMoved extends DomainError {
  constructor() {
    super('Conflict', 'the audit chain was busy; retry');
  }
}

/** Another transaction was in flight on the same items, or DynamoDB throttled: retried; a 409 when it lasts. */
export class ItemsBusy extends DomainError {
  constructor() {
    super('Conflict', 'another change to the same items was in progress; retry');
  }
}
