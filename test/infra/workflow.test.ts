import { Duration } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { Schedule } from 'aws-cdk-lib/aws-events';
import { beforeAll, describe, expect, it } from 'vitest';
import { SCHEDULES } from '#functions/scheduled/schedules.ts';
import { AUDIT_DENIED_ACTIONS, INDEX_ACTIONS, READ_ACTIONS, WRITE_ACTIONS } from '#infra/constructs/data.ts';
import { parseSchedule } from '#infra/constructs/schedules.ts';
import { TASK_RESPONSE_ACTIONS } from '#infra/constructs/workflow.ts';
import { OUTBOX_STREAM_FILTERS } from '#infra/outbox-filter.ts';
import { API_CAPABILITIES, EVENT_BUS_NAME, OUTBOX_CAPABILITIES, SCHEDULE_CAPABILITIES } from '#infra/stack.ts';
import { STACK_NAME, synthTemplate } from '#infra/synth.ts';
import { localFunctions, scheduledTargets, stateMachineDefinition } from '#infra/template.ts';
import { FUNCTIONS } from '#shared/api/routes.ts';
import { AUDIT_KEY_PREFIXES } from '#shared/store/records.ts';
import { TABLE } from '#shared/store/table.ts';
import {
  idcCheckStatements,
  idcDriftStatements,
  idcEnvironment,
  idcFenceStatements,
  idcProvisionStatements,
  organizationReadStatements,
} from '#test/support/idc-policy.ts';

let template: Template;

beforeAll(() => {
  template = synthTemplate({ bundling: false });
}, 60_000);

type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  DependsOn?: string | string[];
};
type Resources = Record<string, Resource>;
type State = Record<string, unknown>;

const resources = (type: string): Resources => template.findResources(type) as Resources;
const onlyKey = (found: Resources): string => {
  const keys = Object.keys(found);
  expect(keys).toHaveLength(1);
  return keys[0] as string;
};
const logicalId = (type: string, pattern: RegExp): string =>
  onlyKey(Object.fromEntries(Object.entries(resources(type)).filter(([k]) => pattern.test(k))));
const handlerId = () => logicalId('AWS::Lambda::Function', /^WorkflowHandler[0-9A-F]{8}$/);
const machineId = () => onlyKey(resources('AWS::StepFunctions::StateMachine'));
const busId = () => onlyKey(resources('AWS::Events::EventBus'));
const tableRef = () => ({ 'Fn::GetAtt': [onlyKey(resources('AWS::DynamoDB::GlobalTable')), 'Arn'] });
const pascal = (name: string) => name.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase());
const functionOf = (id: string): Resource => resources('AWS::Lambda::Function')[id] as Resource;
const variablesOf = (id: string): Record<string, unknown> =>
  (functionOf(id).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
const policyOf = (rolePrefix: string): unknown[] => {
  const found = Object.entries(resources('AWS::IAM::Policy')).filter(([k]) =>
    new RegExp(`^${rolePrefix}DefaultPolicy[0-9A-F]{8}$`).test(k),
  );
  expect(found).toHaveLength(1);
  const document = (found[0]?.[1].Properties.PolicyDocument ?? {}) as { Statement: unknown[] };
  return document.Statement;
};
const logStatement = (logGroupPrefix: string) => ({
  Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  Effect: 'Allow',
  Resource: { 'Fn::GetAtt': [logicalId('AWS::Logs::LogGroup', new RegExp(`^${logGroupPrefix}[0-9A-F]{8}$`)), 'Arn'] },
});
const pseudoArn = (service: string, resource: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      `:${service}:`,
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      `:${resource}`,
      ...(resource.endsWith('/') ? [{ Ref: 'SenderAddress' }] : []),
    ],
  ],
});
const tableStatements = () => [
  { Action: [...READ_ACTIONS, ...WRITE_ACTIONS].sort(), Effect: 'Allow', Resource: tableRef() },
  {
    Action: INDEX_ACTIONS[0],
    Effect: 'Allow',
    Resource: TABLE.globalSecondaryIndexes.map((i) => ({ 'Fn::Join': ['', [tableRef(), `/index/${i.indexName}`]] })),
  },
  {
    Action: [...AUDIT_DENIED_ACTIONS].sort(),
    Condition: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': AUDIT_KEY_PREFIXES.map((p) => `${p}*`) } },
    Effect: 'Deny',
    Resource: tableRef(),
  },
];
/** The task-token actions and the SES send quota share the one Resource "*" statement of a role that does both. */
const taskResponseAndQuota = {
  Action: ['ses:GetAccount', ...TASK_RESPONSE_ACTIONS].sort(),
  Effect: 'Allow',
  Resource: '*',
};
const sendQuota = { Action: 'ses:GetAccount', Effect: 'Allow', Resource: '*' };
const startExecution = () => ({ Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: machineId() } });
/** The scheduled jobs' on-failure destination (asynchronous invocations that failed after their retries). */
const jobFailures = () => ({
  Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
  Effect: 'Allow',
  Resource: {
    'Fn::GetAtt': [
      onlyKey(
        Object.fromEntries(
          Object.entries(resources('AWS::SQS::Queue')).filter(([k]) => k.startsWith('SchedulesFailures')),
        ),
      ),
      'Arn',
    ],
  },
});
const putEvents = () => ({ Action: 'events:PutEvents', Effect: 'Allow', Resource: { 'Fn::GetAtt': [busId(), 'Arn'] } });
/** SES authorizes a send against the sender identity and the configuration set it goes out under. */
const sendEmail = {
  Action: 'ses:SendEmail',
  Effect: 'Allow',
  Resource: [
    {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':ses:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':configuration-set/',
          { Ref: expect.stringMatching(/^MailConfigurationSet[0-9A-F]{8}$/) },
        ],
      ],
    },
    pseudoArn('ses', 'identity/'),
  ],
};
const machineName = `${STACK_NAME}-access-workflow`;
/** The $default stage's URL: it refers to the HTTP API only (no function), so any function may hold it. */
const apiUrl = () => ({
  'Fn::Join': [
    '',
    [
      'https://',
      { Ref: logicalId('AWS::ApiGatewayV2::Api', /^Api/) },
      '.execute-api.',
      { Ref: 'AWS::Region' },
      '.',
      { Ref: 'AWS::URLSuffix' },
      '/',
    ],
  ],
});

