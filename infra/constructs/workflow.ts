import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Chain,
  Choice,
  Condition,
  DefinitionBody,
  Errors,
  IntegrationPattern,
  JsonPath,
  LogLevel,
  Pass,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { AppFunction } from '#infra/constructs/app-function.ts';
import type { IDataTable } from '#infra/constructs/data.ts';

/** The name the local runtime knows the workflow handler by (the ASL's FunctionName after `stateMachineDefinition`). */
export const WORKFLOW_FUNCTION_LOCAL_NAME = 'elevate-workflow';

/** The workflow handler's entry file, relative to the repository root. */
export const WORKFLOW_HANDLER_ENTRY = 'functions/workflow/handler.ts';

/** The task-token actions: Step Functions authorizes them on the token, not on a resource. */
export const TASK_RESPONSE_ACTIONS = [
  'states:SendTaskSuccess',
  'states:SendTaskFailure',
  'states:SendTaskHeartbeat',
] as const;

/** The reason given for the `Resource: *` of the task-token actions (cdk-nag AwsSolutions-IAM5). */
export const TASK_RESPONSE_REASON =
  'states:SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat do not support resource-level permissions ' +
  '(the task token is the authorization); IAM only accepts Resource "*" for them (nor for ses:GetAccount, the ' +
  'send quota, on the roles that also mail)';

export interface AccessWorkflowProps {
  /** The table the workflow handler reads and writes (granted through its least-privilege grants). */
  readonly data: IDataTable;

  /**
   * Environment variables for the workflow handler.
   * @default - none beyond the house defaults
   */
  readonly environment?: Readonly<Record<string, string>>;

  /**
   * The workflow handler's timeout (a grant or an expiry is a few table transactions, a mail and an event).
   * @default Duration.seconds(30)
   */
  readonly handlerTimeout?: Duration;

  /**
   * The state machine's name. It is fixed (not generated) so that its ARN is known without a reference to the
   * machine: the workflow handler, which the machine invokes, gets it as `STATE_MACHINE_ARN` without a
   * circular dependency.
   * @default `<stack name>-access-workflow`
   */
  readonly stateMachineName?: string;

  /**
   * How long the state machine's log group keeps its events.
   * @default RetentionDays.ONE_YEAR
   */
  readonly logRetention?: RetentionDays;
}

/**
 * The access workflow: one Step Functions STANDARD state machine (JSONPath) per request execution, and its
 * Lambda handler (`functions/workflow/handler.ts`, local name `elevate-workflow`).
 *
 * Execution input: `{ requestId, phase: 'approval' | 'start' | 'expiry', startDateTime, stage: 0,
 * stageTimeoutSeconds, grant?: { granted: true, waitUntil } }`. The machine, state by state:
 *
 * - `Phase` (Choice): approval → `AwaitApproval`; start → `WaitForStart`; otherwise (expiry) → `WaitForEnd`.
 * - `AwaitApproval` (Lambda `.waitForTaskToken`, `{ kind: 'awaitApproval', requestId, stage, taskToken }`,
 *   TimeoutSecondsPath `$.stageTimeoutSeconds`, result into `$.decision`: `{ next: number | null,
 *   stageTimeoutSeconds? }` — `stageTimeoutSeconds` is required when `next` is a number).
 *   Catches, in order: `States.Timeout` → `TimeOut` (`{ kind: 'timedOut', requestId, stage }`) → `Ended`;
 *   `Denied`, `Canceled` (SendTaskFailure errors) → `Ended`; `States.ALL` → `Failed`. Every catch puts the
 *   error into `$.error` and keeps the input.
 * - `NextStage?` (Choice): `$.decision.next` numeric → `NextStage` (Pass: the next stage's input) →
 *   `AwaitApproval`; otherwise → `WaitForStart`.
 * - `WaitForStart` (Wait until `$.startDateTime`) → `Grant` (`{ kind: 'grant', requestId }`, the function's
 *   result `{ granted, waitUntil }` into `$.grant`) → `Granted?`: granted with a string `waitUntil` →
 *   `WaitForEnd`; otherwise → `Ended`.
 * - `WaitForEnd` (Wait until `$.grant.waitUntil`) → `Expire` (`{ kind: 'expire', requestId }`, result
 *   `{ expired, waitUntil }` into `$.expiry`) → `Expired?`: expired → `Ended`; otherwise → `KeepWaiting` (Pass:
 *   `grant.waitUntil` from `$.expiry.waitUntil`) → `WaitForEnd`.
 * - `Failed` (`{ kind: 'failed', requestId, error }`) → `Ended`; `Grant` and `Expire` catch `States.ALL` into it.
 * - `Ended` (Succeed).
 *
 * The handler gets `STATE_MACHINE_ARN` built from the machine's fixed name (not a reference: the machine
 * references the handler), so its workflow port can answer task tokens.
 *
 * Every Lambda task retries the Lambda service errors (2 s, ×2, 6 attempts). The machine has no overall
 * timeout: an approval plus an access window may take months (a STANDARD execution may run a year).
 * Logs: level ERROR without execution data (request data stays in the table and the audit trail).
 * X-Ray tracing is off, as for the functions (see AppFunction).
 */
