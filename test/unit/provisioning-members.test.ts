import { describe, expect, it } from 'vitest';
import {
  endingProvisioning,
  failedMember,
  holdsByRef,
  joinedProvisioning,
  memberHolder,
  memberTargets,
  overallStatus,
  type Provisioning,
  presentProvisioning,
  releasedProvisioning,
  targetWanted,
} from '#shared/domain/provisioning.ts';

const PS = 'arn:aws:sso:::permissionSet/ssoins-local/ps-admin';
const NOW = new Date('2026-12-01T10:00:00Z');
const LATER = new Date('2026-12-01T11:00:00Z');
const TEMPLATE = {
  targets: [
    { type: 'identityCenterAccountAssignment' as const, permissionSetArn: PS },
    { type: 'identityCenterGroupMembership' as const, groupId: 'g-1' },
  ],
  accountId: '111111111111',
};
const ANN = { principalId: 'ann', membershipId: 'asg_ann', identityCenterUserId: 'u-ann' };
const BEN = { principalId: 'ben', membershipId: 'asg_ben', identityCenterUserId: 'u-ben' };

/** A live group-held grant provisioned for ann. */
function grantForAnn(): Provisioning {
  const targets = memberTargets(TEMPLATE, 'asg_g', ANN, NOW).map((t) => ({ ...t, status: 'Provisioned' as const }));
  return { status: 'Provisioned', targets, requestId: 'req_g', members: TEMPLATE };
}

describe('a grant held by a group, per member', () => {
  it("records each member's targets with the member, held by that membership", () => {
    // Act
    const targets = memberTargets(TEMPLATE, 'asg_g', ANN, NOW);
    // Assess
    expect(targets.map((t) => [t.refId, t.principalId, t.holderId, t.status])).toEqual([
      [`acct|111111111111|${PS}|u-ann`, 'ann', 'asg_g:asg_ann', 'InProgress'],
      ['grp|g-1|u-ann', 'ann', 'asg_g:asg_ann', 'InProgress'],
    ]);
    expect(memberHolder('asg_g', 'asg_ann')).toBe('asg_g:asg_ann');
  });

  it('holds each reference once per transaction, with every holder of it', () => {
    // Prepare: the same AWS assignment needed through two grants, and a grant of a user
    const a = memberTargets(TEMPLATE, 'asg_g', ANN, NOW);
    const b = memberTargets(TEMPLATE, 'asg_h', ANN, NOW);
    // Act
    const byRef = holdsByRef('asg_g', [...a, ...b, ...a]);
    const own = holdsByRef('asg_user', [{ refId: 'r1' }, { refId: 'r1' }]);
    // Assess
    expect(byRef.get('grp|g-1|u-ann')).toEqual(['asg_g:asg_ann', 'asg_h:asg_ann']);
    expect(byRef.size).toBe(2);
    expect(own).toEqual(new Map([['r1', ['asg_user']]]));
  });

  it('a member who joins gets their targets InProgress (once), and the grant waits for them', () => {
    // Act
    const joined = joinedProvisioning(grantForAnn(), 'asg_g', BEN, LATER);
    const again = joinedProvisioning(joined.provisioning, 'asg_g', BEN, LATER);
    // Assess
    expect(joined.added.map((t) => t.principalId)).toEqual(['ben', 'ben']);
    expect(joined.provisioning.status).toBe('InProgress');
    expect(joined.provisioning.targets).toHaveLength(4);
    expect(again.added).toEqual([]);
    expect(joinedProvisioning({ ...grantForAnn(), members: undefined }, 'asg_g', BEN, LATER).added).toEqual([]);
  });

  it('a member who leaves has their targets released and taken away; the grant stays Provisioned for the others', () => {
    // Prepare
    const two = joinedProvisioning(grantForAnn(), 'asg_g', BEN, LATER).provisioning;
    // Act
    const left = releasedProvisioning(two, 'asg_g:asg_ann', LATER);
    // Assess
    expect(left.released.map((t) => t.principalId)).toEqual(['ann', 'ann']);
    const ann = left.provisioning.targets.filter((t) => t.principalId === 'ann');
    expect(ann.map((t) => [t.status, t.released])).toEqual([
      ['Deprovisioning', true],
      ['Deprovisioning', true],
    ]);
    expect(ann.every((t) => !targetWanted(t, true))).toBe(true);
    expect(left.provisioning.status).toBe('InProgress'); // ben's are still on their way
    expect(releasedProvisioning(left.provisioning, 'asg_g:asg_ann', LATER).released).toEqual([]);
  });

  it('drops the released targets that are done when the members change, so churn does not grow the record', () => {
    // Prepare: ann left and her targets are gone
    const left = releasedProvisioning(grantForAnn(), 'asg_g:asg_ann', LATER).provisioning;
    const gone = { ...left, targets: left.targets.map((t) => ({ ...t, status: 'Deprovisioned' as const })) };
    // Act: ann joins again with a new membership
    const back = joinedProvisioning(gone, 'asg_g', { ...ANN, membershipId: 'asg_ann2' }, LATER);
    // Assess
    expect(back.provisioning.targets.map((t) => t.holderId)).toEqual(['asg_g:asg_ann2', 'asg_g:asg_ann2']);
  });

  it('a live grant is Provisioned with no member, and counts only the targets still wanted', () => {
    const left = releasedProvisioning(grantForAnn(), 'asg_g:asg_ann', LATER).provisioning;
    expect(left.status).toBe('Provisioned');
    expect(overallStatus([{ status: 'Failed', released: true }, { status: 'Provisioned' }], true)).toBe('Provisioned');
    expect(overallStatus([{ status: 'Failed' }, { status: 'Provisioned' }], true)).toBe('Failed');
    // Ended: a failure of a member rolled back earlier does not make the end Failed.
    expect(overallStatus([{ status: 'Failed', released: true }, { status: 'Deprovisioned' }], false)).toBe(
      'Deprovisioned',
    );
    const empty: Provisioning = { status: 'Provisioned', targets: [], requestId: 'r', members: TEMPLATE };
    expect(endingProvisioning(empty, LATER)?.status).toBe('Deprovisioned');
  });

  it("finds the member whose provisioning failed (a user's grant has none: it is rolled back whole)", () => {
    const p = grantForAnn();
    const failed = { ...p, targets: p.targets.map((t, i) => (i === 1 ? { ...t, status: 'Failed' as const } : t)) };
    expect(failedMember(failed)).toBe('asg_g:asg_ann');
    expect(failedMember(releasedProvisioning(failed, 'asg_g:asg_ann', LATER).provisioning)).toBeUndefined();
    const own = { ...failed, targets: failed.targets.map(({ holderId: _h, ...t }) => t) };
    expect(failedMember(own)).toBeUndefined();
  });

  it('shows the member of each target, never the holder or the release flag', () => {
    const shown = presentProvisioning(releasedProvisioning(grantForAnn(), 'asg_g:asg_ann', LATER).provisioning);
    expect(shown.targets[0]).toEqual({
      type: 'identityCenterAccountAssignment',
      permissionSetArn: PS,
      accountId: '111111111111',
      identityCenterUserId: 'u-ann',
      principalId: 'ann',
      status: 'Deprovisioning',
      failureReason: null,
      updatedAt: LATER.toISOString(),
    });
  });
});
