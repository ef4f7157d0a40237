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
  Fail,
  type IChainable,
  IntegrationPattern,
  JitterType,
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

/**
 * Errors of the Lambda service itself, not of the function: the invoke was throttled, failed in the service, or
 * its answer was lost. Every step is idempotent, so each is retried with backoff.
 */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.Unknown',
] as const;

/**
 * Final answers, never retried: a domain refusal thrown by a step (shared/domain/errors.ts names it
 * `DomainError`), and the denial or cancellation an approval task is failed with.
 */
export const FINAL_ERRORS = ['DomainError', 'Denied', 'Canceled'] as const;

/** The error a step that kept failing ends its execution with (the reconcile job then does what it would have). */
export const GAVE_UP_ERROR = 'Elevate.StepFailed';

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
 * Execution input: `{ requestId, phase: 'approval' | 'start' | 'expiry', startDateTime, horizon, stage: 0,
 * stageTimeoutSeconds, grant?: { granted: true, waitUntil } }` (every timestamp rounded up to the second: Step
 * Functions truncates a Wait's timestamp). The machine, state by state:
 *
 * - `Phase` (Choice): approval → `AwaitApproval`; start → `WaitForStart`; otherwise (expiry) → `WaitForEnd`; a
 *   start or end past `$.horizon` → `WaitForHorizon` instead.
 * - `AwaitApproval` (Lambda `.waitForTaskToken`, `{ kind: 'awaitApproval', requestId, stage, taskToken }`,
 *   TimeoutSecondsPath `$.stageTimeoutSeconds`, result into `$.decision`: `{ next: number | null,
 *   stageTimeoutSeconds? }` — `stageTimeoutSeconds` is required when `next` is a number).
 *   Catches, in order: `States.Timeout` → `TimeOut` (`{ kind: 'timedOut', requestId, stage }`) → `Ended`;
 *   `Denied`, `Canceled` (SendTaskFailure errors) → `Ended`; `DomainError` → `Failed`; anything else → `GaveUp`.
 *   Every catch puts the error into `$.error` and keeps the input.
 * - `NextStage?` (Choice): `$.decision.next` numeric → `NextStage` (Pass: the next stage's input) →
 *   `AwaitApproval`; a start past the horizon → `WaitForHorizon`; otherwise → `WaitForStart`.
 * - `WaitForStart` (Wait until `$.startDateTime`) → `Grant` (`{ kind: 'grant', requestId }`, the function's
 *   result `{ granted, waitUntil }` into `$.grant`) → `Granted?`: granted with a string `waitUntil` →
 *   `WaitForEnd` (`WaitForHorizon` when it is past the horizon); otherwise → `Ended`.
 * - `WaitForEnd` (Wait until `$.grant.waitUntil`) → `Expire` (`{ kind: 'expire', requestId }`, result
 *   `{ expired, waitUntil }` into `$.expiry`) → `Expired?`: expired → `Ended`; a new end past the horizon →
 *   `WaitForHorizon`; otherwise → `KeepWaiting` (Pass: `grant.waitUntil` from `$.expiry.waitUntil`) → `WaitForEnd`.
 * - `WaitForHorizon` (Wait until `$.horizon`) → `Continue` (`{ kind: 'continue', requestId, execution }`: starts
 *   the execution `<requestId>-<n>` that carries the wait on) → `Continued` (Succeed). A STANDARD execution lives
 *   at most a year, and AWS ends it with a time-out no `Catch` sees: no execution waits past its horizon.
 * - Provisioning (a grant of a role with targets, provisioning.md): `Grant`'s result with `provisioning: true` goes
 *   from `Granted?` (its first choice) → `Provision` (`{ kind: 'provision', requestId, assignmentId: $.grant.assignmentId }`, result
 *   `{ granted, waitUntil, provisioning, waitSeconds, assignmentId }` into `$.grant`) → `Provisioned?`: still
 *   provisioning (the step looked again itself for up to 8 s first) → `WaitToProvision` (Wait `$.grant.waitSeconds`:
 *   1 s at first, backing off to 30 s) → `Provision`;
 *   otherwise → `Granted?`. Phase `provision` (a grant the API made) starts at `Provision`.
 * - Deprovisioning: `Expire`'s result with `deprovisioning: true` (and phase `deprovision`: an ending the API or a
 *   job made) → `Deprovision` (`{ kind: 'deprovision', requestId, assignmentId: $.expiry.assignmentId }`, result
 *   into `$.expiry`) → `Deprovisioned?`: still → `WaitToDeprovision` (Wait `$.expiry.waitSeconds`) →
 *   `Deprovision`; otherwise → `Ended`.
 * - `Failed` (`{ kind: 'failed', requestId, error }`) → `Ended`; `Grant` and `Expire` catch `DomainError` (a refusal)
 *   into it. Only a refusal fails a request.
 * - `Ended` (Succeed). `GaveUp` (Fail, `Elevate.StepFailed`): a step kept failing after its retries; every task
 *   catches what remains into it, and the reconcile job does what the step would have done.
 *
 * The handler gets `STATE_MACHINE_ARN` built from the machine's fixed name (not a reference: the machine
 * references the handler), so its workflow port can answer task tokens and start a continuation.
 *
 * Every Lambda task: a `DomainError`, `Denied` or `Canceled` is final (no retry); the Lambda service errors,
 * throttling and lost answers included (`LAMBDA_SERVICE_ERRORS`), are retried 8 times from 2 s with backoff ×2
 * (at most 60 s apart, full jitter); any other function error (`States.TaskFailed`: a dependency throttled past
 * the SDK's retries, a function time-out) 4 times from 5 s. Every step re-reads state, so a retry is harmless.
 * The machine has no overall timeout: each execution ends by its horizon.
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
    // `Continue` starts the next execution of this machine (by its ARN built from the name, as above).
    Grant.addToPrincipal({ grantee: this.handler, actions: ['states:StartExecution'], resourceArns: [ownArn] });
    const handler = this.handler;

    const requestId = JsonPath.stringAt('$.requestId');
    const stage = JsonPath.numberAt('$.stage');
    const catchInto = { resultPath: '$.error' };

    const ended = Succeed.jsonPath(this, 'Ended');
    const gaveUp = Fail.jsonPath(this, 'GaveUp', {
      error: GAVE_UP_ERROR,
      cause: 'a workflow step kept failing after its retries; the reconcile job does what it would have done',
    });
    /** The house retries and last catch of a task; its own catches go before the last one. */
    const guarded = <T extends LambdaInvoke>(task: T, catches: [string[], IChainable][] = []): T => {
      task.addRetry({ errors: [...FINAL_ERRORS], maxAttempts: 0 });
      task.addRetry({
        errors: [...LAMBDA_SERVICE_ERRORS],
        interval: Duration.seconds(2),
        backoffRate: 2,
        maxAttempts: 8,
        maxDelay: Duration.seconds(60),
        jitterStrategy: JitterType.FULL,
      });
      task.addRetry({
        errors: [Errors.TASKS_FAILED],
        interval: Duration.seconds(5),
        backoffRate: 2,
        maxAttempts: 4,
        maxDelay: Duration.seconds(60),
        jitterStrategy: JitterType.FULL,
      });
      for (const [errors, next] of catches) task.addCatch(next, { errors, ...catchInto });
      task.addCatch(gaveUp, { errors: [Errors.ALL], ...catchInto });
      return task;
    };

    const failed = guarded(
      LambdaInvoke.jsonPath(this, 'Failed', {
        lambdaFunction: handler,
        payload: TaskInput.fromObject({ kind: 'failed', requestId, error: JsonPath.objectAt('$.error') }),
        resultPath: JsonPath.DISCARD,
        retryOnServiceExceptions: false,
      }),
    );
    failed.next(ended);
    const refused: [string[], IChainable] = [['DomainError'], failed];

    const timedOut = guarded(
      LambdaInvoke.jsonPath(this, 'TimeOut', {
        lambdaFunction: handler,
        payload: TaskInput.fromObject({ kind: 'timedOut', requestId, stage }),
        resultPath: JsonPath.DISCARD,
        retryOnServiceExceptions: false,
      }),
    );
    timedOut.next(ended);

    const awaitApproval = guarded(
      LambdaInvoke.jsonPath(this, 'AwaitApproval', {
        lambdaFunction: handler,
        integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        payload: TaskInput.fromObject({ kind: 'awaitApproval', requestId, stage, taskToken: JsonPath.taskToken }),
        taskTimeout: Timeout.at('$.stageTimeoutSeconds'),
        resultPath: '$.decision',
        retryOnServiceExceptions: false,
      }),
      [[[Errors.TIMEOUT], timedOut], [['Denied', 'Canceled'], ended], refused],
    );

    const horizon = JsonPath.stringAt('$.horizon');
    const pastHorizonAt = (path: string) => [
      Condition.isPresent(path),
      Condition.isTimestamp(path),
      Condition.timestampGreaterThanJsonPath(path, '$.horizon'),
    ];
    const pastHorizon = (path: string) => Condition.and(...pastHorizonAt(path));
    const continueTask = guarded(
      LambdaInvoke.jsonPath(this, 'Continue', {
        lambdaFunction: handler,
        payload: TaskInput.fromObject({
          kind: 'continue',
          requestId,
          execution: JsonPath.stringAt('$$.Execution.Name'),
        }),
        resultPath: JsonPath.DISCARD,
        retryOnServiceExceptions: false,
      }),
    );
    const waitForHorizon = Wait.jsonPath(this, 'WaitForHorizon', { time: WaitTime.timestampPath('$.horizon') })
      .next(continueTask)
      .next(Succeed.jsonPath(this, 'Continued'));

    const nextStage = Pass.jsonPath(this, 'NextStage', {
      parameters: {
        requestId,
        phase: JsonPath.stringAt('$.phase'),
        startDateTime: JsonPath.stringAt('$.startDateTime'),
        horizon,
        stage: JsonPath.numberAt('$.decision.next'),
        stageTimeoutSeconds: JsonPath.numberAt('$.decision.stageTimeoutSeconds'),
      },
    });

    const waitForStart = Wait.jsonPath(this, 'WaitForStart', { time: WaitTime.timestampPath('$.startDateTime') });
    const grant = guarded(
      LambdaInvoke.jsonPath(this, 'Grant', {
        lambdaFunction: handler,
        payload: TaskInput.fromObject({ kind: 'grant', requestId }),
        payloadResponseOnly: true,
        resultPath: '$.grant',
        retryOnServiceExceptions: false,
      }),
      [refused],
    );

    const waitForEnd = Wait.jsonPath(this, 'WaitForEnd', { time: WaitTime.timestampPath('$.grant.waitUntil') });
    const expire = guarded(
      LambdaInvoke.jsonPath(this, 'Expire', {
        lambdaFunction: handler,
        payload: TaskInput.fromObject({ kind: 'expire', requestId }),
        payloadResponseOnly: true,
        resultPath: '$.expiry',
        retryOnServiceExceptions: false,
      }),
      [refused],
    );

    const keepWaiting = Pass.jsonPath(this, 'KeepWaiting', {
      parameters: {
        requestId,
        phase: JsonPath.stringAt('$.phase'),
        startDateTime: JsonPath.stringAt('$.startDateTime'),
        horizon,
        grant: { granted: true, waitUntil: JsonPath.stringAt('$.expiry.waitUntil') },
      },
    });

    // An ended grant of a role with targets is taken away in AWS: delete, then look again until AWS has done it.
    const deprovision = guarded(
      LambdaInvoke.jsonPath(this, 'Deprovision', {
        lambdaFunction: handler,
        payload: TaskInput.fromObject({
          kind: 'deprovision',
          requestId,
          assignmentId: JsonPath.stringAt('$.expiry.assignmentId'),
        }),
        payloadResponseOnly: true,
        resultPath: '$.expiry',
        retryOnServiceExceptions: false,
      }),
      [refused],
    );
    const stillDeprovisioning = Condition.and(
      Condition.isPresent('$.expiry.deprovisioning'),
      Condition.booleanEquals('$.expiry.deprovisioning', true),
    );
    const waitToDeprovision = Wait.jsonPath(this, 'WaitToDeprovision', {
      time: WaitTime.secondsPath('$.expiry.waitSeconds'),
    });
    deprovision.next(
      Choice.jsonPath(this, 'Deprovisioned?')
        .when(stillDeprovisioning, waitToDeprovision.next(deprovision))
        .otherwise(ended),
    );

    const expired = Choice.jsonPath(this, 'Expired?')
      .when(stillDeprovisioning, deprovision)
      .when(Condition.booleanEquals('$.expiry.expired', true), ended)
      .when(pastHorizon('$.expiry.waitUntil'), waitForHorizon)
      .otherwise(keepWaiting.next(waitForEnd));
    const expiry = Chain.start(waitForEnd).next(expire).next(expired);

    const grantedWithEnd = [
      Condition.isPresent('$.grant.granted'),
      Condition.booleanEquals('$.grant.granted', true),
      Condition.isPresent('$.grant.waitUntil'),
      Condition.isString('$.grant.waitUntil'),
    ];
    const granted = Choice.jsonPath(this, 'Granted?');
    // A grant of a role with targets is made in AWS before it is Granted: create, then look again (within the step
    // for up to 8 s, then every second, backing off) until AWS has done it; the request is Granted (or Failed and
    // rolled back) by the step.
    const provision = guarded(
      LambdaInvoke.jsonPath(this, 'Provision', {
        lambdaFunction: handler,
        payload: TaskInput.fromObject({
          kind: 'provision',
          requestId,
          assignmentId: JsonPath.stringAt('$.grant.assignmentId'),
        }),
        payloadResponseOnly: true,
        resultPath: '$.grant',
        retryOnServiceExceptions: false,
      }),
      [refused],
    );
    const stillProvisioning = Condition.and(
      Condition.isPresent('$.grant.provisioning'),
      Condition.booleanEquals('$.grant.provisioning', true),
    );
    const waitToProvision = Wait.jsonPath(this, 'WaitToProvision', {
      time: WaitTime.secondsPath('$.grant.waitSeconds'),
    });
    provision.next(
      Choice.jsonPath(this, 'Provisioned?').when(stillProvisioning, waitToProvision.next(provision)).otherwise(granted),
    );
    // `Granted?` goes to `Provision` first while the grant is being made in AWS (no extra state for other grants).
    granted
      .when(stillProvisioning, provision)
      .when(
        Condition.and(
          ...grantedWithEnd,
          Condition.isTimestamp('$.grant.waitUntil'),
          Condition.timestampGreaterThanJsonPath('$.grant.waitUntil', '$.horizon'),
        ),
        waitForHorizon,
      )
      .when(Condition.and(...grantedWithEnd), expiry)
      .otherwise(ended);
    const start = Chain.start(waitForStart).next(grant).next(granted);

    const next = Choice.jsonPath(this, 'NextStage?')
      .when(
        Condition.and(Condition.isPresent('$.decision.next'), Condition.isNumeric('$.decision.next')),
        nextStage.next(awaitApproval),
      )
      .when(pastHorizon('$.startDateTime'), waitForHorizon)
      .otherwise(start);
    const approval = Chain.start(awaitApproval).next(next);

    const phase = Choice.jsonPath(this, 'Phase')
      .when(Condition.stringEquals('$.phase', 'approval'), approval)
      .when(Condition.stringEquals('$.phase', 'provision'), provision)
      .when(Condition.stringEquals('$.phase', 'deprovision'), deprovision)
      .when(
        Condition.and(Condition.stringEquals('$.phase', 'start'), ...pastHorizonAt('$.startDateTime')),
        waitForHorizon,
      )
      .when(Condition.stringEquals('$.phase', 'start'), start)
      .when(pastHorizon('$.grant.waitUntil'), waitForHorizon)
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