export class AccessWorkflow extends Construct {
  /** The state machine. */
  public readonly stateMachine: StateMachine;

  /** The Lambda function every task of the machine invokes. */
  public readonly handler: AppFunction;

  /** The state machine's log group. */
  public readonly logGroup: LogGroup;

  /** The state machine's name (a plain string, see `stateMachineName`). */
  public readonly stateMachineName: string;

  constructor(scope: Construct, id: string, props: AccessWorkflowProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.stateMachineName = props.stateMachineName ?? `${stack.stackName}-access-workflow`;
    // Built from the name, not read from the machine: the machine references the handler, so the handler
    // may not reference the machine.
    const ownArn = stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: this.stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.handler = new AppFunction(this, 'Handler', {
      entry: WORKFLOW_HANDLER_ENTRY,
      localName: WORKFLOW_FUNCTION_LOCAL_NAME,
      description: 'elevate workflow: approval stages, grant at the start, expiry at the end',
      timeout: props.handlerTimeout ?? Duration.seconds(30),
      environment: { ...props.environment, STATE_MACHINE_ARN: ownArn },
    });
    props.data.grantReadWriteData(this.handler);
    const handler = this.handler;

    const requestId = JsonPath.stringAt('$.requestId');
    const stage = JsonPath.numberAt('$.stage');
    const catchInto = { resultPath: '$.error' };

    const ended = Succeed.jsonPath(this, 'Ended');

    const failed = LambdaInvoke.jsonPath(this, 'Failed', {
      lambdaFunction: handler,
      payload: TaskInput.fromObject({ kind: 'failed', requestId, error: JsonPath.objectAt('$.error') }),
      resultPath: JsonPath.DISCARD,
      retryOnServiceExceptions: true,
    });
    failed.next(ended);

    const timedOut = LambdaInvoke.jsonPath(this, 'TimeOut', {
      lambdaFunction: handler,
      payload: TaskInput.fromObject({ kind: 'timedOut', requestId, stage }),
      resultPath: JsonPath.DISCARD,
      retryOnServiceExceptions: true,
    });
    timedOut.next(ended);

    const awaitApproval = LambdaInvoke.jsonPath(this, 'AwaitApproval', {
      lambdaFunction: handler,
      integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: TaskInput.fromObject({ kind: 'awaitApproval', requestId, stage, taskToken: JsonPath.taskToken }),
      taskTimeout: Timeout.at('$.stageTimeoutSeconds'),
      resultPath: '$.decision',
      retryOnServiceExceptions: true,
    });
    awaitApproval.addCatch(timedOut, { errors: [Errors.TIMEOUT], ...catchInto });
    awaitApproval.addCatch(ended, { errors: ['Denied', 'Canceled'], ...catchInto });
    awaitApproval.addCatch(failed, { errors: [Errors.ALL], ...catchInto });

    const nextStage = Pass.jsonPath(this, 'NextStage', {
      parameters: {
        requestId,
        phase: JsonPath.stringAt('$.phase'),
        startDateTime: JsonPath.stringAt('$.startDateTime'),
        stage: JsonPath.numberAt('$.decision.next'),
        stageTimeoutSeconds: JsonPath.numberAt('$.decision.stageTimeoutSeconds'),
      },
    });

    const waitForStart = Wait.jsonPath(this, 'WaitForStart', { time: WaitTime.timestampPath('$.startDateTime') });
    const grant = LambdaInvoke.jsonPath(this, 'Grant', {
      lambdaFunction: handler,
      payload: TaskInput.fromObject({ kind: 'grant', requestId }),
      payloadResponseOnly: true,
      resultPath: '$.grant',
      retryOnServiceExceptions: true,
    });
    grant.addCatch(failed, { errors: [Errors.ALL], ...catchInto });

    const waitForEnd = Wait.jsonPath(this, 'WaitForEnd', { time: WaitTime.timestampPath('$.grant.waitUntil') });
    const expire = LambdaInvoke.jsonPath(this, 'Expire', {
      lambdaFunction: handler,
      payload: TaskInput.fromObject({ kind: 'expire', requestId }),
      payloadResponseOnly: true,
      resultPath: '$.expiry',
      retryOnServiceExceptions: true,
    });
    expire.addCatch(failed, { errors: [Errors.ALL], ...catchInto });

    const keepWaiting = Pass.jsonPath(this, 'KeepWaiting', {
      parameters: {
        requestId,
        phase: JsonPath.stringAt('$.phase'),
        startDateTime: JsonPath.stringAt('$.startDateTime'),
        grant: { granted: true, waitUntil: JsonPath.stringAt('$.expiry.waitUntil') },
      },
    });

    const expired = Choice.jsonPath(this, 'Expired?')
      .when(Condition.booleanEquals('$.expiry.expired', true), ended)
      .otherwise(keepWaiting.next(waitForEnd));
    const expiry = Chain.start(waitForEnd).next(expire).next(expired);

    const granted = Choice.jsonPath(this, 'Granted?')
      .when(
        Condition.and(
          Condition.isPresent('$.grant.granted'),
          Condition.booleanEquals('$.grant.granted', true),
          Condition.isPresent('$.grant.waitUntil'),
          Condition.isString('$.grant.waitUntil'),
        ),
        expiry,
      )
      .otherwise(ended);
    const start = Chain.start(waitForStart).next(grant).next(granted);

    const next = Choice.jsonPath(this, 'NextStage?')
      .when(
        Condition.and(Condition.isPresent('$.decision.next'), Condition.isNumeric('$.decision.next')),
        nextStage.next(awaitApproval),
      )
      .otherwise(start);
    const approval = Chain.start(awaitApproval).next(next);

    const phase = Choice.jsonPath(this, 'Phase')
      .when(Condition.stringEquals('$.phase', 'approval'), approval)
      .when(Condition.stringEquals('$.phase', 'start'), start)
      .otherwise(expiry);

    this.logGroup = new LogGroup(this, 'Logs', {
      // The /aws/vendedlogs/ prefix keeps CloudWatch Logs' resource policy from growing with each log group.
      logGroupName: `/aws/vendedlogs/states/${this.stateMachineName}`,
      retention: props.logRetention ?? RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: this.stateMachineName,
      comment: 'Elevate access workflow: approval stages, grant at the start, expiry at the end',
      definitionBody: DefinitionBody.fromChainable(Chain.start(phase)),
      stateMachineType: StateMachineType.STANDARD,
      logs: { destination: this.logGroup, level: LogLevel.ERROR, includeExecutionData: false },
      tracingEnabled: false,
    });

    const role = this.stateMachine.role;
    const handlerId = stack.getLogicalId(handler.node.defaultChild as CfnFunction);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Step Functions log delivery (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ' +
        'ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) does not support ' +
        'resource-level permissions; the CloudWatch Logs vended-logs APIs only accept Resource "*"',
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${handlerId}.Arn>:*]`,
      reason:
        'the LambdaInvoke task grants lambda:InvokeFunction on the workflow handler and its qualified ARNs; the ' +
        'wildcard only covers versions and aliases of that one function',
    });
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-SF1',
      reason:
        'the workflow logs ERROR events only, without execution data: every step of a request is already ' +
        'recorded in the table and the audit trail, and ALL would copy request data into CloudWatch Logs',
    });
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-SF2',
      reason:
        'X-Ray tracing is off house-wide (the functions do not trace either, see AppFunction): a trace would end ' +
        'at the first Lambda call, and enabling it adds a Resource "*" statement to the role',
    });
  }

  /** Lets the grantee start executions of the machine (states:StartExecution on the machine's ARN). */
  public grantStart(grantee: IGrantable): Grant {
    return this.stateMachine.grantStartExecution(grantee);
  }

  /**
   * Lets the grantee resume or fail a waiting task with its token (states:SendTaskSuccess, SendTaskFailure,
   * SendTaskHeartbeat). These actions take no resource, so the statement is on `*`; the cdk-nag IAM5 finding
   * is acknowledged on the grantee's principal with that reason.
   */
  public grantTaskResponse(grantee: IGrantable): Grant {
    const grant = Grant.addToPrincipal({ grantee, actions: [...TASK_RESPONSE_ACTIONS], resourceArns: ['*'] });
    const principal: unknown = grantee.grantPrincipal;
    if (principal instanceof Construct) {
      Validations.of(principal).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: TASK_RESPONSE_REASON });
    }
    return grant;
  }

  /**
   * Lets the grantee stop executions of the machine (states:StopExecution on
   * `arn:<partition>:states:<region>:<account>:execution:<machine name>:*`, the machine's executions only).
   */
  public grantStop(grantee: IGrantable): Grant {
    const grant = Grant.addToPrincipal({
      grantee,
      actions: ['states:StopExecution'],
      resourceArns: [this.executionsArn],
    });
    const principal: unknown = grantee.grantPrincipal;
    if (principal instanceof Construct) {
      Validations.of(principal).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${this.stateMachineName}:*]`,
        reason:
          'an execution ARN ends with the execution name, so the wildcard after the machine name is what ' +
          'scopes the statement to the executions of this one state machine',
      });
    }
    return grant;
  }

  /** The ARN pattern of every execution of the machine. */
  public get executionsArn(): string {
    return Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${this.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }
}
