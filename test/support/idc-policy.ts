/**
 * The IAM statements IdentityCenterAccess grants (infra/constructs/identity-center.ts), as the synthesized template
 * holds them: the infra tests assert each function's exact policy with these.
 */
const partition = { Ref: 'AWS::Partition' };
const arn = (rest: string) => ({ 'Fn::Join': ['', ['arn:', partition, rest]] });
const CONDITION = 'IdentityCenterConfigured60312E7D';
const instance = { 'Fn::If': [CONDITION, { Ref: 'IdentityCenterInstanceArn' }, arn(':sso:::instance/not-configured')] };
const permissionSets = {
  'Fn::If': [
    CONDITION,
    {
      'Fn::Join': [
        '',
        [
          'arn:',
          partition,
          ':sso:::permissionSet/',
          {
            'Fn::Select': [
              1,
              { 'Fn::Split': ['/', { 'Fn::Join': ['', [{ Ref: 'IdentityCenterInstanceArn' }, '/']] }] },
            ],
          },
          '/*',
        ],
      ],
    },
    arn(':sso:::permissionSet/not-configured/*'),
  ],
};
const identityStore = {
  'Fn::Join': [
    '',
    ['arn:', partition, ':identitystore::', { Ref: 'AWS::AccountId' }, ':identitystore/', { Ref: 'IdentityStoreId' }],
  ],
};

/** grantCheck: the pre-grant checks and the target checks. */
export const idcCheckStatements = () => [
  { Action: 'sso:DescribePermissionSet', Effect: 'Allow', Resource: [permissionSets, instance] },
  {
    Action: ['identitystore:DescribeGroup', 'identitystore:GetUserId'],
    Effect: 'Allow',
    Resource: [identityStore, arn(':identitystore:::group/*'), arn(':identitystore:::user/*')],
  },
  { Action: 'organizations:DescribeAccount', Effect: 'Allow', Resource: arn(':organizations::*:account/o-*/*') },
];

/**
 * The workflow handler's: grantProvision (assignments, memberships) and grantFence (the session fence on its removal
 * path), as IAM policy minimization merges them (same resources), and the IAM actions AWS documents for them.
 */
export const idcProvisionStatements = () => [
  {
    Action: [
      'sso:CreateAccountAssignment',
      'sso:DeleteAccountAssignment',
      'sso:DeleteInlinePolicyFromPermissionSet',
      'sso:DescribePermissionSet',
      'sso:GetInlinePolicyForPermissionSet',
      'sso:ListAccountAssignments',
      'sso:ProvisionPermissionSet',
      'sso:PutInlinePolicyToPermissionSet',
    ],
    Effect: 'Allow',
    Resource: [permissionSets, instance, arn(':sso:::account/*')],
  },
  {
    Action: [
      'sso:DescribeAccountAssignmentCreationStatus',
      'sso:DescribeAccountAssignmentDeletionStatus',
      'sso:DescribePermissionSetProvisioningStatus',
    ],
    Effect: 'Allow',
    Resource: instance,
  },
  {
    Action: [
      'identitystore:CreateGroupMembership',
      'identitystore:DeleteGroupMembership',
      'identitystore:DescribeUser',
      'identitystore:GetGroupMembershipId',
      'identitystore:GetUserId',
      'identitystore:ListGroupMemberships',
    ],
    Effect: 'Allow',
    Resource: [
      identityStore,
      arn(':identitystore:::group/*'),
      arn(':identitystore:::membership/*'),
      arn(':identitystore:::user/*'),
    ],
  },
  ...managedRoleStatements(),
];

/** The IAM actions AWS documents for the assignment and provisioning calls, on the roles and SAML providers it manages. */
const managedRoleStatements = () => [
  {
    Action: [
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
    Effect: 'Allow',
    Resource: arn(':iam::*:role/aws-reserved/sso.amazonaws.com/*'),
  },
  {
    Action: ['iam:CreateSAMLProvider', 'iam:GetSAMLProvider', 'iam:UpdateSAMLProvider'],
    Effect: 'Allow',
    Resource: arn(':iam::*:saml-provider/AWSSSO_*'),
  },
];

/** grantFence alone (the reconcile job): the inline policy, ProvisionPermissionSet and its status, SessionDuration. */
export const idcFenceStatements = () => [
  {
    Action: [
      'sso:DeleteInlinePolicyFromPermissionSet',
      'sso:DescribePermissionSet',
      'sso:GetInlinePolicyForPermissionSet',
      'sso:ProvisionPermissionSet',
      'sso:PutInlinePolicyToPermissionSet',
    ],
    Effect: 'Allow',
    Resource: [permissionSets, instance, arn(':sso:::account/*')],
  },
  { Action: 'sso:DescribePermissionSetProvisioningStatus', Effect: 'Allow', Resource: instance },
  ...managedRoleStatements(),
];

/** grantDrift (the drift job): listing what AWS has of managed targets and, in remove mode, deleting it. */
export const idcDriftStatements = () => [
  {
    Action: [
      'sso:DeleteAccountAssignment',
      'sso:ListAccountAssignments',
      'sso:ListAccountsForProvisionedPermissionSet',
    ],
    Effect: 'Allow',
    Resource: [permissionSets, instance, arn(':sso:::account/*')],
  },
  { Action: 'sso:DescribeAccountAssignmentDeletionStatus', Effect: 'Allow', Resource: instance },
  {
    Action: ['identitystore:DeleteGroupMembership', 'identitystore:GetUserId', 'identitystore:ListGroupMemberships'],
    Effect: 'Allow',
    Resource: [
      identityStore,
      arn(':identitystore:::group/*'),
      arn(':identitystore:::membership/*'),
      arn(':identitystore:::user/*'),
    ],
  },
  ...managedRoleStatements(),
];

/** grantOrganizationRead: the organization-sync walk. */
export const organizationReadStatements = () => [
  {
    Action: [
      'organizations:ListAccountsForParent',
      'organizations:ListOrganizationalUnitsForParent',
      'organizations:ListRoots',
    ],
    Effect: 'Allow',
    Resource: '*',
  },
];

/** The environment of a function with an Identity Center capability. */
export const idcEnvironment = () => ({
  ELEVATE_IDC_INSTANCE_ARN: { Ref: 'IdentityCenterInstanceArn' },
  ELEVATE_IDENTITY_STORE_ID: { Ref: 'IdentityStoreId' },
  ELEVATE_IDC_USER_ATTRIBUTE: { Ref: 'IdentityCenterUserAttribute' },
  ELEVATE_FENCE_SESSIONS: { Ref: 'FenceSessions' },
  ELEVATE_ACCESS_PORTAL_URL: { Ref: 'AccessPortalUrl' },
});