/** The ASL with every token as a placeholder: `<Logical.Attr>` for Fn::GetAtt, `<Name>` for Ref. */
function rawDefinition(): { StartAt: string; States: Record<string, State>; QueryLanguage?: string } {
  const source = resources('AWS::StepFunctions::StateMachine')[machineId()]?.Properties.DefinitionString as {
    'Fn::Join': [string, unknown[]];
  };
  const text = source['Fn::Join'][1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const { Ref, 'Fn::GetAtt': getAtt } = part as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
      if (Ref !== undefined) return `<${Ref}>`;
      if (getAtt !== undefined) return `<${getAtt[0]}.${getAtt[1]}>`;
      throw new Error(`unexpected token ${JSON.stringify(part)}`);
    })
    .join('');
  return JSON.parse(text);
}

/** Every task: a refusal is final; Lambda service errors (throttling, lost answers) and function errors retried. */
const RETRY = [
  { ErrorEquals: ['DomainError', 'Denied', 'Canceled'], MaxAttempts: 0 },
  {
    ErrorEquals: [
      'Lambda.ClientExecutionTimeoutException',
      'Lambda.ServiceException',
      'Lambda.AWSLambdaException',
      'Lambda.SdkClientException',
      'Lambda.TooManyRequestsException',
      'Lambda.Unknown',
    ],
    IntervalSeconds: 2,
    MaxAttempts: 8,
    BackoffRate: 2,
    MaxDelaySeconds: 60,
    JitterStrategy: 'FULL',
  },
  {
    ErrorEquals: ['States.TaskFailed'],
    IntervalSeconds: 5,
    MaxAttempts: 4,
    BackoffRate: 2,
    MaxDelaySeconds: 60,
    JitterStrategy: 'FULL',
  },
];
/** Only a domain refusal fails the request; whatever outlasts the retries ends the execution (the reconcile job takes over). */
const TO_FAILED = { ErrorEquals: ['DomainError'], ResultPath: '$.error', Next: 'Failed' };
const TO_GAVE_UP = { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'GaveUp' };
const pastHorizon = (path: string) => [
  { Variable: path, IsPresent: true },
  { Variable: path, IsTimestamp: true },
  { Variable: path, TimestampGreaterThanPath: '$.horizon' },
];

const stillProvisioning = [
  { Variable: '$.grant.provisioning', IsPresent: true },
  { Variable: '$.grant.provisioning', BooleanEquals: true },
];
const stillDeprovisioning = [
  { Variable: '$.expiry.deprovisioning', IsPresent: true },
  { Variable: '$.expiry.deprovisioning', BooleanEquals: true },
];

