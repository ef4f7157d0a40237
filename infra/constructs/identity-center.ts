import { Aws, CfnCondition, Fn, Stack, Validations } from 'aws-cdk-lib';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface IdentityCenterAccessProps {
  /** The IAM Identity Center instance (`arn:aws:sso:::instance/ssoins-…`); empty: not configured. */
  readonly instanceArn: string;
  /** Its identity store (`d-…`); empty: not configured. */
  readonly identityStoreId: string;
}

/**
 * What Elevate may do in IAM Identity Center, its identity store and AWS Organizations (provisioning.md): exactly
 * the actions its adapters call, each grant on the instance, its permission sets, the identity store and its
 * users, groups and memberships. While the instance is not configured (empty parameters) the ARNs name nothing.
 *
 * - `grantCheck`: the pre-grant checks and PUT targets: sso:DescribePermissionSet, identitystore:GetUserId and
 *   DescribeGroup, organizations:DescribeAccount.
 * - `grantProvision`: creating and removing account assignments and memberships:
 *   sso:Create/DeleteAccountAssignment, Describe…CreationStatus/DeletionStatus, ListAccountAssignments,
 *   DescribePermissionSet; identitystore memberships; plus the IAM actions AWS documents that CreateAccountAssignment
 *   needs of its caller (on the roles and SAML providers Identity Center manages:
 *   `role/aws-reserved/sso.amazonaws.com/*`, `saml-provider/AWSSSO_*`).
 * - `grantFence`: the session fence (shared/usecases/fence.ts: the removal path and the reconcile job):
 *   sso:Get/Put/DeleteInlinePolicy…PermissionSet, ProvisionPermissionSet, DescribePermissionSetProvisioningStatus,
 *   DescribePermissionSet (its SessionDuration), and the same IAM actions for ProvisionPermissionSet.
 * - `grantDrift`: the drift job: sso:ListAccountsForProvisionedPermissionSet, ListAccountAssignments,
 *   DeleteAccountAssignment and DescribeAccountAssignmentDeletionStatus (remove mode); identitystore:GetUserId,
 *   ListGroupMemberships, DeleteGroupMembership; and the IAM actions for DeleteAccountAssignment.
 * - `grantOrganizationRead`: the organization-sync walk: organizations:ListRoots (no resource-level permissions),
 *   ListOrganizationalUnitsForParent, ListAccountsForParent.
 */
export class IdentityCenterAccess extends Construct {
  public readonly instanceArn: string;
  public readonly identityStoreId: string;
  /** The instance ARN, or an ARN that names nothing while it is not configured. */
  private readonly instanceResource: string;
  private readonly permissionSets: string;
  private readonly identityStoreResource: string;

  constructor(scope: Construct, id: string, props: IdentityCenterAccessProps) {
    super(scope, id);
    this.instanceArn = props.instanceArn;
    this.identityStoreId = props.identityStoreId;
    const configured = new CfnCondition(this, 'Configured', {
      expression: Fn.conditionNot(Fn.conditionEquals(props.instanceArn, '')),
    });
    this.instanceResource = Fn.conditionIf(
      configured.logicalId,
      props.instanceArn,
      `arn:${Aws.PARTITION}:sso:::instance/not-configured`,
    ).toString();
    // arn:aws:sso:::permissionSet/<instance id>/<ps id>: the instance id is the last part of the instance ARN.
    this.permissionSets = Fn.conditionIf(
      configured.logicalId,
      // (padded with a '/' so that the split of an empty ARN has the element too)
      `arn:${Aws.PARTITION}:sso:::permissionSet/${Fn.select(1, Fn.split('/', `${props.instanceArn}/`))}/*`,
      `arn:${Aws.PARTITION}:sso:::permissionSet/not-configured/*`,
    ).toString();
    this.identityStoreResource = `arn:${Aws.PARTITION}:identitystore::${Aws.ACCOUNT_ID}:identitystore/${props.identityStoreId}`;
  }

  /**
   * Acknowledges cdk-nag's IAM5 finding of one wildcard resource on the grantee's role, with the reason. A
   * token resource is named as cdk-nag names it (its resolved JSON); a plain one is given as cdk-nag shows it
   * (`arn:<AWS::Partition>:...`).
   */
  private acknowledge(grantee: IGrantable, resource: string, reason: string): void {
    const shown = resource === this.permissionSets ? JSON.stringify(Stack.of(this).resolve(resource)) : resource;
    const id = `AwsSolutions-IAM5[Resource::${shown}]`;
    // A grantee with two grants on one resource (the workflow handler: provisioning and the fence) has one finding.
    const acknowledged = this.acknowledged.get(grantee) ?? new Set<string>();
    if (acknowledged.has(id)) return;
    this.acknowledged.set(grantee, acknowledged.add(id));
    Validations.of(grantee.grantPrincipal as unknown as Construct).acknowledge({ id, reason });
  }

