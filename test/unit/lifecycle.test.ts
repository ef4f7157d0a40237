import { describe, expect, it } from 'vitest';
import { effectiveStatus, inForce, reminderDue } from '#shared/domain/assignment.ts';
import { canTransition, isFinal } from '#shared/domain/request.ts';

const at = (iso: string) => new Date(iso);

describe('assignment status as of now', () => {
  const a = {
    status: 'Active' as const,
    startDateTime: '2026-11-26T10:00:00.000Z',
    endDateTime: '2026-11-26T18:00:00.000Z',
  };

  it('is Scheduled before its start, Active in its window, and Expired at its end without anyone acting', () => {
    expect(effectiveStatus({ ...a, status: 'Scheduled' }, at('2026-11-26T09:59:59Z'))).toBe('Scheduled');
    expect(effectiveStatus({ ...a, status: 'Scheduled' }, at('2026-11-26T10:00:00Z'))).toBe('Active');
    expect(effectiveStatus(a, at('2026-11-26T17:59:59.999Z'))).toBe('Active');
    expect(effectiveStatus(a, at('2026-11-26T18:00:00Z'))).toBe('Expired');
  });

  it('never brings a revoked assignment back', () => {
    expect(effectiveStatus({ ...a, status: 'Revoked' }, at('2026-11-26T12:00:00Z'))).toBe('Revoked');
    expect(inForce({ ...a, status: 'Revoked' }, at('2026-11-26T12:00:00Z'))).toBe(false);
  });

  it('keeps a permanent assignment in force', () => {
    expect(inForce({ ...a, endDateTime: null }, at('2099-01-01T00:00:00Z'))).toBe(true);
  });
});

describe('request status transitions', () => {
  it('lets a pending request be decided, canceled or timed out', () => {
    for (const to of ['Granted', 'Scheduled', 'Denied', 'Canceled', 'TimedOut', 'Failed'] as const) {
      expect(canTransition('PendingApproval', to)).toBe(true);
    }
  });

  it('never leaves a final status', () => {
    for (const from of ['Denied', 'Canceled', 'TimedOut', 'Revoked', 'Failed'] as const) {
      expect(isFinal(from)).toBe(true);
      expect(canTransition(from, 'Granted')).toBe(false);
    }
  });

  it('does not go back to pending', () => {
    expect(canTransition('Granted', 'PendingApproval')).toBe(false);
    expect(canTransition('Scheduled', 'Granted')).toBe(true);
  });
});

describe('reminders before the end', () => {
  const start = '2026-11-26T00:00:00.000Z';
  const end = '2026-11-28T00:00:00.000Z';

  it('reminds a day before and an hour before the end of an assignment that lasts longer than that', () => {
    expect(reminderDue({ startDateTime: start, endDateTime: end }, at('2026-11-26T23:59:59Z'))).toBeUndefined();
    expect(reminderDue({ startDateTime: start, endDateTime: end }, at('2026-11-27T00:00:00Z'))).toBe('1d');
    expect(reminderDue({ startDateTime: start, endDateTime: end }, at('2026-11-27T23:00:00Z'))).toBe('1h');
  });

  it('gives no notice longer than the assignment itself, and none to a permanent one', () => {
    const short = { startDateTime: '2026-11-27T23:30:00.000Z', endDateTime: end };
    expect(reminderDue(short, at('2026-11-27T23:45:00Z'))).toBeUndefined();
    const hours = { startDateTime: '2026-11-27T20:00:00.000Z', endDateTime: end };
    expect(reminderDue(hours, at('2026-11-27T23:30:00Z'))).toBe('1h');
    expect(reminderDue(hours, at('2026-11-27T21:00:00Z'))).toBeUndefined();
    expect(reminderDue({ startDateTime: start, endDateTime: null }, at('2026-11-27T23:30:00Z'))).toBeUndefined();
  });
});
