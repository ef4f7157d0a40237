import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { SCHEDULES } from '#functions/scheduled/schedules.ts';
import { TABLE_ACCESS } from '#infra/constructs/api.ts';
import { AUDIT_DENIED_ACTIONS, INDEX_ACTIONS, READ_ACTIONS, WRITE_ACTIONS } from '#infra/constructs/data.ts';
import { MAIL_FEEDBACK_WRITE_PREFIXES } from '#infra/constructs/mail.ts';
import { SCHEDULE_TABLE_ACCESS } from '#infra/stack.ts';
import { synthTemplate } from '#infra/synth.ts';
import { FUNCTIONS } from '#shared/api/routes.ts';
import { EVENT_SOURCE } from '#shared/ports/events.ts';
import { AUDIT_KEY_PREFIXES, keys, ops } from '#shared/store/records.ts';
import { auditEvent } from '#shared/usecases/context.ts';

let template: Template;

beforeAll(() => {
  template = synthTemplate({ bundling: false });
}, 120_000);

type Resource = { Type: string; Properties: Record<string, unknown> };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown; Sid?: string };
const all = (): Record<string, Resource> => (template.toJSON() as { Resources: Record<string, Resource> }).Resources;
const ofType = (type: string) => Object.entries(all()).filter(([, r]) => r.Type === type);
const tableId = (): string => ofType('AWS::DynamoDB::GlobalTable')[0]?.[0] as string;
const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** Every statement of the policies attached to the role whose logical id starts with `rolePrefix`. */
function statementsOf(rolePrefix: string): Statement[] {
  const roles = ofType('AWS::IAM::Role').filter(([id]) => new RegExp(`^${rolePrefix}[0-9A-F]{8}$`).test(id));
  expect(roles, rolePrefix).toHaveLength(1);
  const roleId = roles[0]?.[0];
  return ofType('AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}
const tableStatements = (rolePrefix: string): Statement[] =>
  statementsOf(rolePrefix).filter((s) => actions(s).some((a) => a.startsWith('dynamodb:')));
const pascal = (name: string) => name.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase());

const AUDIT_DENY = {
  Effect: 'Deny',
  Action: [...AUDIT_DENIED_ACTIONS].sort(),
  Resource: { 'Fn::GetAtt': [expect.any(String), 'Arn'] },
  Condition: {
    'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': AUDIT_KEY_PREFIXES.map((p) => `${p}*`) },
  },
};

function expectReadOnly(rolePrefix: string): void {
  const found = tableStatements(rolePrefix);
  expect(found.map((s) => s.Effect)).toEqual(['Allow', 'Allow']);
  expect(actions(found[0] as Statement).sort()).toEqual([...READ_ACTIONS].sort());
  expect(actions(found[1] as Statement)).toEqual([...INDEX_ACTIONS]);
}

/** Reads, plus PutItem/DeleteItem on the job's own progress partition (`JOB#<job>`) and nothing else. */
function expectReadAndOwnProgress(rolePrefix: string, job: string): void {
  const found = tableStatements(rolePrefix);
  expect(found).toHaveLength(3);
  expect(actions(found[0] as Statement).sort()).toEqual([...READ_ACTIONS].sort());
  expect(actions(found[1] as Statement)).toEqual([...INDEX_ACTIONS]);
  expect(found[2]).toEqual({
    Action: ['dynamodb:DeleteItem', 'dynamodb:PutItem'],
    Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [`JOB#${job}`] } },
    Effect: 'Allow',
    Resource: { 'Fn::GetAtt': [tableId(), 'Arn'] },
  });
}