  /** The findings acknowledged per grantee already. */
  private readonly acknowledged = new Map<IGrantable, Set<string>>();

  private acknowledgeReads(grantee: IGrantable): void {
    this.acknowledge(
      grantee,
      this.permissionSets,
      "the instance's permission sets: a role's targets name any of them (checked to exist), none outside the instance",
    );
    this.acknowledge(
      grantee,
      `arn:<AWS::Partition>:identitystore:::user/*`,
      'the Identity Center user of any principal is looked up (GetUserId); the identity store resource bounds it',
    );
    this.acknowledge(
      grantee,
      `arn:<AWS::Partition>:identitystore:::group/*`,
      "any group a role's targets name is checked to exist (DescribeGroup); the identity store resource bounds it",
    );
  }

  /** The environment of a function that reaches Identity Center (the config of shared/config.ts). */
  public environment(extra: Record<string, string>): Record<string, string> {
    return { ELEVATE_IDC_INSTANCE_ARN: this.instanceArn, ELEVATE_IDENTITY_STORE_ID: this.identityStoreId, ...extra };
  }

  /** The identity store, its users and groups, and (for who changes memberships) its memberships. */
  private identityStoreResources(memberships: boolean): string[] {
    const of = (kind: string) => `arn:${Aws.PARTITION}:identitystore:::${kind}/*`;
    return [this.identityStoreResource, of('user'), of('group'), ...(memberships ? [of('membership')] : [])];
  }

  /** The pre-grant checks and the target checks of PUT /v1/roles/{roleId}/targets. */
  public grantCheck(grantee: IGrantable): void {
    Grant.addToPrincipal({
      grantee,
      actions: ['sso:DescribePermissionSet'],
      resourceArns: [this.instanceResource, this.permissionSets],
    });
    Grant.addToPrincipal({
      grantee,
      actions: ['identitystore:DescribeGroup', 'identitystore:GetUserId'],
      resourceArns: this.identityStoreResources(false),
    });
    Grant.addToPrincipal({
      grantee,
      actions: ['organizations:DescribeAccount'],
      resourceArns: [`arn:${Aws.PARTITION}:organizations::*:account/o-*/*`],
    });
    this.acknowledgeReads(grantee);
    this.acknowledge(
      grantee,
      `arn:<AWS::Partition>:organizations::*:account/o-*/*`,
      "any account a grant's scope names is checked to be an ACTIVE member of the organization (read only)",
    );
  }

  /** Creating, polling and removing account assignments and memberships. */
  public grantProvision(grantee: IGrantable): void {
    Grant.addToPrincipal({
      grantee,
      actions: [
        'sso:CreateAccountAssignment',
        'sso:DeleteAccountAssignment',
        'sso:DescribePermissionSet',
        'sso:ListAccountAssignments',
      ],
      resourceArns: [this.instanceResource, this.permissionSets, `arn:${Aws.PARTITION}:sso:::account/*`],
    });
    Grant.addToPrincipal({
      grantee,
      actions: ['sso:DescribeAccountAssignmentCreationStatus', 'sso:DescribeAccountAssignmentDeletionStatus'],
      resourceArns: [this.instanceResource],
    });
    Grant.addToPrincipal({
      grantee,
      actions: [
        'identitystore:CreateGroupMembership',
        'identitystore:DeleteGroupMembership',
        'identitystore:DescribeUser',
        'identitystore:GetGroupMembershipId',
        'identitystore:GetUserId',
        'identitystore:ListGroupMemberships',
      ],
      resourceArns: this.identityStoreResources(true),
    });
    this.grantManagedRoles(grantee);
    this.acknowledgeReads(grantee);
    this.acknowledge(
      grantee,
      `arn:<AWS::Partition>:sso:::account/*`,
      "an assignment is made in the account a grant's scope names, any member account of the organization",
    );
    this.acknowledge(
      grantee,
      `arn:<AWS::Partition>:identitystore:::membership/*`,
      'memberships of the groups that roles target are created and removed; the identity store resource bounds it',
    );
  }

  /** The grantees that have the IAM actions of grantManagedRoles already (one statement per role). */
  private readonly managedRoleGrantees = new Set<IGrantable>();

