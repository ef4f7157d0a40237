import * as z from 'zod';
import { accountOfScope } from './scope.ts';

/**
 * Where a role's access is delivered in AWS (provisioning.md, "Targets"): an IAM Identity Center account
 * assignment of a permission set (in the account the grant's scope names) or membership of an Identity Center
 * group (scope-independent). At most 10 per role; a change applies to grants made after it.
 */
export const MAX_TARGETS = 10;

/**
 * `arn:<partition>:sso:::permissionSet/<instance id>/<ps id>`. AWS's own ids are 16 characters after `ins-` and
 * `ps-`; shorter ones are accepted so that a stand-in's readable ids (`ssoins-local`, `ps-admin`) fit too.
 */
export const PermissionSetArn = z
  .string()
  .max(1224)
  .regex(
    /^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::permissionSet\/(sso)?ins-[a-zA-Z0-9-.]{1,64}\/ps-[a-zA-Z0-9-./]{1,64}$/,
    'a permission set ARN such as arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef',
  );

/** An identity store group id (a UUID, optionally prefixed with 10 hex digits; readable ids for stand-ins). */
export const IdentityStoreGroupId = z
  .string()
  .min(1)
  .max(47)
  .regex(/^[A-Za-z0-9][A-Za-z0-9-]*$/, 'an identity store group id such as 9067c4d8-e051-70c9-c4f6-82ac4fa4e3b3');

export const AccountAssignmentTarget = z
  .strictObject({ type: z.literal('identityCenterAccountAssignment'), permissionSetArn: PermissionSetArn })
  .meta({ id: 'AccountAssignmentTarget' });

export const GroupMembershipTarget = z
  .strictObject({ type: z.literal('identityCenterGroupMembership'), groupId: IdentityStoreGroupId })
  .meta({ id: 'GroupMembershipTarget' });

export const Target = z.discriminatedUnion('type', [AccountAssignmentTarget, GroupMembershipTarget]).meta({
  id: 'Target',
  description: 'Where the access of a grant is delivered in AWS IAM Identity Center',
});
export type Target = z.infer<typeof Target>;

/** The identity of a target (two equal ones are one target). */
export const targetKey = (t: Target): string =>
  t.type === 'identityCenterAccountAssignment' ? `ps:${t.permissionSetArn}` : `group:${t.groupId}`;

export const Targets = z
  .strictObject({ targets: z.array(Target).max(MAX_TARGETS) })
  .superRefine((value, ctx) => {
    const seen = new Set<string>();
    value.targets.forEach((t, i) => {
      const key = targetKey(t);
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['targets', i], message: 'a target is named twice' });
      seen.add(key);
    });
  })
  .meta({ id: 'Targets' });
export type Targets = z.infer<typeof Targets>;

/** Does delivering these targets need an account (an account assignment among them)? */
export const needsAccount = (targets: readonly Target[]): boolean =>
  targets.some((t) => t.type === 'identityCenterAccountAssignment');

/**
 * The account an active grant of a role with these targets is provisioned into: the one the scope names
 * (`/accounts/<12 digits>` or below it). `undefined` when no target needs an account; `null` when one does and
 * the scope names none (the request is refused: ScopeNotProvisionable).
 */
export function provisioningAccount(targets: readonly Target[], scope: string): string | null | undefined {
  if (!needsAccount(targets)) return undefined;
  return accountOfScope(scope) ?? null;
}
