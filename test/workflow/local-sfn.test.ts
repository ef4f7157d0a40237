/**
 * The local Step Functions runtime, driven through the real @aws-sdk/client-sfn against the local endpoint,
 * with a hand-written ASL of the same shapes as the synthesized one: an approval task waiting for a token
 * (TimeoutSeconds + Catch on States.Timeout), a Choice, a grant task (lambda:invoke, `$.Payload`), a Wait
 * until a timestamp and an expire task that may loop back to the Wait.
 */
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SfnEndpoint, startSfnEndpoint } from '#infra/local/stepfunctions/endpoint.ts';
import { LocalStepFunctions } from '#infra/local/stepfunctions/runner.ts';
import { ManualClock } from '#shared/clock.ts';

const HOUR = 3_600_000;
const MINUTE = 60_000;

const definition = {
  Comment: 'one access request: approval, grant, wait until the end, expire (may extend)',
  StartAt: 'Approve',
  States: {
    Approve: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: {
        FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:elevate-approval',
        Payload: { 'taskToken.$': '$$.Task.Token', 'requestId.$': '$.requestId', stage: 1 },
      },
      TimeoutSeconds: 3600,
      ResultPath: '$.decision',
      Catch: [
        { ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'ApprovalTimedOut' },
        { ErrorEquals: ['Denied'], ResultPath: '$.error', Next: 'Denied' },
      ],
      Next: 'Approved?',
    },
    'Approved?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.decision.approved', BooleanEquals: true, Next: 'Grant' }],
      Default: 'Denied',
    },
    Grant: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: 'elevate-grant', 'Payload.$': '$' },
      ResultSelector: { 'endsAt.$': '$.Payload.endsAt' },
      ResultPath: '$.grant',
      Next: 'WaitUntilEnd',
    },
    WaitUntilEnd: { Type: 'Wait', TimestampPath: '$.grant.endsAt', Next: 'Expire' },
    Expire: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: 'elevate-expire', 'Payload.$': '$' },
      OutputPath: '$.Payload',
      Next: 'Expired?',
    },
    'Expired?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.expired', BooleanEquals: false, Next: 'WaitUntilEnd' }],
      Default: 'Done',
    },
    Done: { Type: 'Succeed' },
    ApprovalTimedOut: { Type: 'Pass', Result: 'TimedOut', ResultPath: '$.outcome', End: true },
    Denied: { Type: 'Fail', Error: 'RequestDenied', Cause: 'an approver denied the request' },
  },
};

interface Call {
  readonly functionName: string;
  readonly payload: unknown;
}

function record(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
  return value as Record<string, unknown>;
}