describe('access workflow ASL', () => {
  it('has exactly the named states, JSONPath only, starting at Phase', () => {
    // Act
    const asl = rawDefinition();

    // Assess
    expect(asl.StartAt).toBe('Phase');
    expect(asl.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    expect(Object.fromEntries(Object.entries(asl.States).map(([name, state]) => [name, state.Type]))).toEqual({
      Phase: 'Choice',
      AwaitApproval: 'Task',
      TimeOut: 'Task',
      Failed: 'Task',
      'NextStage?': 'Choice',
      NextStage: 'Pass',
      WaitForStart: 'Wait',
      Grant: 'Task',
      Provision: 'Task',
      'Provisioned?': 'Choice',
      WaitToProvision: 'Wait',
      'Granted?': 'Choice',
      WaitForEnd: 'Wait',
      Expire: 'Task',
      'Expired?': 'Choice',
      Deprovision: 'Task',
      'Deprovisioned?': 'Choice',
      WaitToDeprovision: 'Wait',
      KeepWaiting: 'Pass',
      WaitForHorizon: 'Wait',
      Continue: 'Task',
      Continued: 'Succeed',
      GaveUp: 'Fail',
      Ended: 'Succeed',
    });
  });

  it('branches on the phase, waiting for the horizon instead when the start or the end is past it', () => {
    // Assess
    expect(rawDefinition().States.Phase).toEqual({
      Type: 'Choice',
      Choices: [
        { Variable: '$.phase', StringEquals: 'approval', Next: 'AwaitApproval' },
        { Variable: '$.phase', StringEquals: 'provision', Next: 'Provision' },
        { Variable: '$.phase', StringEquals: 'deprovision', Next: 'Deprovision' },
        {
          And: [{ Variable: '$.phase', StringEquals: 'start' }, ...pastHorizon('$.startDateTime')],
          Next: 'WaitForHorizon',
        },
        { Variable: '$.phase', StringEquals: 'start', Next: 'WaitForStart' },
        { And: pastHorizon('$.grant.waitUntil'), Next: 'WaitForHorizon' },
      ],
      Default: 'WaitForEnd',
    });
  });

  it('carries a wait past the horizon on in a new execution, so none outlives the one-year limit', () => {
    // Prepare
    const fn = `<${handlerId()}.Arn>`;

    // Assess
    const { States } = rawDefinition();
    expect(States.WaitForHorizon).toEqual({ Type: 'Wait', TimestampPath: '$.horizon', Next: 'Continue' });
    expect(States.Continue).toEqual({
      Type: 'Task',
      Resource: 'arn:<AWS::Partition>:states:::lambda:invoke',
      Parameters: {
        FunctionName: fn,
        Payload: { kind: 'continue', 'requestId.$': '$.requestId', 'execution.$': '$$.Execution.Name' },
      },
      ResultPath: null,
      Retry: RETRY,
      Catch: [TO_GAVE_UP],
      Next: 'Continued',
    });
    expect(States.Continued).toEqual({ Type: 'Succeed' });
    expect(States.GaveUp).toEqual({
      Type: 'Fail',
      Error: 'Elevate.StepFailed',
      Cause: 'a workflow step kept failing after its retries; the reconcile job does what it would have done',
    });
  });

  it('awaits each approval stage on a task token with the stage timeout, catching timeout, denial and failure', () => {
    // Prepare
    const fn = `<${handlerId()}.Arn>`;

    // Assess
    const { States } = rawDefinition();
    expect(States.AwaitApproval).toEqual({
      Type: 'Task',
      Resource: 'arn:<AWS::Partition>:states:::lambda:invoke.waitForTaskToken',
      Parameters: {
        FunctionName: fn,
        Payload: {
          kind: 'awaitApproval',
          'requestId.$': '$.requestId',
          'stage.$': '$.stage',
          'taskToken.$': '$$.Task.Token',
        },
      },
      TimeoutSecondsPath: '$.stageTimeoutSeconds',
      ResultPath: '$.decision',
      Retry: RETRY,
      Catch: [
        { ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'TimeOut' },
        { ErrorEquals: ['Denied', 'Canceled'], ResultPath: '$.error', Next: 'Ended' },
        TO_FAILED,
        TO_GAVE_UP,
      ],
      Next: 'NextStage?',
    });
    expect(States.TimeOut).toMatchObject({
      Resource: 'arn:<AWS::Partition>:states:::lambda:invoke',
      Parameters: {
        FunctionName: fn,
        Payload: { kind: 'timedOut', 'requestId.$': '$.requestId', 'stage.$': '$.stage' },
      },
      ResultPath: null,
      Retry: RETRY,
      Catch: [TO_GAVE_UP],
      Next: 'Ended',
    });
    expect(States.Failed).toMatchObject({
      Resource: 'arn:<AWS::Partition>:states:::lambda:invoke',
      Parameters: { FunctionName: fn, Payload: { kind: 'failed', 'requestId.$': '$.requestId', 'error.$': '$.error' } },
      ResultPath: null,
      Retry: RETRY,
      Catch: [TO_GAVE_UP],
      Next: 'Ended',
    });
  });

  it('goes to the next stage while the decision names one, else waits for the start', () => {
    // Assess
    const { States } = rawDefinition();
    expect(States['NextStage?']).toEqual({
      Type: 'Choice',
      Choices: [
        {
          And: [
            { Variable: '$.decision.next', IsPresent: true },
            { Variable: '$.decision.next', IsNumeric: true },
          ],
          Next: 'NextStage',
        },
        { And: pastHorizon('$.startDateTime'), Next: 'WaitForHorizon' },
      ],
      Default: 'WaitForStart',
    });
    expect(States.NextStage).toEqual({
      Type: 'Pass',
      Parameters: {
        'requestId.$': '$.requestId',
        'phase.$': '$.phase',
        'startDateTime.$': '$.startDateTime',
        'horizon.$': '$.horizon',
        'stage.$': '$.decision.next',
        'stageTimeoutSeconds.$': '$.decision.stageTimeoutSeconds',
      },
      Next: 'AwaitApproval',
    });
  });

  it('waits for the start, grants, and waits for the end only when granted with an end', () => {
    // Prepare
    const fn = `<${handlerId()}.Arn>`;

    // Assess
    const { States } = rawDefinition();
    expect(States.WaitForStart).toEqual({ Type: 'Wait', TimestampPath: '$.startDateTime', Next: 'Grant' });
    expect(States.Grant).toEqual({
      Type: 'Task',
      Resource: fn,
      Parameters: { kind: 'grant', 'requestId.$': '$.requestId' },
      ResultPath: '$.grant',
      Retry: RETRY,
      Catch: [TO_FAILED, TO_GAVE_UP],
      Next: 'Granted?',
    });
    const grantedWithEnd = [
      { Variable: '$.grant.granted', IsPresent: true },
      { Variable: '$.grant.granted', BooleanEquals: true },
      { Variable: '$.grant.waitUntil', IsPresent: true },
      { Variable: '$.grant.waitUntil', IsString: true },
    ];
    expect(States['Granted?']).toEqual({
      Type: 'Choice',
      Choices: [
        { And: stillProvisioning, Next: 'Provision' },
        {
          And: [
            ...grantedWithEnd,
            { Variable: '$.grant.waitUntil', IsTimestamp: true },
            { Variable: '$.grant.waitUntil', TimestampGreaterThanPath: '$.horizon' },
          ],
          Next: 'WaitForHorizon',
        },
        { And: grantedWithEnd, Next: 'WaitForEnd' },
      ],
      Default: 'Ended',
    });
  });

  it('waits for the end and expires, waiting again while the assignment is extended', () => {
    // Prepare
    const fn = `<${handlerId()}.Arn>`;

    // Assess
    const { States } = rawDefinition();
    expect(States.WaitForEnd).toEqual({ Type: 'Wait', TimestampPath: '$.grant.waitUntil', Next: 'Expire' });
    expect(States.Expire).toEqual({
      Type: 'Task',
      Resource: fn,
      Parameters: { kind: 'expire', 'requestId.$': '$.requestId' },
      ResultPath: '$.expiry',
      Retry: RETRY,
      Catch: [TO_FAILED, TO_GAVE_UP],
      Next: 'Expired?',
    });
    expect(States['Expired?']).toEqual({
      Type: 'Choice',
      Choices: [
        { And: stillDeprovisioning, Next: 'Deprovision' },
        { Variable: '$.expiry.expired', BooleanEquals: true, Next: 'Ended' },
        { And: pastHorizon('$.expiry.waitUntil'), Next: 'WaitForHorizon' },
      ],
      Default: 'KeepWaiting',
    });
    expect(States.KeepWaiting).toEqual({
      Type: 'Pass',
      Parameters: {
        'requestId.$': '$.requestId',
        'phase.$': '$.phase',
        'startDateTime.$': '$.startDateTime',
        'horizon.$': '$.horizon',
        grant: { granted: true, 'waitUntil.$': '$.expiry.waitUntil' },
      },
      Next: 'WaitForEnd',
    });
    expect(States.Ended).toEqual({ Type: 'Succeed' });
  });

  it('provisions a grant in AWS before it keeps its end: create, then look again after the wait the step asks for', () => {
    // Prepare
    const fn = `<${handlerId()}.Arn>`;

    // Assess (`Granted?` goes to Provision first: see above)
    const { States } = rawDefinition();
    expect(States.Provision).toEqual({
      Type: 'Task',
      Resource: fn,
      Parameters: { kind: 'provision', 'requestId.$': '$.requestId', 'assignmentId.$': '$.grant.assignmentId' },
      ResultPath: '$.grant',
      Retry: RETRY,
      Catch: [TO_FAILED, TO_GAVE_UP],
      Next: 'Provisioned?',
    });
    expect(States['Provisioned?']).toEqual({
      Type: 'Choice',
      Choices: [{ And: stillProvisioning, Next: 'WaitToProvision' }],
      Default: 'Granted?',
    });
    expect(States.WaitToProvision).toEqual({ Type: 'Wait', SecondsPath: '$.grant.waitSeconds', Next: 'Provision' });
  });

  it('takes an ended grant away in AWS: delete, then look again after the wait the step asks for', () => {
    // Prepare
    const fn = `<${handlerId()}.Arn>`;

    // Assess
    const { States } = rawDefinition();
    expect(States.Deprovision).toEqual({
      Type: 'Task',
      Resource: fn,
      Parameters: { kind: 'deprovision', 'requestId.$': '$.requestId', 'assignmentId.$': '$.expiry.assignmentId' },
      ResultPath: '$.expiry',
      Retry: RETRY,
      Catch: [TO_FAILED, TO_GAVE_UP],
      Next: 'Deprovisioned?',
    });
    expect(States['Deprovisioned?']).toEqual({
      Type: 'Choice',
      Choices: [{ And: stillDeprovisioning, Next: 'WaitToDeprovision' }],
      Default: 'Ended',
    });
    expect(States.WaitToDeprovision).toEqual({
      Type: 'Wait',
      SecondsPath: '$.expiry.waitSeconds',
      Next: 'Deprovision',
    });
  });
});

/** The `slack` capability: reading the Slack secret, and nothing else of Secrets Manager (test/infra/slack.test.ts). */
const slackSecretRead = {
  Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
  Effect: 'Allow',
  Resource: { Ref: expect.stringMatching(/^SlackSecret[0-9A-F]{8}$/) },
};

describe('access workflow resources', () => {
  it('is a STANDARD machine with a fixed name, logging errors without execution data, untraced', () => {
    // Assess
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: machineName,
      StateMachineType: 'STANDARD',
      LoggingConfiguration: {
        Level: 'ERROR',
        IncludeExecutionData: false,
        Destinations: [
          {
            CloudWatchLogsLogGroup: {
              LogGroupArn: { 'Fn::GetAtt': [logicalId('AWS::Logs::LogGroup', /^WorkflowLogs/), 'Arn'] },
            },
          },
        ],
      },
    });
    const machine = resources('AWS::StepFunctions::StateMachine')[machineId()] as Resource;
    expect((machine.Properties.TracingConfiguration as { Enabled?: boolean } | undefined)?.Enabled ?? false).toBe(
      false,
    );
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: `/aws/vendedlogs/states/${machineName}`,
      RetentionInDays: 365,
    });
  });

  it('lets the machine invoke the workflow handler only, and deliver its logs', () => {
    // Prepare
    const fn = { 'Fn::GetAtt': [handlerId(), 'Arn'] };

    // Assess
    expect(policyOf('WorkflowStateMachineRole')).toEqual([
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: [fn, { 'Fn::Join': ['', [fn, ':*']] }] },
      {
        Action: [
          'logs:CreateLogDelivery',
          'logs:DeleteLogDelivery',
          'logs:DescribeLogGroups',
          'logs:DescribeResourcePolicies',
          'logs:GetLogDelivery',
          'logs:ListLogDeliveries',
          'logs:PutResourcePolicy',
          'logs:UpdateLogDelivery',
        ],
        Effect: 'Allow',
        Resource: '*',
      },
    ]);
  });

  it('gives the workflow handler the table, its own continuation, task responses and mail (events go through the outbox), and the machine ARN by name', () => {
    // Assess
    expect(policyOf('WorkflowHandlerRole')).toEqual([
      logStatement('WorkflowHandlerLogGroup'),
      ...tableStatements(),
      {
        Action: 'states:StartExecution',
        Effect: 'Allow',
        Resource: pseudoArn('states', `stateMachine:${machineName}`),
      },
      taskResponseAndQuota,
      sendEmail,
      // provisioning into Identity Center (the workflow's provisioning steps) and the session fence on removal
      ...idcProvisionStatements(),
      // a decision's Slack messages updated after it commits (docs/slack.md)
      slackSecretRead,
    ]);
    expect(variablesOf(handlerId()).EVENT_BUS_NAME).toBeUndefined();
    expect(variablesOf(handlerId())).toMatchObject({
      STATE_MACHINE_ARN: pseudoArn('states', `stateMachine:${machineName}`),
      ELEVATE_SENDER_ADDRESS: { Ref: 'SenderAddress' },
      ELEVATE_API_URL: apiUrl(),
    });
  });
});

