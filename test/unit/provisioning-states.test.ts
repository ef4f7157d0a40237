import { describe, expect, it } from 'vitest';
import {
  endingProvisioning,
  overallStatus,
  plannedTargets,
  pollDelaySeconds,
  presentProvisioning,
  refIdOf,
  targetSettled,
} from '#shared/domain/provisioning.ts';

const PS = 'arn:aws:sso:::permissionSet/ssoins-local/ps-admin';
const NOW = new Date('2026-12-01T10:00:00Z');

describe('provisioning states', () => {
  it('plans every target InProgress, one reference per AWS assignment or membership', () => {
    // Act
    const targets = plannedTargets(
      [
        { type: 'identityCenterAccountAssignment', permissionSetArn: PS },
        { type: 'identityCenterGroupMembership', groupId: 'g-1' },
      ],
      '111111111111',
      'u-1',
      NOW,
    );
    // Assess
    expect(targets.map((t) => [t.status, t.refId])).toEqual([
      ['InProgress', `acct|111111111111|${PS}|u-1`],
      ['InProgress', 'grp|g-1|u-1'],
    ]);
    expect(targets[1]?.accountId).toBeNull();
    expect(refIdOf({ ...targets[0], identityCenterUserId: 'u-2' } as never)).toBe(`acct|111111111111|${PS}|u-2`);
  });

  it('a live grant is Provisioned once every target is there (or kept), Failed when one failed', () => {
    expect(overallStatus([{ status: 'Provisioned' }, { status: 'InProgress' }], true)).toBe('InProgress');
    expect(overallStatus([{ status: 'Provisioned' }, { status: 'Provisioned' }], true)).toBe('Provisioned');
    expect(overallStatus([{ status: 'Provisioned' }, { status: 'Failed' }], true)).toBe('Failed');
    expect(overallStatus([], true)).toBe('NotRequired');
  });

  it('an ended grant is Deprovisioned only when every target is Deprovisioned or Retained', () => {
    expect(overallStatus([{ status: 'Retained' }, { status: 'Deprovisioned' }], false)).toBe('Deprovisioned');
    expect(overallStatus([{ status: 'Retained' }, { status: 'Deprovisioning' }], false)).toBe('Deprovisioning');
    expect(overallStatus([{ status: 'Failed' }, { status: 'Deprovisioned' }], false)).toBe('Failed');
    expect(targetSettled('Retained', false)).toBe(true);
    expect(targetSettled('Provisioned', false)).toBe(false);
    expect(targetSettled('Provisioned', true)).toBe(true);
  });

  it('an ending turns what was there (or on its way) into Deprovisioning, and keeps a failure', () => {
    const targets = plannedTargets([{ type: 'identityCenterAccountAssignment', permissionSetArn: PS }], '1', 'u', NOW);
    const provisioned = {
      status: 'Provisioned' as const,
      requestId: 'r',
      targets: [{ ...targets[0], status: 'Provisioned' as const }],
    };
    // Act
    const ended = endingProvisioning(provisioned as never, NOW);
    // Assess
    expect(ended?.status).toBe('Deprovisioning');
    expect(ended?.targets[0]?.status).toBe('Deprovisioning');
    expect(endingProvisioning(undefined, NOW)).toBeUndefined();
    const failed = { ...provisioned, targets: [{ ...targets[0], status: 'Failed' as const }] };
    expect(endingProvisioning(failed as never, NOW)?.targets[0]?.status).toBe('Failed');
  });

  it('polls every second for the first 15 s, then backs off to 30 s', () => {
    expect([0, 1_000, 5_000, 14_999].map(pollDelaySeconds)).toEqual([1, 1, 1, 1]);
    expect(pollDelaySeconds(15_000)).toBe(2);
    expect(pollDelaySeconds(20_000)).toBe(4);
    expect(pollDelaySeconds(45_000)).toBe(8);
    expect(pollDelaySeconds(600_000)).toBe(30);
  });

  it('shows no operation in flight, and NotRequired when nothing is provisioned', () => {
    const targets = plannedTargets([{ type: 'identityCenterAccountAssignment', permissionSetArn: PS }], '1', 'u', NOW);
    const shown = presentProvisioning({ status: 'InProgress', requestId: 'r', targets });
    expect(Object.keys(shown.targets[0] ?? {}).sort()).toEqual(
      ['accountId', 'failureReason', 'identityCenterUserId', 'permissionSetArn', 'status', 'type', 'updatedAt'].sort(),
    );
    expect(presentProvisioning(undefined)).toEqual({ status: 'NotRequired', targets: [] });
  });
});
