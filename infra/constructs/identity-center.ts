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
 * - `grantProvision`: creating and removing account assignments and memberships and the session fence:
 *   sso:Create/DeleteAccountAssignment, Describe*Status, ListAccountAssignments, DescribePermissionSet,
 *   Put/Get/DeleteInlinePolicy…PermissionSet, ProvisionPermissionSet; identitystore memberships; plus the IAM actions
 *   AWS documents that CreateAccountAssignment and ProvisionPermissionSet need of their caller (on the roles and
 *   SAML providers Identity Center manages: `role/aws-reserved/sso.amazonaws.com/*`, `saml-provider/AWSSSO_*`).
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
    Validations.of(grantee.grantPrincipal as unknown as Construct).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${shown}]`,
      reason,
    });
  }

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
      resourceArns: [
        this.identityStoreResource,
        `arn:${Aws.PARTITION}:identitystore:::user/*`,
        `arn:${Aws.PARTITION}:identitystore:::group/*`,
      ],
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

  /** Creating, polling and removing account assignments and memberships, and the session fence. */
  public grantProvision(grantee: IGrantable): void {
    Grant.addToPrincipal({
      grantee,
      actions: [
        'sso:CreateAccountAssignment',
        'sso:DeleteAccountAssignment',
        'sso:DeleteInlinePolicyFromPermissionSet',
        'sso:DescribePermissionSet',
        'sso:GetInlinePolicyForPermissionSet',
        'sso:ListAccountAssignments',
        'sso:ProvisionPermissionSet',
        'sso:PutInlinePolicyToPermissionSet',
      ],
      resourceArns: [this.instanceResource, this.permissionSets, `arn:${Aws.PARTITION}:sso:::account/*`],
    });
    Grant.addToPrincipal({
      grantee,
      actions: [
        'sso:DescribeAccountAssignmentCreationStatus',
        'sso:DescribeAccountAssignmentDeletionStatus',
        'sso:DescribePermissionSetProvisioningStatus',
      ],
      resourceArns: [this.instanceResource],
    });
    Grant.addToPrincipal({
      grantee,
      actions: [
        'identitystore:CreateGroupMembership',
        'identitystore:DeleteGroupMembership',
        'identitystore:GetGroupMembershipId',
        'identitystore:GetUserId',
        'identitystore:ListGroupMemberships',
      ],
      resourceArns: [
        this.identityStoreResource,
        `arn:${Aws.PARTITION}:identitystore:::user/*`,
        `arn:${Aws.PARTITION}:identitystore:::group/*`,
        `arn:${Aws.PARTITION}:identitystore:::membership/*`,
      ],
    });
    // What AWS documents CreateAccountAssignment and ProvisionPermissionSet need of their caller: Identity Center
    // manages the role of each permission set and the SAML provider in the target account on the caller's behalf.
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
    this.acknowledge(
      grantee,
      `arn:<AWS::Partition>:iam::*:role/aws-reserved/sso.amazonaws.com/*`,
      'the IAM actions AWS documents for CreateAccountAssignment, on only the roles Identity Center manages',
    );
    this.acknowledge(
      grantee,
      `arn:<AWS::Partition>:iam::*:saml-provider/AWSSSO_*`,
      'the IAM actions AWS documents for CreateAccountAssignment, on only the SAML providers Identity Center manages',
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