describe('lifecycle bus and mail', () => {
  it('is one custom bus named elevate', () => {
    // Assess
    template.resourceCountIs('AWS::Events::EventBus', 1);
    template.hasResourceProperties('AWS::Events::EventBus', { Name: EVENT_BUS_NAME });
  });

  it('gives requests start, task response, stop and mail, with their environment', () => {
    // Prepare
    const requests = logicalId('AWS::Lambda::Function', /^ApiRequestsFunction[0-9A-F]{8}$/);

    // Assess
    expect(API_CAPABILITIES.requests).toEqual(['start', 'taskResponse', 'stop', 'mail', 'idcCheck', 'slack']);
    expect(policyOf('ApiRequestsFunctionRole')).toEqual([
      logStatement('ApiRequestsFunctionLogGroup'),
      ...tableStatements(),
      startExecution(),
      taskResponseAndQuota,
      { Action: 'states:StopExecution', Effect: 'Allow', Resource: pseudoArn('states', `execution:${machineName}:*`) },
      sendEmail,
      // the pre-grant checks against Identity Center and Organizations
      ...idcCheckStatements(),
      // a request's approvers messaged in Slack, a decision's messages updated (docs/slack.md)
      slackSecretRead,
    ]);
    expect(variablesOf(requests)).toMatchObject({
      ...idcEnvironment(),
      STATE_MACHINE_ARN: { Ref: machineId() },
      ELEVATE_SENDER_ADDRESS: { Ref: 'SenderAddress' },
      ELEVATE_API_URL: apiUrl(),
    });
  });

  it("gives Slack's interactions the decision's grants and the invoke of itself only (its asynchronous run), retried twice", () => {
    // Prepare
    const slack = logicalId('AWS::Lambda::Function', /^ApiSlackFunction[0-9A-F]{8}$/);
    const role = logicalId('AWS::IAM::Role', /^ApiSlackFunctionRole[0-9A-F]{8}$/);

    // Assess: the decision's statements, as requests' (the default policy)
    expect(API_CAPABILITIES.slack).toEqual([
      'start',
      'taskResponse',
      'stop',
      'mail',
      'idcCheck',
      'slack',
      'invokeSelf',
    ]);
    expect(policyOf('ApiSlackFunctionRole')).toEqual([
      logStatement('ApiSlackFunctionLogGroup'),
      ...tableStatements(),
      startExecution(),
      taskResponseAndQuota,
      { Action: 'states:StopExecution', Effect: 'Allow', Resource: pseudoArn('states', `execution:${machineName}:*`) },
      sendEmail,
      ...idcCheckStatements(),
      slackSecretRead,
      // its asynchronous run's on-failure destination: the jobs' failure queue (alarmed), this queue only
      {
        Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [logicalId('AWS::SQS::Queue', /^SchedulesFailures[0-9A-F]{8}$/), 'Arn'] },
      },
    ]);
    // and, in a policy of its own (no dependency cycle), InvokeFunction on its own unqualified ARN: nothing else
    const own = Object.entries(resources('AWS::IAM::Policy')).filter(([k]) => /InvokeSelf[0-9A-F]{8}$/.test(k));
    expect(own).toHaveLength(1);
    expect(own[0]?.[1].Properties).toMatchObject({
      PolicyDocument: {
        Statement: [{ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [slack, 'Arn'] } }],
      },
      Roles: [{ Ref: role }],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: slack },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 900,
      DestinationConfig: {
        OnFailure: {
          Destination: { 'Fn::GetAtt': [logicalId('AWS::SQS::Queue', /^SchedulesFailures[0-9A-F]{8}$/), 'Arn'] },
        },
      },
    });
    // no other function may invoke it
    const invokers = Object.values(resources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.PolicyDocument).includes(`"Fn::GetAtt":["${slack}","Arn"]`),
    );
    expect(invokers).toHaveLength(1);
  });

  it('gives governance (an approved change runs an admin request or new targets) start, stop, mail and the Identity Center checks, no task response', () => {
    // Prepare
    const governance = logicalId('AWS::Lambda::Function', /^ApiGovernanceFunction[0-9A-F]{8}$/);

    // Assess
    expect(API_CAPABILITIES.governance).toEqual(['start', 'stop', 'mail', 'idcCheck', 'slack']);
    expect(policyOf('ApiGovernanceFunctionRole')).toEqual([
      logStatement('ApiGovernanceFunctionLogGroup'),
      ...tableStatements(),
      startExecution(),
      { Action: 'states:StopExecution', Effect: 'Allow', Resource: pseudoArn('states', `execution:${machineName}:*`) },
      sendEmail,
      sendQuota,
      ...idcCheckStatements(),
      slackSecretRead,
    ]);
    expect(variablesOf(governance)).toMatchObject({
      ...idcEnvironment(),
      STATE_MACHINE_ARN: { Ref: machineId() },
      ELEVATE_SENDER_ADDRESS: { Ref: 'SenderAddress' },
    });
  });

  it('publishes the lifecycle events from the table: the stream, filtered to new outbox items, to the one role that puts events', () => {
    // Prepare
    const fn = logicalId('AWS::Lambda::Function', /^OutboxHandler[0-9A-F]{8}$/);
    const queue = logicalId('AWS::SQS::Queue', /^OutboxDeadLetters[0-9A-F]{8}$/);
    const streamArn = { 'Fn::GetAtt': [onlyKey(resources('AWS::DynamoDB::GlobalTable')), 'StreamArn'] };

    // Assess
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fn },
      EventSourceArn: streamArn,
      StartingPosition: 'TRIM_HORIZON',
      FilterCriteria: { Filters: OUTBOX_STREAM_FILTERS.map((f) => ({ Pattern: JSON.stringify(f) })) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 20,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } },
    });
    expect(policyOf('OutboxHandlerRole')).toEqual([
      logStatement('OutboxHandlerLogGroup'),
      {
        Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [queue, 'Arn'] },
      },
      {
        Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
        Effect: 'Allow',
        Resource: streamArn,
      },
      putEvents(),
    ]);
    expect(variablesOf(fn)).toMatchObject({ EVENT_BUS_NAME: { Ref: busId() } });
    expect(OUTBOX_CAPABILITIES).toEqual(['events']);
    expect(JSON.stringify(resources('AWS::IAM::Policy')).match(/events:PutEvents/g)).toHaveLength(1);
  });

  it('gives the other API functions the API URL but no workflow, bus or mail setting', () => {
    // Assess
    for (const fn of FUNCTIONS.filter((f) => API_CAPABILITIES[f] === undefined)) {
      const variables = variablesOf(
        logicalId('AWS::Lambda::Function', new RegExp(`^Api${pascal(fn)}Function[0-9A-F]{8}$`)),
      );
      expect(variables.ELEVATE_API_URL, fn).toEqual(apiUrl());
      for (const key of ['STATE_MACHINE_ARN', 'EVENT_BUS_NAME', 'ELEVATE_SENDER_ADDRESS']) {
        expect(variables[key], `${fn} ${key}`).toBeUndefined();
      }
      expect(JSON.stringify(policyOf(`Api${pascal(fn)}FunctionRole`))).not.toMatch(/states:|events:|ses:/);
    }
  });
});