describe('local Step Functions through @aws-sdk/client-sfn', () => {
  let clock: ManualClock;
  let runner: LocalStepFunctions;
  let endpoint: SfnEndpoint;
  let sfn: SFNClient;
  let stateMachineArn: string;
  let calls: Call[];
  /** How many more times the expire handler extends the grant by 30 minutes before it expires it. */
  let extensions: number;

  const tokens = () =>
    calls
      .filter((call) => call.functionName === 'elevate-approval')
      .map((call) => String(record(call.payload).taskToken));
  const callsTo = (functionName: string) => calls.filter((call) => call.functionName === functionName);
  const describeExecution = (executionArn: string) => sfn.send(new DescribeExecutionCommand({ executionArn }));
  const start = async (name: string, input: Record<string, unknown> = { requestId: name }) => {
    const started = await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
    await runner.idle();
    return String(started.executionArn);
  };

  beforeEach(async () => {
    clock = new ManualClock(new Date('2030-01-01T00:00:00.000Z'));
    calls = [];
    extensions = 0;
    runner = new LocalStepFunctions({
      clock,
      lambda: async (functionName, payload) => {
        calls.push({ functionName, payload });
        if (functionName === 'elevate-approval') return { notified: true };
        if (functionName === 'elevate-grant') {
          return { granted: true, endsAt: new Date(clock.now().getTime() + HOUR).toISOString() };
        }
        if (functionName === 'elevate-expire') {
          const input = record(payload);
          const grant = record(input.grant);
          if (extensions > 0) {
            extensions--;
            const endsAt = new Date(Date.parse(String(grant.endsAt)) + 30 * MINUTE).toISOString();
            return { ...input, grant: { endsAt }, expired: false };
          }
          return { ...input, expired: true, expiredAt: clock.now().toISOString() };
        }
        throw new Error(`no handler ${functionName}`);
      },
    });
    stateMachineArn = runner.registerStateMachine('elevate-request', JSON.stringify(definition));
    endpoint = await startSfnEndpoint(runner);
    sfn = new SFNClient({
      endpoint: endpoint.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });

  afterEach(async () => {
    runner.dispose();
    sfn.destroy();
    await endpoint.close();
  });

  it('resumes on SendTaskSuccess, grants, waits on the clock until the end, loops on extension, expires', async () => {
    extensions = 1;
    const executionArn = await start('req-1');
    expect(stateMachineArn).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:elevate-request');
    expect(executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:elevate-request:req-1');

    const running = await describeExecution(executionArn);
    expect(running.status).toBe('RUNNING');
    expect(running.startDate).toEqual(new Date('2030-01-01T00:00:00.000Z'));
    expect(running.stopDate).toBeUndefined();
    expect(callsTo('elevate-approval')).toHaveLength(1);
    expect(record(callsTo('elevate-approval')[0]?.payload)).toMatchObject({ requestId: 'req-1', stage: 1 });
    const [token] = tokens();
    expect(token).toMatch(/\S{40,}/);

    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ approved: true }) }));
    await runner.idle();
    expect(callsTo('elevate-grant')).toHaveLength(1);
    // The grant sees the state input; the Wait reads the end the grant returned in its Payload.
    expect(record(callsTo('elevate-grant')[0]?.payload)).toMatchObject({
      requestId: 'req-1',
      decision: { approved: true },
    });
    expect(callsTo('elevate-expire')).toHaveLength(0);

    clock.advance(HOUR - MINUTE);
    await runner.idle();
    expect(callsTo('elevate-expire')).toHaveLength(0);
    expect((await describeExecution(executionArn)).status).toBe('RUNNING');

    clock.advance(2 * MINUTE); // past the end: expire runs, extends by 30 minutes, back to the Wait
    await runner.idle();
    expect(callsTo('elevate-expire')).toHaveLength(1);
    expect((await describeExecution(executionArn)).status).toBe('RUNNING');

    clock.advance(20 * MINUTE);
    await runner.idle();
    expect(callsTo('elevate-expire')).toHaveLength(1);

    clock.advance(10 * MINUTE);
    await runner.idle();
    expect(callsTo('elevate-expire')).toHaveLength(2);
    const done = await describeExecution(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.stopDate).toEqual(new Date('2030-01-01T01:31:00.000Z'));
    expect(JSON.parse(String(done.output))).toEqual({
      requestId: 'req-1',
      decision: { approved: true },
      grant: { endsAt: '2030-01-01T01:30:00.000Z' },
      expired: true,
      expiredAt: '2030-01-01T01:31:00.000Z',
    });
    // The token is spent: AWS answers TaskTimedOut for a closed task.
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toMatchObject({
      name: 'TaskTimedOut',
    });
  });

  it('a token failure that the ASL catches ends in its Fail state', async () => {
    const executionArn = await start('req-denied');
    const [token] = tokens();
    await sfn.send(new SendTaskFailureCommand({ taskToken: token, error: 'Denied', cause: 'not today' }));
    await runner.idle();
    const described = await describeExecution(executionArn);
    expect(described.status).toBe('FAILED');
    expect(described.error).toBe('RequestDenied');
    expect(described.cause).toBe('an approver denied the request');
    expect(callsTo('elevate-grant')).toHaveLength(0);
  });

  it('a token failure that nothing catches fails the execution with its error and cause', async () => {
    const executionArn = await start('req-broken');
    const [token] = tokens();
    await sfn.send(new SendTaskFailureCommand({ taskToken: token, error: 'Boom', cause: 'approver service down' }));
    await runner.idle();
    const described = await describeExecution(executionArn);
    expect(described.status).toBe('FAILED');
    expect(described.error).toBe('Boom');
    expect(described.cause).toBe('approver service down');
  });

  it('a decision that is not an approval goes through the Choice default', async () => {
    const executionArn = await start('req-no');
    await sfn.send(new SendTaskSuccessCommand({ taskToken: tokens()[0], output: '{"approved":false}' }));
    await runner.idle();
    expect((await describeExecution(executionArn)).error).toBe('RequestDenied');
  });

  it('times the approval task out when the clock passes TimeoutSeconds, and the Catch handles it', async () => {
    const executionArn = await start('req-slow');
    const [token] = tokens();

    clock.advance(HOUR - 1000);
    await runner.idle();
    expect((await describeExecution(executionArn)).status).toBe('RUNNING');

    clock.advance(2000);
    await runner.idle();
    const described = await describeExecution(executionArn);
    expect(described.status).toBe('SUCCEEDED');
    const output = JSON.parse(String(described.output));
    expect(output.outcome).toBe('TimedOut');
    expect(output.error.Error).toBe('States.Timeout');
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toMatchObject({
      name: 'TaskTimedOut',
    });
  });

  it('the Wait completes only once the clock passes the timestamp, not on real time', async () => {
    const executionArn = await start('req-wait');
    await sfn.send(new SendTaskSuccessCommand({ taskToken: tokens()[0], output: '{"approved":true}' }));
    await runner.idle();
    await new Promise((resolve) => setTimeout(resolve, 50));
    clock.advance(HOUR - 1);
    await runner.idle();
    expect(callsTo('elevate-expire')).toHaveLength(0);
    clock.advance(1); // exactly at the timestamp
    await runner.idle();
    expect(callsTo('elevate-expire')).toHaveLength(1);
    expect((await describeExecution(executionArn)).status).toBe('SUCCEEDED');
  });

  it('a handler can answer its own token through the SDK before it returns', async () => {
    const approving = new LocalStepFunctions({
      clock,
      lambda: async (functionName, payload) => {
        calls.push({ functionName, payload });
        if (functionName === 'elevate-approval') {
          await sfn.send(
            new SendTaskSuccessCommand({ taskToken: String(record(payload).taskToken), output: '{"approved":false}' }),
          );
        }
        return null;
      },
    });
    const arn = approving.registerStateMachine('auto', definition);
    const local = await startSfnEndpoint(approving);
    const client = sfn;
    sfn = new SFNClient({
      endpoint: local.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    try {
      const started = await sfn.send(
        new StartExecutionCommand({ stateMachineArn: arn, name: 'self', input: '{"requestId":"self"}' }),
      );
      await approving.idle();
      expect((await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }))).error).toBe(
        'RequestDenied',
      );
    } finally {
      approving.dispose();
      sfn.destroy();
      sfn = client;
      await local.close();
    }
  });

  it('an execution started twice with the same name and input is one execution', async () => {
    const input = JSON.stringify({ requestId: 'req-twice' });
    const first = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'req-twice', input }));
    const second = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'req-twice', input }));
    await runner.idle();
    expect(second.executionArn).toBe(first.executionArn);
    expect(second.startDate).toEqual(first.startDate);
    expect(callsTo('elevate-approval')).toHaveLength(1);
    const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn }));
    expect(listed.executions?.map((item) => item.name)).toEqual(['req-twice']);

    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'req-twice', input: '{"requestId":"other"}' })),
    ).rejects.toMatchObject({ name: 'ExecutionAlreadyExists', $metadata: { httpStatusCode: 400 } });
  });

  it('StopExecution aborts: ABORTED with error and cause, the token is closed, the clock no longer matters', async () => {
    const executionArn = await start('req-stop');
    const [token] = tokens();
    const stopped = await sfn.send(new StopExecutionCommand({ executionArn, error: 'Revoked', cause: 'by admin' }));
    expect(stopped.stopDate).toEqual(clock.now());
    const described = await describeExecution(executionArn);
    expect(described).toMatchObject({ status: 'ABORTED', error: 'Revoked', cause: 'by admin' });
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toMatchObject({
      name: 'TaskTimedOut',
    });
    clock.advance(2 * HOUR);
    await runner.idle();
    expect((await describeExecution(executionArn)).status).toBe('ABORTED');
    const aborted = await sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'ABORTED' }));
    expect(aborted.executions?.map((item) => item.executionArn)).toEqual([executionArn]);
  });

  it('a client configured only by AWS_ENDPOINT_URL_SFN reaches the local endpoint', async () => {
    const before = process.env.AWS_ENDPOINT_URL_SFN;
    process.env.AWS_ENDPOINT_URL_SFN = endpoint.url;
    const fromEnv = new SFNClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    try {
      const executionArn = await start('req-env');
      const described = await fromEnv.send(new DescribeExecutionCommand({ executionArn }));
      expect(described.status).toBe('RUNNING');
    } finally {
      fromEnv.destroy();
      if (before === undefined) delete process.env.AWS_ENDPOINT_URL_SFN;
      else process.env.AWS_ENDPOINT_URL_SFN = before;
    }
  });

  it('answers unknown executions and tokens with AWS error codes', async () => {
    await expect(
      describeExecution('arn:aws:states:us-east-1:000000000000:execution:elevate-request:nope'),
    ).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: 'garbage', output: '{}' }))).rejects.toMatchObject({
      name: 'InvalidToken',
    });
    const executionArn = await start('req-bad-output');
    await expect(
      sfn.send(new SendTaskSuccessCommand({ taskToken: tokens()[0], output: 'not json' })),
    ).rejects.toMatchObject({ name: 'InvalidOutput' });
    expect((await describeExecution(executionArn)).status).toBe('RUNNING');
  });
});
