import { describe, expect, it } from 'vitest';
import { conflict, DomainError } from '#shared/domain/errors.ts';
import { classifyCancellation } from '#shared/store/cancellation.ts';
import { AuditHeadMoved, IdempotencyRace, StandingMoved, type WriteOp } from '#shared/store/records.ts';

/** A Put of an item of `entity`, failing its condition with what `onConflict` makes. */
const put = (entity: string, onConflict?: () => Error): WriteOp =>
  ({ Put: { TableName: 't', Item: { pk: entity, sk: entity, entity } }, onConflict }) as unknown as WriteOp;

const head = () => put('auditHead', () => new AuditHeadMoved());
const assignment = () => put('assignment', () => conflict("assignment 'a1' changed while this request ran"));
const idempotency = () => put('idempotency', () => new IdempotencyRace());
const reason = (Code: string) => ({ Code });

/** What a canceled TransactWriteItems means (Store.transact acts on it). */
describe('classifyCancellation', () => {
  it('relinks the audit events when only chain heads failed their condition', () => {
    // Prepare
    const ops = [assignment(), head(), head()];
    // Act
    const c = classifyCancellation([reason('None'), reason('ConditionalCheckFailed'), reason('None')], ops);
    // Assess
    expect(c).toEqual({ kind: 'headMoved' });
  });

  it('refuses with the error the failed op names, a moved head alongside it notwithstanding', () => {
    const c = classifyCancellation(
      [reason('ConditionalCheckFailed'), reason('ConditionalCheckFailed')],
      [assignment(), head()],
    );
    expect(c.kind).toBe('refused');
    expect(c.kind === 'refused' && c.error.message).toBe("assignment 'a1' changed while this request ran");
  });

  it('lets a replayed Idempotency-Key win over every other failed condition', () => {
    const c = classifyCancellation(
      [reason('ConditionalCheckFailed'), reason('ConditionalCheckFailed')],
      [assignment(), idempotency()],
    );
    expect(c.kind === 'refused' && c.error).toBeInstanceOf(IdempotencyRace);
  });

  it('keeps the type of the error an op names (a moved eligibility is planned again by its caller)', () => {
    const standing = put('lastUse', () => new StandingMoved('an activation was made meanwhile'));
    const c = classifyCancellation([reason('ConditionalCheckFailed')], [standing]);
    expect(c.kind === 'refused' && c.error).toBeInstanceOf(StandingMoved);
  });

  it('answers a 409 when the failed op names no error', () => {
    const c = classifyCancellation([reason('ConditionalCheckFailed')], [put('role')]);
    expect(c.kind === 'refused' && c.error).toBeInstanceOf(DomainError);
    expect(c.kind === 'refused' && (c.error as DomainError).code).toBe('Conflict');
  });

  it('retries with backoff a conflict with another transaction, or throttling, on the items of the change', () => {
    for (const code of ['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded']) {
      expect(classifyCancellation([reason(code), reason('None')], [assignment(), head()])).toEqual({ kind: 'busy' });
    }
  });

  it('relinks at once when another transaction met this one on chain heads only', () => {
    const c = classifyCancellation([reason('None'), reason('TransactionConflict')], [assignment(), head()]);
    expect(c).toEqual({ kind: 'headMoved' });
  });

  it('leaves any other reason to the SDK error (a validation error of the request is a bug, not a conflict)', () => {
    expect(classifyCancellation([reason('ValidationError')], [assignment()])).toEqual({ kind: 'other' });
    expect(classifyCancellation([], [])).toEqual({ kind: 'other' });
  });
});