describe('schedules', () => {
  it('has one rule per scheduled job, on its expression, invoking its function', () => {
    // Assess
    // (and the mail feedback rule: test/infra/mail.test.ts)
    template.resourceCountIs('AWS::Events::Rule', SCHEDULES.length + 1);
    for (const job of SCHEDULES) {
      const fn = logicalId('AWS::Lambda::Function', new RegExp(`^Schedules${pascal(job.name)}Function[0-9A-F]{8}$`));
      const rule = logicalId('AWS::Events::Rule', new RegExp(`^Schedules${pascal(job.name)}Rule[0-9A-F]{8}$`));
      expect(resources('AWS::Events::Rule')[rule]?.Properties).toMatchObject({
        ScheduleExpression: job.expression,
        State: 'ENABLED',
        Targets: [{ Arn: { 'Fn::GetAtt': [fn, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2 } }],
      });
      expect(resources('AWS::Events::Rule')[rule]?.Properties.EventBusName).toBeUndefined();
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [fn, 'Arn'] },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [rule, 'Arn'] },
      });
      expect(functionOf(fn).Metadata).toMatchObject({
        'elevate:entry': `functions/scheduled/${job.fn}.ts`,
        'elevate:localName': `elevate-${job.name}`,
      });
    }
  });

  it('gives reconcile the table, start, task response, mail, the start of stale exports, the Identity Center user lookup and the session fence', () => {
    // Prepare
    const fn = logicalId('AWS::Lambda::Function', /^SchedulesReconcileFunction[0-9A-F]{8}$/);
    const exportJob = logicalId('AWS::Lambda::Function', /^SchedulesAuditExportFunction[0-9A-F]{8}$/);

    // Assess
    expect(SCHEDULE_CAPABILITIES.reconcile).toEqual([
      'start',
      'taskResponse',
      'mail',
      'exportStart',
      'idcCheck',
      'idcFence',
      'slack',
    ]);
    expect(policyOf('SchedulesReconcileFunctionRole')).toEqual([
      logStatement('SchedulesReconcileFunctionLogGroup'),
      ...tableStatements(),
      jobFailures(),
      startExecution(),
      taskResponseAndQuota,
      sendEmail,
      // a scheduled start of a role with targets finds the Identity Center user (the workflow provisions it)
      ...idcCheckStatements(),
      // unfenceDue: the inline policy, ProvisionPermissionSet and the IAM actions AWS documents for it
      ...idcFenceStatements(),
      // a timed-out request's Slack messages updated (docs/slack.md)
      slackSecretRead,
      {
        Action: 'lambda:InvokeFunction',
        Effect: 'Allow',
        Resource: [
          { 'Fn::GetAtt': [exportJob, 'Arn'] },
          { 'Fn::Join': ['', [{ 'Fn::GetAtt': [exportJob, 'Arn'] }, ':*']] },
        ],
      },
    ]);
    expect(variablesOf(fn)).toMatchObject({
      ...idcEnvironment(),
      STATE_MACHINE_ARN: { Ref: machineId() },
      ELEVATE_SENDER_ADDRESS: { Ref: 'SenderAddress' },
      ELEVATE_API_URL: apiUrl(),
    });
  });

  it('gives drift the table, the listing and removal of what AWS has of managed targets, and nothing else', () => {
    // Assess
    expect(SCHEDULE_CAPABILITIES.drift).toEqual(['idcDrift']);
    expect(policyOf('SchedulesDriftFunctionRole')).toEqual([
      logStatement('SchedulesDriftFunctionLogGroup'),
      ...tableStatements(),
      jobFailures(),
      ...idcDriftStatements(),
    ]);
    const variables = variablesOf(logicalId('AWS::Lambda::Function', /^SchedulesDriftFunction[0-9A-F]{8}$/));
    expect(variables).toMatchObject(idcEnvironment());
    for (const key of ['STATE_MACHINE_ARN', 'EVENT_BUS_NAME', 'ELEVATE_SENDER_ADDRESS'])
      expect(variables[key]).toBeUndefined();
  });

  it('gives organization-sync the table, the Organizations walk and the Identity Center settings, nothing else', () => {
    // Assess
    expect(SCHEDULE_CAPABILITIES['organization-sync']).toEqual(['organizationRead']);
    expect(policyOf('SchedulesOrganizationSyncFunctionRole')).toEqual([
      logStatement('SchedulesOrganizationSyncFunctionLogGroup'),
      ...tableStatements(),
      jobFailures(),
      ...organizationReadStatements(),
    ]);
    const variables = variablesOf(logicalId('AWS::Lambda::Function', /^SchedulesOrganizationSyncFunction[0-9A-F]{8}$/));
    expect(variables).toMatchObject(idcEnvironment());
    for (const key of ['STATE_MACHINE_ARN', 'EVENT_BUS_NAME', 'ELEVATE_SENDER_ADDRESS'])
      expect(variables[key]).toBeUndefined();
  });

  it("links the workflow and API mail to ConsoleUrl when given, else to the console's own address", () => {
    // Assess
    const parameters = template.toJSON().Parameters as Record<string, { Default?: unknown }>;
    expect(parameters.ConsoleUrl?.Default).toBe('');
    const consoleUrl = {
      'Fn::If': [
        'ConsoleUrlGiven',
        { Ref: 'ConsoleUrl' },
        {
          'Fn::Join': [
            '',
            ['https://', { 'Fn::GetAtt': [expect.stringMatching(/^ConsoleDistribution/), 'DomainName'] }],
          ],
        },
      ],
    };
    expect(template.toJSON().Conditions.ConsoleUrlGiven).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'ConsoleUrl' }, ''] }],
    });
    expect(variablesOf(handlerId()).ELEVATE_CONSOLE_URL).toEqual(consoleUrl);
    const requests = variablesOf(logicalId('AWS::Lambda::Function', /^ApiRequestsFunction[0-9A-F]{8}$/));
    expect(requests.ELEVATE_CONSOLE_URL).toEqual(consoleUrl);
  });

  it('takes the Identity Center settings as parameters, empty (not configured) by default', () => {
    // Assess
    const parameters = template.toJSON().Parameters as Record<string, { Default?: unknown; AllowedValues?: unknown }>;
    expect(parameters.IdentityCenterInstanceArn?.Default).toBe('');
    expect(parameters.IdentityStoreId?.Default).toBe('');
    expect(parameters.IdentityCenterUserAttribute).toMatchObject({
      Default: 'userName',
      AllowedValues: ['userName', 'email'],
    });
    expect(parameters.FenceSessions).toMatchObject({ Default: 'true', AllowedValues: ['true', 'false'] });
    expect(parameters.AccessPortalUrl?.Default).toBe('');
    // The one IAM grant of Identity Center writes is the workflow handler's (the provisioner), no API function's.
    const writers = Object.entries(resources('AWS::IAM::Policy'))
      .filter(([, p]) => JSON.stringify(p.Properties.PolicyDocument).includes('sso:CreateAccountAssignment'))
      .map(([k]) => k.replace(/DefaultPolicy[0-9A-F]{8}$/, ''));
    expect(writers).toEqual(['WorkflowHandlerRole']);
  });

  it('gives reviews the table and mail (no workflow), and 15 minutes a run', () => {
    // Prepare
    const fn = logicalId('AWS::Lambda::Function', /^SchedulesReviewsFunction[0-9A-F]{8}$/);

    // Assess
    expect(SCHEDULE_CAPABILITIES.reviews).toEqual(['mail']);
    expect(policyOf('SchedulesReviewsFunctionRole')).toEqual([
      logStatement('SchedulesReviewsFunctionLogGroup'),
      ...tableStatements(),
      jobFailures(),
      sendEmail,
      sendQuota,
    ]);
    expect(functionOf(fn).Properties.Timeout).toBe(900);
    expect(variablesOf(fn)).toMatchObject({
      ELEVATE_SENDER_ADDRESS: { Ref: 'SenderAddress' },
      ELEVATE_API_URL: apiUrl(),
    });
    expect(variablesOf(fn).STATE_MACHINE_ARN).toBeUndefined();
  });

  it('parses rate and cron expressions into the same EventBridge expression', () => {
    // Assess
    for (const expression of [
      'rate(1 minute)',
      'rate(5 minutes)',
      'rate(2 hours)',
      'rate(1 day)',
      'cron(0 8 ? * MON-FRI *)',
      'cron(15 3 1 * ? *)',
    ]) {
      expect(parseSchedule(expression).expressionString).toBe(expression);
    }
    expect(parseSchedule('rate(60 minutes)').expressionString).toBe(Schedule.rate(Duration.hours(1)).expressionString);
    for (const bad of [
      'rate(0 minutes)',
      'rate(5 minute)',
      'rate(1 minutes)',
      'rate(5 weeks)',
      'cron(0 8 * * MON *)',
      'cron(0 8 * *)',
      'at(2030-01-01T00:00:00)',
    ]) {
      expect(() => parseSchedule(bad), bad).toThrow();
    }
  });
});

