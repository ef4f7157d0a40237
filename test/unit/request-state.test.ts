import { describe, expect, it } from 'vitest';
import { DomainError } from '#shared/domain/errors.ts';
import {
  canTransition,
  checkActor,
  checkCancel,
  checkInitialStatus,
  holdsPending,
  IllegalTransition,
  isFinal,
  RequestAction,
  RequestStatus,
  transition,
} from '#shared/domain/request.ts';

const now = new Date('2026-11-26T10:00:00Z');

/** Every edge of the request state machine, written out: any other pair is refused. */
const ALLOWED: ReadonlyArray<readonly [RequestStatus, RequestStatus]> = [
  ['PendingApproval', 'Provisioning'],
  ['PendingApproval', 'Granted'],
  ['PendingApproval', 'Scheduled'],
  ['PendingApproval', 'Denied'],
  ['PendingApproval', 'Canceled'],
  ['PendingApproval', 'TimedOut'],
  ['PendingApproval', 'Failed'],
  ['Scheduled', 'Provisioning'],
  ['Scheduled', 'Granted'],
  ['Scheduled', 'Canceled'],
  ['Scheduled', 'Revoked'],
  ['Scheduled', 'Failed'],
  ['Provisioning', 'Granted'],
  ['Provisioning', 'Failed'],
  ['Provisioning', 'Revoked'],
  ['Granted', 'Revoked'],
];
const allowed = new Set(ALLOWED.map(([from, to]) => `${from}>${to}`));
const pairs = RequestStatus.options.flatMap((from) => RequestStatus.options.map((to) => [from, to] as const));

const request = (status: RequestStatus, decidedAt: string | null = null) => ({ id: 'req_1', status, decidedAt });

describe('the request state machine', () => {
  it.each(pairs.filter(([f, t]) => allowed.has(`${f}>${t}`)))('moves a request from %s to %s', (from, to) => {
    // Prepare
    const r = { ...request(from), other: 'kept' };
    // Act
    const moved = transition(r, to, now);
    // Assess
    expect(moved).toEqual({ id: 'req_1', status: to, decidedAt: now.toISOString(), other: 'kept' });
    expect(canTransition(from, to)).toBe(true);
  });

  it.each(pairs.filter(([f, t]) => !allowed.has(`${f}>${t}`)))(
    'refuses to move a request from %s to %s',
    (from, to) => {
      // Act
      const act = () => transition(request(from), to, now);
      // Assess
      expect(act).toThrow(IllegalTransition);
      expect(act).toThrow(`request 'req_1' is ${from} and cannot become ${to}`);
      expect(canTransition(from, to)).toBe(false);
    },
  );

  it('refuses an illegal transition as a 409 Conflict, which callers treat as the request having moved on', () => {
    try {
      transition(request('Denied'), 'Granted', now);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ code: 'Conflict', status: 409, from: 'Denied', to: 'Granted' });
    }
  });

  it('keeps the moment a request was first decided', () => {
    const decided = transition(request('Scheduled', '2026-11-26T09:00:00.000Z'), 'Granted', now);
    expect(decided.decidedAt).toBe('2026-11-26T09:00:00.000Z');
  });

  it('does not change the request it is given', () => {
    const r = request('PendingApproval');
    transition(r, 'Denied', now);
    expect(r).toEqual(request('PendingApproval'));
  });

  it('calls final exactly the statuses with no way out', () => {
    const final = RequestStatus.options.filter(isFinal);
    expect(final).toEqual(['Denied', 'Canceled', 'TimedOut', 'Revoked', 'Failed']);
  });

  it('creates a request waiting or carried out, never provisioning or already ended otherwise', () => {
    for (const s of ['PendingApproval', 'Scheduled', 'Granted', 'Revoked'] as const) {
      expect(() => checkInitialStatus(s)).not.toThrow();
    }
    for (const s of ['Provisioning', 'Denied', 'Canceled', 'TimedOut', 'Failed'] as const) {
      expect(() => checkInitialStatus(s)).toThrow(DomainError);
    }
  });
});

describe('who a request acts on', () => {
  it('requires an admin action to name its principal', () => {
    expect(() => checkActor('adminAssign', { principalId: undefined, principalType: 'user' }, 'alice')).toThrow(
      expect.objectContaining({ code: 'ValidationFailed', errors: [{ path: 'principalId', message: 'required' }] }),
    );
    expect(() => checkActor('adminAssign', { principalId: 'bob', principalType: 'group' }, 'alice')).not.toThrow();
  });

  it("refuses a self action on someone else's assignment, and on a group or service principal", () => {
    expect(() => checkActor('selfActivate', { principalId: 'bob', principalType: 'user' }, 'alice')).toThrow(
      expect.objectContaining({ code: 'Forbidden' }),
    );
    expect(() => checkActor('selfActivate', { principalId: undefined, principalType: 'group' }, 'alice')).toThrow(
      expect.objectContaining({ code: 'InvalidPrincipalType' }),
    );
    expect(() => checkActor('selfActivate', { principalId: 'alice', principalType: 'user' }, 'alice')).not.toThrow();
  });

  it('holds the pending marker for every self action but a deactivation, and for no admin action', () => {
    const holding = RequestAction.options.filter(holdsPending);
    expect(holding).toEqual(['selfActivate', 'selfExtend', 'selfRenew']);
  });
});

describe('canceling a request', () => {
  const waiting = { status: 'PendingApproval' as const, createdBy: 'alice', action: 'selfActivate' as const };

  it('lets only the requester cancel', () => {
    expect(() => checkCancel(waiting, 'bob')).toThrow(expect.objectContaining({ code: 'Forbidden' }));
    expect(() => checkCancel(waiting, 'alice')).not.toThrow();
  });

  it('cancels a request waiting for a decision, or a self request waiting for its start, and nothing else', () => {
    expect(() => checkCancel({ ...waiting, status: 'Scheduled' }, 'alice')).not.toThrow();
    expect(() => checkCancel({ ...waiting, status: 'Scheduled', action: 'adminAssign' }, 'alice')).toThrow(
      expect.objectContaining({ code: 'Conflict' }),
    );
    for (const status of ['Granted', 'Provisioning', 'Denied', 'Canceled'] as const) {
      expect(() => checkCancel({ ...waiting, status }, 'alice')).toThrow(
        `the request is ${status}; only a pending request can be canceled`,
      );
    }
  });
});
