import { describe, expect, it } from 'vitest';
import { provisioningAccount, Targets } from '#shared/domain/targets.ts';

const PS = 'arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef';

describe('role targets', () => {
  it('accepts account assignments and group memberships, the stand-in ids included', () => {
    const parsed = Targets.safeParse({
      targets: [
        { type: 'identityCenterAccountAssignment', permissionSetArn: PS },
        {
          type: 'identityCenterAccountAssignment',
          permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-local/ps-admin',
        },
        { type: 'identityCenterGroupMembership', groupId: '9067c4d8-e051-70c9-c4f6-82ac4fa4e3b3' },
        { type: 'identityCenterGroupMembership', groupId: 'g-local-oncall' },
      ],
    });
    expect(parsed.success).toBe(true);
  });

  it.each([
    ['an unknown field', { targets: [{ type: 'identityCenterGroupMembership', groupId: 'g-1', extra: 1 }] }],
    ['an unknown type', { targets: [{ type: 'iamRole', roleArn: 'arn:aws:iam::1:role/x' }] }],
    [
      'a malformed ARN',
      { targets: [{ type: 'identityCenterAccountAssignment', permissionSetArn: 'arn:aws:iam::1:role/x' }] },
    ],
    ['a group id with spaces', { targets: [{ type: 'identityCenterGroupMembership', groupId: 'g 1' }] }],
    [
      'more than 10',
      { targets: Array.from({ length: 11 }, (_, i) => ({ type: 'identityCenterGroupMembership', groupId: `g-${i}` })) },
    ],
    [
      'a target named twice',
      {
        targets: [
          { type: 'identityCenterGroupMembership', groupId: 'g-1' },
          { type: 'identityCenterGroupMembership', groupId: 'g-1' },
        ],
      },
    ],
    ['a field beside targets', { targets: [], note: 'x' }],
  ])('refuses %s', (_, body) => {
    expect(Targets.safeParse(body).success).toBe(false);
  });

  it('an account assignment needs a scope that names one account; a membership needs none', () => {
    const assignment = [{ type: 'identityCenterAccountAssignment' as const, permissionSetArn: PS }];
    const membership = [{ type: 'identityCenterGroupMembership' as const, groupId: 'g-1' }];
    expect(provisioningAccount(assignment, '/accounts/111111111111')).toBe('111111111111');
    expect(provisioningAccount(assignment, '/accounts/111111111111/regions/eu-west-1')).toBe('111111111111');
    expect(provisioningAccount(assignment, '/')).toBeNull();
    expect(provisioningAccount(assignment, '/ous/ou-local-prod')).toBeNull();
    expect(provisioningAccount(membership, '/')).toBeUndefined();
    expect(provisioningAccount([], '/')).toBeUndefined();
  });
});