  /**
   * What AWS documents CreateAccountAssignment, DeleteAccountAssignment and ProvisionPermissionSet need of their
   * caller: Identity Center manages the role of each permission set and the SAML provider in the target account
   * on the caller's behalf. Only on the roles and SAML providers Identity Center manages.
   */
  private grantManagedRoles(grantee: IGrantable): void {
    if (this.managedRoleGrantees.has(grantee)) return;
    this.managedRoleGrantees.add(grantee);
    Grant.addToPrincipal({
      grantee,
      actions: [
        'iam:AttachRolePolicy',
        'iam:CreateRole',
        'iam:DeleteRole',
        'iam:DeleteRolePolicy',
        'iam:DetachRolePolicy',
        'iam:GetRole',
        'iam:ListAttachedRolePolicies',
        'iam:ListRolePolicies',
        'iam:PutRolePolicy',
        'iam:UpdateRole',
        'iam:UpdateRoleDescription',
      ],
      resourceArns: [`arn:${Aws.PARTITION}:iam::*:role/aws-reserved/sso.amazonaws.com/*`],
    });
    Grant.addToPrincipal({
      grantee,
      actions: ['iam:CreateSAMLProvider', 'iam:GetSAMLProvider', 'iam:UpdateSAMLProvider'],
      resourceArns: [`arn:${Aws.PARTITION}:iam::*:saml-provider/AWSSSO_*`],
    });
    this.acknowledge(
      grantee,
      `arn:<AWS::Partition>:iam::*:role/aws-reserved/sso.amazonaws.com/*`,
      'the IAM actions AWS documents for the assignment and provisioning calls, on only the roles Identity Center manages',
    );
    this.acknowledge(
      grantee,
      `arn:<AWS::Partition>:iam::*:saml-provider/AWSSSO_*`,
      'the IAM actions AWS documents for the assignment and provisioning calls, on only the SAML providers Identity Center manages',
    );
  }

  /** The session fence: the permission set's inline policy, its provisioning to an account, and its status. */
  public grantFence(grantee: IGrantable): void {
    Grant.addToPrincipal({
      grantee,
      actions: [
        'sso:DeleteInlinePolicyFromPermissionSet',
        'sso:DescribePermissionSet',
        'sso:GetInlinePolicyForPermissionSet',
        'sso:ProvisionPermissionSet',
        'sso:PutInlinePolicyToPermissionSet',
      ],
      resourceArns: [this.instanceResource, this.permissionSets, `arn:${Aws.PARTITION}:sso:::account/*`],
    });
    Grant.addToPrincipal({
      grantee,
      actions: ['sso:DescribePermissionSetProvisioningStatus'],
      resourceArns: [this.instanceResource],
    });
    this.grantManagedRoles(grantee);
    this.acknowledge(
      grantee,
      this.permissionSets,
      "the fence writes the inline policy of the permission set a removed grant's role targets, any of the instance's",
    );
    this.acknowledge(
      grantee,
      `arn:<AWS::Partition>:sso:::account/*`,
      'the permission set is provisioned to the account the removed grant was in, any member account',
    );
  }

  /** The drift job: what AWS has of the managed permission sets and groups, and (remove mode) deleting it. */
  public grantDrift(grantee: IGrantable): void {
    Grant.addToPrincipal({
      grantee,
      actions: [
        'sso:DeleteAccountAssignment',
        'sso:ListAccountAssignments',
        'sso:ListAccountsForProvisionedPermissionSet',
      ],
      resourceArns: [this.instanceResource, this.permissionSets, `arn:${Aws.PARTITION}:sso:::account/*`],
    });
    Grant.addToPrincipal({
      grantee,
      actions: ['sso:DescribeAccountAssignmentDeletionStatus'],
      resourceArns: [this.instanceResource],
    });
    Grant.addToPrincipal({
      grantee,
      actions: ['identitystore:DeleteGroupMembership', 'identitystore:GetUserId', 'identitystore:ListGroupMemberships'],
      resourceArns: this.identityStoreResources(true),
    });
    this.grantManagedRoles(grantee);
    this.acknowledgeReads(grantee);
    this.acknowledge(
      grantee,
      `arn:<AWS::Partition>:sso:::account/*`,
      'drift lists (and in remove mode deletes) assignments in every account a managed permission set is provisioned to',
    );
    this.acknowledge(
      grantee,
      `arn:<AWS::Partition>:identitystore:::membership/*`,
      'drift removes (remove mode) memberships of managed groups that no grant backs; the identity store bounds it',
    );
  }

  /** The organization-sync walk of the organization's tree. */
  public grantOrganizationRead(grantee: IGrantable): void {
    Grant.addToPrincipal({
      grantee,
      actions: [
        'organizations:ListAccountsForParent',
        'organizations:ListOrganizationalUnitsForParent',
        'organizations:ListRoots',
      ],
      // ListRoots has no resource-level permissions; the other two act on the one organization's roots and OUs.
      resourceArns: ['*'],
    });
    this.acknowledge(
      grantee,
      '*',
      "organizations:ListRoots has no resource-level permissions; the walk only lists the organization's roots, OUs and accounts",
    );
  }
}
