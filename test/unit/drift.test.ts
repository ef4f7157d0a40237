import { describe, expect, it } from 'vitest';
import { AlertSettings, alertSeverity, defaultAlertSettings, withDefaults } from '#shared/domain/alerts.ts';
import { backedKeys, backsNow, DRIFT_GRACE_MS, recordedKeys, refBacks } from '#shared/domain/drift.ts';
import type { ProvisionedTarget } from '#shared/domain/provisioning.ts';

const PS = 'arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef';
const now = new Date('2026-12-01T12:00:00Z');
const at = (ms: number) => new Date(now.getTime() + ms).toISOString();

describe('what a grant backs (drift)', () => {
  it('is its targets for the user, the account assignment in the account its scope names', () => {
    const targets = [
      { type: 'identityCenterAccountAssignment' as const, permissionSetArn: PS },
      { type: 'identityCenterGroupMembership' as const, groupId: 'g-1' },
    ];
    expect(backedKeys(targets, '/accounts/111111111111/regions/eu-west-1', 'u-1')).toEqual([
      `ps|${PS}|111111111111|u-1`,
      'group|g-1|u-1',
    ]);
    // No account in the scope: no account assignment is backed (such a grant is never provisioned).
    expect(backedKeys(targets, '/', 'u-1')).toEqual(['group|g-1|u-1']);
  });

  it.each([
    ['an active assignment in force', { status: 'Active', endDateTime: at(3_600_000) }, true],
    ['a permanent active assignment', { status: 'Active', endDateTime: null }, true],
    [
      'one that expired within the grace (its deletion is in flight)',
      { status: 'Active', endDateTime: at(-60_000) },
      true,
    ],
    ['one that expired past the grace', { status: 'Active', endDateTime: at(-DRIFT_GRACE_MS - 1) }, false],
    ['one revoked within the grace', { status: 'Revoked', endDateTime: at(-1), updatedAt: at(-60_000) }, true],
    ['one revoked past the grace', { status: 'Revoked', endDateTime: null, updatedAt: at(-DRIFT_GRACE_MS - 1) }, false],
    [
      'one scheduled, not started',
      { status: 'Scheduled', startDateTime: at(60_000), endDateTime: at(3_600_000) },
      false,
    ],
  ])('%s: %s', (_what, fields, expected) => {
    const a = {
      assignmentType: 'active' as const,
      startDateTime: at(-3_600_000),
      updatedAt: at(-3_600_000),
      ...fields,
    } as Parameters<typeof backsNow>[0];
    expect(backsNow(a, now)).toBe(expected);
  });

  it('never counts an eligibility: it grants nothing in AWS', () => {
    expect(
      backsNow(
        { assignmentType: 'eligible', status: 'Active', startDateTime: at(-1), endDateTime: null, updatedAt: at(-1) },
        now,
      ),
    ).toBe(false);
  });
});

describe('what a grant provisioned (drift judges by it, not by its role now)', () => {
  const target = (fields: Partial<ProvisionedTarget>): ProvisionedTarget => ({
    type: 'identityCenterAccountAssignment',
    permissionSetArn: PS,
    accountId: '111111111111',
    identityCenterUserId: 'u-1',
    status: 'Provisioned',
    failureReason: null,
    updatedAt: at(0),
    refId: 'r',
    operationId: null,
    operationStartedAt: null,
    ...fields,
  });

  it('is every recorded target but those whose removal AWS confirmed', () => {
    const targets = [
      target({ status: 'Deprovisioning' }),
      target({ accountId: '222222222222', status: 'Deprovisioned' }),
      target({ type: 'identityCenterGroupMembership', permissionSetArn: undefined, groupId: 'g-1', accountId: null }),
    ];
    expect(recordedKeys(targets)).toEqual([`ps|${PS}|111111111111|u-1`, 'group|g-1|u-1']);
  });

  it.each([
    ['no reference item', undefined, false],
    ['held by a grant', { holders: new Set(['asg-1']), state: 'present' as const }, true],
    ['being created or deleted by Elevate', { state: 'deleting' as const }, true],
    ['present, nobody holding it', { state: 'present' as const }, false],
    ['there before Elevate, nobody holding it', { holders: new Set<string>(), state: 'present' as const }, false],
  ])('a reference item %s backs it: %s', (_what, ref, expected) => {
    expect(refBacks(ref)).toBe(expected);
  });
});

describe('alert settings of drift and the fence', () => {
  it('default assignedOutsideElevate to alert, and raise both new types high', () => {
    const settings = defaultAlertSettings();
    expect(settings.assignedOutsideElevate).toEqual({ enabled: true, mode: 'alert' });
    expect(alertSeverity(settings, 'assignedOutsideElevate')).toBe('high');
    expect(alertSeverity(settings, 'sessionFenceFailed')).toBe('high');
    expect(alertSeverity(settings, 'staleEligibility')).toBe('low');
  });

  it('keep settings saved before assignedOutsideElevate existed, with its default', () => {
    // Prepare: an admin's settings from before, with a changed threshold.
    const { assignedOutsideElevate: _new, ...old } = defaultAlertSettings();
    const saved = { ...old, tooManyPermanentAssignments: { enabled: true, severity: 'high', threshold: 7 } };
    // Act
    const parsed = AlertSettings.safeParse(withDefaults(saved));
    // Assess
    expect(parsed.success).toBe(true);
    expect(parsed.data?.tooManyPermanentAssignments.threshold).toBe(7);
    expect(parsed.data?.assignedOutsideElevate).toEqual({ enabled: true, mode: 'alert' });
  });

  it.each([
    ['an unknown mode', { enabled: true, mode: 'delete' }],
    ['an unknown field', { enabled: true, mode: 'remove', dryRun: true }],
    ['no enabled', { mode: 'remove' }],
  ])('refuse %s', (_what, value) => {
    expect(AlertSettings.safeParse({ ...defaultAlertSettings(), assignedOutsideElevate: value }).success).toBe(false);
  });
});