describe('template wiring', () => {
  it('has no circular dependency between resources', () => {
    // Prepare: edges from Ref, Fn::GetAtt, Fn::Sub and DependsOn
    const json = template.toJSON() as { Resources: Resources };
    const ids = new Set(Object.keys(json.Resources));
    const refs = (value: unknown, into: Set<string>): Set<string> => {
      if (Array.isArray(value)) for (const item of value) refs(item, into);
      else if (typeof value === 'object' && value !== null) {
        for (const [key, item] of Object.entries(value)) {
          if (key === 'Ref' && typeof item === 'string') {
            if (ids.has(item)) into.add(item);
          } else if (key === 'Fn::GetAtt' && Array.isArray(item)) {
            if (ids.has(item[0] as string)) into.add(item[0] as string);
          } else if (key === 'Fn::Sub') {
            for (const m of JSON.stringify(item).matchAll(/\$\{([A-Za-z0-9]+)/g)) {
              if (ids.has(m[1] as string)) into.add(m[1] as string);
            }
            refs(item, into);
          } else {
            refs(item, into);
          }
        }
      }
      return into;
    };
    const edges = new Map<string, Set<string>>();
    for (const [id, resource] of Object.entries(json.Resources)) {
      const out = refs(resource.Properties ?? {}, new Set());
      for (const d of [resource.DependsOn ?? []].flat()) out.add(d);
      edges.set(id, out);
    }

    // Act: depth-first search for a back edge
    const state = new Map<string, 'open' | 'done'>();
    const cycle: string[] = [];
    const visit = (id: string, path: string[]): boolean => {
      if (state.get(id) === 'done') return false;
      if (state.get(id) === 'open') {
        cycle.push(...path.slice(path.indexOf(id)), id);
        return true;
      }
      state.set(id, 'open');
      for (const next of edges.get(id) ?? []) if (visit(next, [...path, id])) return true;
      state.set(id, 'done');
      return false;
    };
    for (const id of edges.keys()) if (visit(id, [])) break;

    // Assess: the search saw the references (the requests function refers to the machine, the machine to the
    // workflow handler, every function to the table), and found no way back
    expect(edges.get(logicalId('AWS::Lambda::Function', /^ApiRequestsFunction[0-9A-F]{8}$/))).toContain(machineId());
    expect(edges.get(machineId())).toContain(handlerId());
    expect(cycle).toEqual([]);
  });
});

describe('stateMachineDefinition', () => {
  it('returns the ASL with the workflow handler as elevate-workflow, by logical id', () => {
    // Act
    const { definition, lambdaFunctionNames } = stateMachineDefinition(template);

    // Assess
    expect(lambdaFunctionNames).toEqual({ [handlerId()]: 'elevate-workflow' });
    const states = definition.States as Record<string, State>;
    expect(states.AwaitApproval).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: 'elevate-workflow' },
    });
    for (const name of ['TimeOut', 'Failed']) {
      expect(states[name], name).toMatchObject({
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: 'elevate-workflow' },
      });
    }
    // payload-only tasks keep a function ARN as their Resource (the name is its last part)
    for (const name of ['Grant', 'Expire']) {
      expect(states[name]?.Resource, name).toBe('arn:aws:lambda:us-east-1:123456789012:function:elevate-workflow');
    }
    expect(JSON.stringify(definition)).not.toMatch(/@@|<|Fn::|\$\{/);
    // everything else is the template's ASL unchanged
    const raw = JSON.stringify(rawDefinition())
      .replaceAll(`"<${handlerId()}.Arn>"`, '"elevate-workflow"')
      .replaceAll('<AWS::Partition>', 'aws');
    const resolved = JSON.stringify(definition).replaceAll(
      '"arn:aws:lambda:us-east-1:123456789012:function:elevate-workflow"',
      '"elevate-workflow"',
    );
    expect(JSON.parse(resolved)).toEqual(JSON.parse(raw));
  });

  it('takes other placeholders for the partition, region and account', () => {
    // Act
    const { definition } = stateMachineDefinition(template, {
      partition: 'aws-cn',
      region: 'cn-north-1',
      accountId: '000000000000',
    });

    // Assess
    const states = definition.States as Record<string, State>;
    expect(states.Grant?.Resource).toBe('arn:aws-cn:lambda:cn-north-1:000000000000:function:elevate-workflow');
    expect(states.Failed?.Resource).toBe('arn:aws-cn:states:::lambda:invoke');
  });

  it('maps local names to entry files, and schedules to their functions', () => {
    // Act
    const functions = localFunctions(template);
    const targets = scheduledTargets(template);

    // Assess
    // (and the environment names its template gives it: test/infra/local-function-env.test.ts)
    expect(functions['elevate-workflow']).toMatchObject({
      logicalId: handlerId(),
      entry: 'functions/workflow/handler.ts',
      handler: 'handler',
    });
    for (const job of SCHEDULES) {
      expect(functions[`elevate-${job.name}`]?.entry).toBe(`functions/scheduled/${job.fn}.ts`);
    }
    expect(targets.map(({ expression, functionName }) => ({ expression, functionName }))).toEqual(
      SCHEDULES.map((job) => ({ expression: job.expression, functionName: `elevate-${job.name}` })),
    );
  });
});