function expectReadWrite(rolePrefix: string): void {
  const found = tableStatements(rolePrefix);
  expect(found).toHaveLength(3);
  expect(found[0]).toMatchObject({ Effect: 'Allow', Resource: { 'Fn::GetAtt': [tableId(), 'Arn'] } });
  expect(actions(found[0] as Statement).sort()).toEqual([...READ_ACTIONS, ...WRITE_ACTIONS].sort());
  expect(actions(found[0] as Statement)).not.toContain('dynamodb:BatchWriteItem');
  expect(found[1]).toMatchObject({ Effect: 'Allow', Action: INDEX_ACTIONS[0] });
  expect(found[2]).toEqual({ ...AUDIT_DENY, Resource: { 'Fn::GetAtt': [tableId(), 'Arn'] } });
}

describe('least-privilege table access', () => {
  it('grants no function BatchWriteItem (the store never calls it)', () => {
    // Assess
    expect(WRITE_ACTIONS).not.toContain('dynamodb:BatchWriteItem');
    const allowing = ofType('AWS::IAM::Policy').flatMap(([, p]) =>
      (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement.filter(
        (s) => s.Effect === 'Allow' && actions(s).includes('dynamodb:BatchWriteItem'),
      ),
    );
    expect(allowing.length).toBe(0);
  });

  it('gives the API functions that only serve GETs read access only', () => {
    // Assess
    expect(TABLE_ACCESS).toMatchObject({ assignments: 'read', access: 'read', audit: 'read', meta: 'none' });
    for (const fn of FUNCTIONS) {
      const prefix = `Api${pascal(fn)}FunctionRole`;
      if (TABLE_ACCESS[fn] === 'read') expectReadOnly(prefix);
      else if (TABLE_ACCESS[fn] === 'readWrite') expectReadWrite(prefix);
      else expect(tableStatements(prefix)).toEqual([]);
    }
  });

  it('gives the digest job read access and its own progress record only, the other jobs read/write with the audit deny', () => {
    // Assess
    expect(SCHEDULE_TABLE_ACCESS.digest).toBe('readAndOwnProgress');
    for (const job of SCHEDULES) {
      const prefix = `Schedules${pascal(job.name)}FunctionRole`;
      if (SCHEDULE_TABLE_ACCESS[job.name] === 'readAndOwnProgress') expectReadAndOwnProgress(prefix, job.name);
      else expectReadWrite(prefix);
    }
  });

  it('denies every writer deleting or updating an audit event or a chain head', () => {
    // Assess: every role with a table write on any key also holds the explicit deny; a write bound to named
    // partitions (a job's own progress record) names none of the audit prefixes.
    const puts = (p: { Properties: Record<string, unknown> }) =>
      (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement.filter(
        (s) => s.Effect === 'Allow' && actions(s).includes('dynamodb:PutItem'),
      );
    const writers = ofType('AWS::IAM::Policy').filter(([, p]) => puts(p).some((s) => s.Condition === undefined));
    const conditioned = ofType('AWS::IAM::Policy').flatMap(([, p]) => puts(p).filter((s) => s.Condition !== undefined));
    const prefixed = conditioned.filter((s) => JSON.stringify(s.Condition).includes('ForAllValues:StringLike'));
    const bound = conditioned.filter((s) => !prefixed.includes(s));
    expect(bound.length).toBeGreaterThan(0);
    // A write bound to key prefixes (the mail feedback function's) may put audit items, but never update or delete.
    expect(prefixed.length).toBe(1);
    for (const statement of prefixed) expect(actions(statement)).toEqual(['dynamodb:PutItem']);
    for (const statement of bound) {
      const partitions = (statement.Condition as Record<string, Record<string, string[]>>)[
        'ForAllValues:StringEquals'
      ]?.['dynamodb:LeadingKeys'];
      expect(partitions?.length).toBeGreaterThan(0);
      for (const pk of partitions ?? []) {
        expect(AUDIT_KEY_PREFIXES.some((prefix) => pk.startsWith(prefix))).toBe(false);
      }
    }
    expect(writers.length).toBeGreaterThan(5);
    for (const [, policy] of writers) {
      const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
      expect(statements).toContainEqual({ ...AUDIT_DENY, Resource: { 'Fn::GetAtt': [tableId(), 'Arn'] } });
    }
    expect(AUDIT_DENIED_ACTIONS).toEqual(
      expect.arrayContaining(['dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem']),
    );
  });

  it('names the key prefixes that the audit events and chain heads really use', () => {
    // Prepare
    const event = auditEvent(new Date('2026-01-02T03:04:05Z'), { id: 'u', type: 'user' }, 'x', {}, {});
    const eventPk = String((ops.audit(event) as { Put: { Item: Record<string, unknown> } }).Put.Item.pk);
    const headPk = String(keys.auditHead('2026-01-02#3').pk);

    // Assess
    expect(AUDIT_KEY_PREFIXES.some((p) => eventPk.startsWith(p))).toBe(true);
    expect(AUDIT_KEY_PREFIXES.some((p) => headPk.startsWith(p))).toBe(true);
    for (const other of [
      keys.role('r'),
      keys.principal({ principalType: 'user', principalId: 'p' }),
      keys.request('q'),
      keys.auditExport('e'),
    ]) {
      expect(AUDIT_KEY_PREFIXES.some((p) => String(other.pk).startsWith(p))).toBe(false);
    }
  });
});

describe('the mail feedback function', () => {
  it('reads the table and puts only mail suppressions and audit items: no update, no delete, no other service', () => {
    // Prepare
    const statements = statementsOf('MailFeedbackFunctionRole');
    const table = { 'Fn::GetAtt': [tableId(), 'Arn'] };

    // Assess: reads (table and indexes), the prefix-bound put, its logs, its failure queue; nothing else
    expect(statements.filter((s) => actions(s).some((a) => a.startsWith('dynamodb:')))).toEqual([
      { Effect: 'Allow', Action: [...READ_ACTIONS].sort(), Resource: table },
      { Effect: 'Allow', Action: INDEX_ACTIONS[0], Resource: expect.any(Array) },
      {
        Effect: 'Allow',
        Action: 'dynamodb:PutItem',
        Resource: table,
        Condition: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': MAIL_FEEDBACK_WRITE_PREFIXES.map((p) => `${p}*`) },
        },
      },
    ]);
    expect(MAIL_FEEDBACK_WRITE_PREFIXES).toEqual(['MAILSUPPRESS#', ...AUDIT_KEY_PREFIXES, 'AUDITDAY#']);
    const services = new Set(statements.flatMap((s) => actions(s).map((a) => a.split(':')[0])));
    expect([...services].sort()).toEqual(['dynamodb', 'logs', 'sqs']);
    expect(statements.filter((s) => actions(s).some((a) => a.startsWith('sqs:')))).toEqual([
      {
        Effect: 'Allow',
        Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^MailFeedbackFailures[0-9A-F]{8}$/), 'Arn'] },
      },
    ]);
  });

  it('keys every item it writes under the prefixes its grant allows', () => {
    // Prepare
    const event = auditEvent(new Date('2026-01-02T03:04:05Z'), { id: 'elevate', type: 'system' }, 'x', {}, {});
    const pks = [
      String(keys.mailSuppression('a@example.com').pk),
      String((ops.audit(event) as { Put: { Item: Record<string, unknown> } }).Put.Item.pk),
      String(keys.auditHead('2026-01-02#3').pk),
      String(keys.auditDay('2026-01-02').pk),
    ];

    // Assess
    for (const pk of pks)
      expect(
        MAIL_FEEDBACK_WRITE_PREFIXES.some((p) => pk.startsWith(p)),
        pk,
      ).toBe(true);
    expect(
      MAIL_FEEDBACK_WRITE_PREFIXES.some((p) =>
        String(keys.principal({ principalType: 'user', principalId: 'a' }).pk).startsWith(p),
      ),
    ).toBe(false);
  });
});

