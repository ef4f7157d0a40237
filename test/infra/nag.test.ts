import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it, vi } from 'vitest';
import { SCHEDULES } from '#functions/scheduled/schedules.ts';
import { SCHEDULE_CAPABILITIES } from '#infra/stack.ts';
import { buildApp, STACK_NAME } from '#infra/synth.ts';
import { FUNCTIONS } from '#shared/api/routes.ts';

/** How cdk-nag names the permission sets resource of IdentityCenterAccess (its resolved JSON). */
const PERMISSION_SETS = JSON.stringify({
  'Fn::If': [
    'IdentityCenterConfigured60312E7D',
    {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
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
    { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sso:::permissionSet/not-configured/*']] },
  ],
});

/** Every acknowledgement in the app: the construct it sits on, the rule id and the reason. */
function acknowledgements(root: ReturnType<typeof buildApp>['app']) {
  const found: { path: string; id: string; reason: unknown }[] = [];
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) {
        // CDK itself acknowledges CloudFormation-Validate::W3045 on server access log buckets; not cdk-nag's
        if (id.includes('CloudFormation-Validate::')) continue;
        found.push({ path: construct.node.path, id: id.replace(/^annotation::/i, ''), reason });
      }
    }
  }
  return found;
}

describe('cdk-nag AwsSolutions', () => {
  it('finds no unacknowledged error or warning', () => {
    // Prepare
    const { app } = buildApp({ bundling: false, nag: false });

    // Act
    const report = new AwsSolutionsChecks(app).validateScope(app);

    // Assess
    expect(report.violations.map((v) => `${v.severity} ${v.ruleName}: ${v.description}`)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('lets the app synthesize with the checks registered, as cdk synth does', () => {
    // Prepare
    const { app } = buildApp({ bundling: false });

    // Act + Assess: a violation makes synth throw
    expect(() => app.synth()).not.toThrow();
    // A full synthesis with the checks: about 10 s on a quiet machine, over 60 s on a loaded 2-core one.
  }, 180_000);

  it('acknowledges only named findings, each on its own resource and with a reason', () => {
    // Prepare
    const { app } = buildApp({ bundling: false, nag: false });

    // Act
    const found = acknowledgements(app);

    // Assess
    // logical ids lose their hash suffix: <BootstrapHandler7B31C7A5.Arn> → <BootstrapHandler*.Arn>
    const named = found.map(
      ({ path, id }) => `${path} ${id.replace(/<([A-Za-z0-9]+?)[0-9A-F]{8}\.Arn>/g, '<$1*.Arn>')}`,
    );
    const executions = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${STACK_NAME}-access-workflow:*`;
    expect(named.sort()).toEqual(
      [
        // the audit/ prefix of the export bucket, and the audit-export function's qualified ARNs
        'Elevate/Api/ExportsFunctionRole AwsSolutions-IAM5[Resource::<AuditBucket*.Arn>/audit/*]',
        'Elevate/Api/ExportsFunctionRole AwsSolutions-IAM5[Resource::<SchedulesAuditExportFunction*.Arn>:*]',
        'Elevate/Schedules/AuditExportFunctionRole AwsSolutions-IAM5[Resource::<AuditBucket*.Arn>/audit/*]',
        // reconcile starts again the exports whose job never ran
        'Elevate/Schedules/ReconcileFunctionRole AwsSolutions-IAM5[Resource::<SchedulesAuditExportFunction*.Arn>:*]',
        'Elevate/Api/GetOpenApi AwsSolutions-APIG4',
        // task tokens (SendTask*: no resource-level permissions) and the machine's executions (StopExecution)
        'Elevate/Api/RequestsFunctionRole AwsSolutions-IAM5[Resource::*]',
        'Elevate/Api/ReviewsFunctionRole AwsSolutions-IAM5[Resource::*]',
        `Elevate/Api/RequestsFunctionRole AwsSolutions-IAM5[Resource::${executions}]`,
        // an approved pending change may remove an assignment (StopExecution on the machine's executions)
        `Elevate/Api/GovernanceFunctionRole AwsSolutions-IAM5[Resource::${executions}]`,
        // ses:GetAccount (the mailer's send quota) takes no resource
        'Elevate/Api/GovernanceFunctionRole AwsSolutions-IAM5[Resource::*]',
        // every API function runs the house runtime (from the route table, so a new function is expected too)
        ...FUNCTIONS.map((fn) => `Elevate/Api/${fn.charAt(0).toUpperCase()}${fn.slice(1)}Function AwsSolutions-L1`),
        'Elevate/Bootstrap/Handler AwsSolutions-L1',
        'Elevate/Bootstrap/ProviderRole AwsSolutions-IAM5[Resource::<BootstrapHandler*.Arn>:*]',
        'Elevate/Console/Publisher AwsSolutions-L1',
        'Elevate/Console/ProviderRole AwsSolutions-IAM5[Resource::<ConsolePublisher*.Arn>:*]',
        'Elevate/Console/PublisherRole AwsSolutions-IAM5[Resource::<ConsoleBucket*.Arn>/*]',
        'Elevate/Console/Distribution AwsSolutions-CFR1',
        'Elevate/Console/Distribution AwsSolutions-CFR2',
        'Elevate/Console/Distribution AwsSolutions-CFR4',
        ...SCHEDULES.flatMap((job) => {
          const pascal = job.name.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase());
          const id = `Elevate/Schedules/${pascal}Function`;
          // task tokens (SendTask*) and the SES send quota (GetAccount) take no resource
          const tokens = ['taskResponse', 'mail'].some((c) => SCHEDULE_CAPABILITIES[job.name]?.includes(c as never));
          return [`${id} AwsSolutions-L1`, ...(tokens ? [`${id}Role AwsSolutions-IAM5[Resource::*]`] : [])];
        }),
        // Identity Center: the instance's permission sets, identity store users/groups, member accounts (read)
        ...[
          'Elevate/Api/RolesFunctionRole',
          'Elevate/Api/RequestsFunctionRole',
          'Elevate/Api/GovernanceFunctionRole',
          'Elevate/Workflow/HandlerRole',
          // reconcile grants scheduled starts: it finds the principal's Identity Center user
          'Elevate/Schedules/ReconcileFunctionRole',
        ].flatMap((role) => [
          `${role} AwsSolutions-IAM5[Resource::${PERMISSION_SETS}]`,
          `${role} AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:identitystore:::user/*]`,
          `${role} AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:identitystore:::group/*]`,
        ]),
        'Elevate/Api/RolesFunctionRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:organizations::*:account/o-*/*]',
        'Elevate/Api/RequestsFunctionRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:organizations::*:account/o-*/*]',
        'Elevate/Api/GovernanceFunctionRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:organizations::*:account/o-*/*]',
        'Elevate/Schedules/ReconcileFunctionRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:organizations::*:account/o-*/*]',
        // the provisioner: member accounts, memberships, and the IAM actions AWS documents on Identity Center's roles
        'Elevate/Workflow/HandlerRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sso:::account/*]',
        'Elevate/Workflow/HandlerRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:identitystore:::membership/*]',
        'Elevate/Workflow/HandlerRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/aws-reserved/sso.amazonaws.com/*]',
        'Elevate/Workflow/HandlerRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:saml-provider/AWSSSO_*]',
        // the session fence (reconcile: unfenceDue): permission sets' inline policies, provisioned to member accounts
        // (reconcile's permission sets are acknowledged once, above: one finding per resource)
        'Elevate/Schedules/DriftFunctionRole AwsSolutions-IAM5[Resource::' + PERMISSION_SETS + ']',
        ...['Elevate/Schedules/ReconcileFunctionRole', 'Elevate/Schedules/DriftFunctionRole'].flatMap((role) => [
          `${role} AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sso:::account/*]`,
          `${role} AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/aws-reserved/sso.amazonaws.com/*]`,
          `${role} AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:saml-provider/AWSSSO_*]`,
        ]),
        // drift: users looked up, managed groups' memberships listed and (remove mode) removed
        'Elevate/Schedules/DriftFunctionRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:identitystore:::user/*]',
        'Elevate/Schedules/DriftFunctionRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:identitystore:::group/*]',
        'Elevate/Schedules/DriftFunctionRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:identitystore:::membership/*]',
        // organizations:ListRoots has no resource-level permissions
        'Elevate/Schedules/OrganizationSyncFunctionRole AwsSolutions-IAM5[Resource::*]',
        'Elevate/Workflow/Handler AwsSolutions-L1',
        // the outbox publisher: the house runtime, and its dead-letter queue (a Lambda on-failure destination)
        'Elevate/Outbox/Handler AwsSolutions-L1',
        'Elevate/Outbox/DeadLetters AwsSolutions-SQS3',
        // the jobs' failure queue (the rules' DLQ and the asynchronous invocations' on-failure destination)
        'Elevate/Schedules/Failures AwsSolutions-SQS3',
        // the mail feedback function (SES bounces and complaints): the house runtime, and its failure queue
        'Elevate/Mail/FeedbackFunction AwsSolutions-L1',
        'Elevate/Mail/FeedbackFailures AwsSolutions-SQS3',
        'Elevate/Workflow/HandlerRole AwsSolutions-IAM5[Resource::*]',
        'Elevate/Workflow/StateMachine AwsSolutions-SF1',
        'Elevate/Workflow/StateMachine AwsSolutions-SF2',
        // log delivery (Resource *) and the invoke of the handler's qualified ARNs
        'Elevate/Workflow/StateMachine/Role AwsSolutions-IAM5[Resource::*]',
        'Elevate/Workflow/StateMachine/Role AwsSolutions-IAM5[Resource::<WorkflowHandler*.Arn>:*]',
      ].sort(),
    );
    for (const { reason } of found) {
      expect(typeof reason).toBe('string');
      expect((reason as string).trim().length).toBeGreaterThan(20);
    }
  });

  it('acknowledges nothing that is not a real finding', () => {
    // Prepare: the acknowledgements, then the same app with acknowledge() switched off
    const acknowledged = acknowledgements(buildApp({ bundling: false, nag: false }).app);
    const spy = vi.spyOn(Validations.prototype, 'acknowledge').mockImplementation(() => {});
    try {
      const { app } = buildApp({ bundling: false, nag: false });

      // Act
      const report = new AwsSolutionsChecks(app).validateScope(app);

      // Assess: each acknowledgement matches exactly one finding of its rule on a resource below it
      const findings = report.violations.flatMap((v) =>
        v.violatingResources.map((r) => ({ id: v.ruleName, path: r.constructPath ?? '' })),
      );
      for (const ack of acknowledged) {
        const matched = findings.filter((f) => f.id === ack.id && f.path.startsWith(`${ack.path}/`));
        expect(matched, `${ack.path} ${ack.id}`).toHaveLength(1);
      }
      expect(findings).toHaveLength(acknowledged.length);
    } finally {
      spy.mockRestore();
    }
  });
});