describe('the console publisher', () => {
  it('reads its build asset, writes the console bucket and its own logs: nothing else', () => {
    // Prepare
    const statements = statementsOf('ConsolePublisherRole');

    // Assess: statement by statement
    expect(statements.filter((s) => !actions(s).every((a) => a.startsWith('logs:')))).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':s3:::',
              expect.anything(), // the build's one JSON document (a zip of console/ when synthesized without bundling)
              expect.stringMatching(/^\/[0-9a-f]{64}\.(json|zip)$/),
            ],
          ],
        },
      },
      {
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: {
          'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^ConsoleBucket[0-9A-F]{8}$/), 'Arn'] }, '/*']],
        },
      },
    ]);
    const services = new Set(statements.flatMap((s) => actions(s).map((a) => a.split(':')[0])));
    expect([...services].sort()).toEqual(['logs', 's3']);
  });

  it('lets only CloudFront, through Origin Access Control and for this distribution, read the console bucket', () => {
    // Prepare
    const policies = ofType('AWS::S3::BucketPolicy').filter(([id]) => id.startsWith('ConsoleBucketPolicy'));
    expect(policies).toHaveLength(1);
    const document = policies[0]?.[1].Properties.PolicyDocument as {
      Statement: (Statement & { Principal?: unknown })[];
    };
    const statements = document.Statement;

    // Assess: TLS only, and GetObject for the CloudFront service principal of this distribution's ARN
    expect(statements.filter((s) => s.Effect === 'Allow')).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^ConsoleBucket/), 'Arn'] }, '/*']] },
        Condition: { StringEquals: { 'AWS:SourceArn': expect.anything() } },
      },
    ]);
    expect(statements.filter((s) => s.Effect === 'Deny').map((s) => s.Condition)).toEqual([
      { Bool: { 'aws:SecureTransport': 'false' } },
    ]);
    expect(ofType('AWS::S3::Bucket').find(([id]) => id.startsWith('ConsoleBucket'))?.[1].Properties).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
  });
});

describe('event bus policy', () => {
  it('denies PutEvents of source elevate to every principal but the roles that publish', () => {
    // Prepare
    const publishers = ofType('AWS::IAM::Policy')
      .filter(([, p]) =>
        (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement.some((s) =>
          actions(s).includes('events:PutEvents'),
        ),
      )
      .flatMap(([, p]) => (p.Properties.Roles as { Ref: string }[]).map((r) => r.Ref));
    const policies = ofType('AWS::Events::EventBusPolicy');
    const bus = ofType('AWS::Events::EventBus')[0]?.[0] as string;

    // Assess
    expect(publishers.length).toBeGreaterThan(0);
    expect(policies).toHaveLength(1);
    const statement = policies[0]?.[1].Properties.Statement as Statement & { Principal: unknown };
    expect(policies[0]?.[1].Properties.EventBusName).toEqual({ Ref: bus });
    expect(statement).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'events:PutEvents',
      Resource: { 'Fn::GetAtt': [bus, 'Arn'] },
      Condition: {
        StringEquals: { 'events:source': EVENT_SOURCE },
        ArnNotEquals: { 'aws:PrincipalArn': expect.any(Array) },
      },
    });
    const allowed = (statement.Condition as { ArnNotEquals: { 'aws:PrincipalArn': unknown[] } }).ArnNotEquals[
      'aws:PrincipalArn'
    ];
    const byText = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));
    expect([...allowed].sort(byText)).toEqual(publishers.map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] })).sort(byText));
  });
});

describe('least-privilege Identity Center actions of the session fence and drift', () => {
  /** The roles (logical id without its hash) whose policies allow `action`. */
  const holders = (action: string): string[] =>
    ofType('AWS::IAM::Policy')
      .filter(([, p]) =>
        (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement.some(
          (s) => s.Effect === 'Allow' && actions(s).includes(action),
        ),
      )
      .flatMap(([, p]) => (p.Properties.Roles as { Ref: string }[]).map((r) => r.Ref.replace(/[0-9A-F]{8}$/, '')))
      .sort();

  it.each([
    // the fence: the removal path (workflow handler) and unfenceDue (reconcile)
    ['sso:GetInlinePolicyForPermissionSet', ['SchedulesReconcileFunctionRole', 'WorkflowHandlerRole']],
    ['sso:PutInlinePolicyToPermissionSet', ['SchedulesReconcileFunctionRole', 'WorkflowHandlerRole']],
    ['sso:DeleteInlinePolicyFromPermissionSet', ['SchedulesReconcileFunctionRole', 'WorkflowHandlerRole']],
    ['sso:ProvisionPermissionSet', ['SchedulesReconcileFunctionRole', 'WorkflowHandlerRole']],
    ['sso:DescribePermissionSetProvisioningStatus', ['SchedulesReconcileFunctionRole', 'WorkflowHandlerRole']],
    // drift: listing, and removal in remove mode (the workflow handler deletes what its grants provisioned)
    ['sso:ListAccountsForProvisionedPermissionSet', ['SchedulesDriftFunctionRole']],
    ['sso:ListAccountAssignments', ['SchedulesDriftFunctionRole', 'WorkflowHandlerRole']],
    ['sso:DeleteAccountAssignment', ['SchedulesDriftFunctionRole', 'WorkflowHandlerRole']],
    ['sso:DescribeAccountAssignmentDeletionStatus', ['SchedulesDriftFunctionRole', 'WorkflowHandlerRole']],
    ['identitystore:ListGroupMemberships', ['SchedulesDriftFunctionRole', 'WorkflowHandlerRole']],
    ['identitystore:DeleteGroupMembership', ['SchedulesDriftFunctionRole', 'WorkflowHandlerRole']],
    // the IAM actions AWS documents for the assignment and provisioning calls, on Identity Center's own roles
    ['iam:PutRolePolicy', ['SchedulesDriftFunctionRole', 'SchedulesReconcileFunctionRole', 'WorkflowHandlerRole']],
  ])('grants %s to exactly the functions that call it', (action, roles) => {
    expect(holders(action)).toEqual(roles);
  });

  it('grants the IAM actions only on the roles and SAML providers Identity Center manages', () => {
    for (const role of ['SchedulesReconcileFunctionRole', 'SchedulesDriftFunctionRole']) {
      const iam = statementsOf(role).filter((s) => actions(s).some((a) => a.startsWith('iam:')));
      expect(iam.map((s) => JSON.stringify(s.Resource))).toEqual([
        expect.stringContaining(':iam::*:role/aws-reserved/sso.amazonaws.com/*'),
        expect.stringContaining(':iam::*:saml-provider/AWSSSO_*'),
      ]);
    }
  });
});

describe('the Identity Center, identity store and IAM statements, statement by statement', () => {
  /** A statement's actions and the shape of its resources (CloudFormation tokens flattened to text). */
  const shape = (s: Statement) => ({
    actions: actions(s),
    resources: (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).map((r) =>
      JSON.stringify(r)
        .replace(/IdentityCenterConfigured[0-9A-F]{8}/g, 'IdentityCenterConfigured')
        .replace(/"/g, ''),
    ),
    condition: s.Condition,
  });
  const identityCenter = (role: string) =>
    statementsOf(role)
      .filter((s) => actions(s).some((a) => /^(sso|identitystore|iam|organizations):/.test(a)))
      .map(shape);
  const PERMISSION_SETS = expect.stringMatching(
    /:sso:::permissionSet\/.*IdentityCenterInstanceArn.*not-configured\/\*/,
  );
  const INSTANCE = expect.stringMatching(/^\{Fn::If:\[IdentityCenterConfigured,\{Ref:IdentityCenterInstanceArn\}/);
  const ACCOUNTS = expect.stringMatching(/:sso:::account\/\*\]\]\}$/);
  const STORE = expect.stringMatching(
    /:identitystore::,\{Ref:AWS::AccountId\},:identitystore\/,\{Ref:IdentityStoreId\}/,
  );
  const store = (kinds: string[]) => [STORE, ...kinds.map((k) => expect.stringContaining(`:identitystore:::${k}/*`))];
  // What AWS documents of the calls (docs/deploy.md, "IAM"): CreateAccountAssignment, DeleteAccountAssignment and
  // ProvisionPermissionSet act on the role Identity Center manages for the permission set (and its SAML provider).
  const MANAGED_ROLES = {
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
    resources: [expect.stringContaining(':iam::*:role/aws-reserved/sso.amazonaws.com/*]]}')],
    condition: undefined,
  };
  const SAML_PROVIDERS = {
    actions: ['iam:CreateSAMLProvider', 'iam:GetSAMLProvider', 'iam:UpdateSAMLProvider'],
    resources: [expect.stringContaining(':iam::*:saml-provider/AWSSSO_*]]}')],
    condition: undefined,
  };

  it('gives the workflow handler (provisioning, removal, fence) exactly its calls', () => {
    expect(identityCenter('WorkflowHandlerRole')).toEqual([
      {
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
        resources: [PERMISSION_SETS, INSTANCE, ACCOUNTS],
        condition: undefined,
      },
      {
        actions: [
          'sso:DescribeAccountAssignmentCreationStatus',
          'sso:DescribeAccountAssignmentDeletionStatus',
          'sso:DescribePermissionSetProvisioningStatus',
        ],
        resources: [INSTANCE],
        condition: undefined,
      },
      {
        actions: [
          'identitystore:CreateGroupMembership',
          'identitystore:DeleteGroupMembership',
          'identitystore:DescribeUser',
          'identitystore:GetGroupMembershipId',
          'identitystore:GetUserId',
          'identitystore:ListGroupMemberships',
        ],
        resources: store(['group', 'membership', 'user']),
        condition: undefined,
      },
      MANAGED_ROLES,
      SAML_PROVIDERS,
    ]);
  });

  it('gives the reconcile job (pre-grant reads, unfencing) exactly its calls', () => {
    expect(identityCenter('SchedulesReconcileFunctionRole')).toEqual([
      { actions: ['sso:DescribePermissionSet'], resources: [PERMISSION_SETS, INSTANCE], condition: undefined },
      {
        actions: ['identitystore:DescribeGroup', 'identitystore:GetUserId'],
        resources: store(['group', 'user']),
        condition: undefined,
      },
      {
        actions: ['organizations:DescribeAccount'],
        resources: [expect.stringContaining(':organizations::*:account/o-*/*]]}')],
        condition: undefined,
      },
      {
        actions: [
          'sso:DeleteInlinePolicyFromPermissionSet',
          'sso:DescribePermissionSet',
          'sso:GetInlinePolicyForPermissionSet',
          'sso:ProvisionPermissionSet',
          'sso:PutInlinePolicyToPermissionSet',
        ],
        resources: [PERMISSION_SETS, INSTANCE, ACCOUNTS],
        condition: undefined,
      },
      { actions: ['sso:DescribePermissionSetProvisioningStatus'], resources: [INSTANCE], condition: undefined },
      MANAGED_ROLES,
      SAML_PROVIDERS,
    ]);
  });

  it('gives the drift job exactly its calls', () => {
    expect(identityCenter('SchedulesDriftFunctionRole')).toEqual([
      {
        actions: [
          'sso:DeleteAccountAssignment',
          'sso:ListAccountAssignments',
          'sso:ListAccountsForProvisionedPermissionSet',
        ],
        resources: [PERMISSION_SETS, INSTANCE, ACCOUNTS],
        condition: undefined,
      },
      { actions: ['sso:DescribeAccountAssignmentDeletionStatus'], resources: [INSTANCE], condition: undefined },
      {
        actions: [
          'identitystore:DeleteGroupMembership',
          'identitystore:GetUserId',
          'identitystore:ListGroupMemberships',
        ],
        resources: store(['group', 'membership', 'user']),
        condition: undefined,
      },
      MANAGED_ROLES,
      SAML_PROVIDERS,
    ]);
  });
});
