/**
 * The local Step Functions runtime without HTTP: the ASL rewrite, clock timers, and the AWS behaviours the
 * library lacks (tokens, clock waits and timeouts, Lambda result and error shapes, the context object).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CONTINUE_ERROR,
  LIBRARY_TASK_TIMEOUT_SECONDS,
  prepareDefinition,
  WAIT_RESOURCE,
} from '#infra/local/stepfunctions/asl.ts';
import { LocalStepFunctions, MAX_EXECUTION_SECONDS } from '#infra/local/stepfunctions/runner.ts';
import { ClockTimers, MAX_TIMER_MS } from '#infra/local/stepfunctions/timers.ts';
import { ManualClock, systemClock } from '#shared/clock.ts';

const START = new Date('2030-06-01T12:00:00.000Z');

function machine(states: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { StartAt: Object.keys(states)[0], States: states, ...extra };
}

function setup(lambda: (functionName: string, payload: unknown) => Promise<unknown> = async () => null) {
  const clock = new ManualClock(START);
  const calls: { functionName: string; payload: unknown }[] = [];
  const runner = new LocalStepFunctions({
    clock,
    lambda: (functionName, payload) => {
      calls.push({ functionName, payload });
      return lambda(functionName, payload);
    },
  });
  runners.push(runner);
  return { clock, calls, runner };
}

const runners: LocalStepFunctions[] = [];
afterEach(() => {
  for (const runner of runners.splice(0)) runner.dispose();
  vi.useRealTimers();
});

function tokenOf(payload: unknown): string {
  if (typeof payload !== 'object' || payload === null || !('token' in payload)) throw new Error('no token');
  return String(payload.token);
}

describe('prepareDefinition', () => {
  it('turns Wait states into clock tasks and moves every timeout to the runner', () => {
    const prepared = prepareDefinition(
      machine(
        {
          Hold: { Type: 'Wait', TimestampPath: '$.until', InputPath: '$.a', OutputPath: '$.b', Next: 'Work' },
          Work: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Parameters: { FunctionName: 'f', 'Payload.$': '$', 'at.$': '$$.Execution.StartTime' },
            TimeoutSeconds: 30,
            HeartbeatSeconds: 10,
            Retry: [{ ErrorEquals: ['States.ALL'] }],
            End: true,
          },
        },
        { TimeoutSeconds: 900 },
      ),
    );
    expect(prepared.timeoutSeconds).toBe(900);
    expect(prepared.definition.TimeoutSeconds).toBeUndefined();
    const states = prepared.definition.States as Record<string, Record<string, unknown>>;
    expect(states.Hold).toEqual({
      Type: 'Task',
      Resource: WAIT_RESOURCE,
      Parameters: { 'input.$': '$', 'timestamp.$': '$.until' },
      TimeoutSeconds: LIBRARY_TASK_TIMEOUT_SECONDS,
      Retry: [expect.objectContaining({ ErrorEquals: [CONTINUE_ERROR] })],
      InputPath: '$.a',
      OutputPath: '$.b',
      Next: 'Work',
    });
    expect(states.Work?.TimeoutSeconds).toBe(LIBRARY_TASK_TIMEOUT_SECONDS);
    expect(states.Work?.HeartbeatSeconds).toBeUndefined();
    expect(states.Work?.Retry).toEqual([
      expect.objectContaining({ ErrorEquals: [CONTINUE_ERROR] }),
      { ErrorEquals: ['States.ALL'] },
    ]);
    expect(states.Work?.Parameters).toMatchObject({ 'at.$': '$$.Execution.LocalStartTime' });
    expect(prepared.plans.get('Work')).toEqual({
      kind: 'task',
      resource: 'arn:aws:states:::lambda:invoke',
      timeoutSeconds: 30,
      wrapped: false,
    });
    expect(prepared.plans.get('Hold')).toEqual({ kind: 'wait' });
  });

  it('refuses JSONata and state names used twice', () => {
    expect(() => prepareDefinition({ ...machine({ A: { Type: 'Succeed' } }), QueryLanguage: 'JSONata' })).toThrow(
      /JSONata/,
    );
    const branch = machine({ A: { Type: 'Succeed' } });
    expect(() =>
      prepareDefinition(machine({ A: { Type: 'Parallel', Branches: [branch], Next: 'B' }, B: { Type: 'Succeed' } })),
    ).toThrow(/used twice/);
  });
});

describe('ClockTimers', () => {
  it('follows a manual clock only: due when the clock reaches the time', async () => {
    const clock = new ManualClock(START);
    const timers = new ClockTimers(clock);
    const fired: string[] = [];
    timers.at(START.getTime() + 1000, () => fired.push('b'));
    timers.at(START.getTime() + 500, () => fired.push('a'));
    const cancel = timers.at(START.getTime() + 700, () => fired.push('cancelled'));
    cancel();
    clock.advance(999);
    expect(fired).toEqual(['a']);
    clock.advance(1);
    expect(fired).toEqual(['a', 'b']);
    timers.at(START.getTime(), () => fired.push('past'));
    await Promise.resolve();
    expect(fired).toEqual(['a', 'b', 'past']);
    timers.dispose();
  });

  it('arms real timers in steps below 2^31 ms for a clock that does not report its moves', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let now = START.getTime();
    const timers = new ClockTimers({ now: () => new Date(now), sleep: async () => {} });
    const fired = vi.fn();
    timers.at(now + MAX_TIMER_MS + 1000, fired);
    vi.advanceTimersByTime(10); // an unclamped setTimeout would have fired here
    now += 10;
    expect(fired).not.toHaveBeenCalled();
    now += MAX_TIMER_MS - 10;
    vi.advanceTimersByTime(MAX_TIMER_MS - 10);
    expect(fired).not.toHaveBeenCalled();
    now += 1000;
    vi.advanceTimersByTime(1000);
    expect(fired).toHaveBeenCalledOnce();
  });
});

describe('LocalStepFunctions', () => {
  it('runs Wait states with Seconds, SecondsPath and Timestamp on the clock', async () => {
    const { clock, runner } = setup();
    const arn = runner.registerStateMachine(
      'waits',
      machine({
        A: { Type: 'Wait', Seconds: 60, Next: 'B' },
        B: { Type: 'Wait', SecondsPath: '$.pause', Next: 'C' },
        C: { Type: 'Wait', Timestamp: '2030-06-01T13:00:00Z', OutputPath: '$.keep', End: true },
      }),
    );
    const { executionArn } = runner.startExecution({
      stateMachineArn: arn,
      input: JSON.stringify({ pause: 120, keep: { x: 1 } }),
    });
    await runner.idle();
    clock.advance(59_000);
    await runner.idle();
    clock.advance(1000 + 119_000); // A done at +60 s; B needs 120 s from then
    await runner.idle();
    expect(runner.describeExecution(executionArn).status).toBe('RUNNING');
    clock.advance(1000); // +180 s: B done, C waits until 13:00
    await runner.idle();
    expect(runner.describeExecution(executionArn).status).toBe('RUNNING');
    clock.set(new Date('2030-06-01T13:00:00Z'));
    await runner.idle();
    expect(runner.describeExecution(executionArn)).toMatchObject({ status: 'SUCCEEDED', output: '{"x":1}' });
  });

  it('with the system clock, a Wait runs on a real timer', async () => {
    const runner = new LocalStepFunctions({ clock: systemClock, lambda: async () => null });
    runners.push(runner);
    const arn = runner.registerStateMachine(
      'real',
      machine({ Hold: { Type: 'Wait', TimestampPath: '$.at', End: true } }),
    );
    // A whole second ahead (a timestamp wait ends at its second, as on AWS).
    const at = new Date(Math.ceil(systemClock.now().getTime() / 1000) * 1000 + 1000).toISOString();
    const { executionArn } = runner.startExecution({ stateMachineArn: arn, input: JSON.stringify({ at }) });
    await runner.idle();
    expect(runner.describeExecution(executionArn).status).toBe('RUNNING');
    await vi.waitFor(() => expect(runner.describeExecution(executionArn).status).toBe('SUCCEEDED'), {
      timeout: 10_000,
    });
  });

  it('calls plain Lambda ARNs with the state input and uses the raw result', async () => {
    const { calls, runner } = setup(async () => ({ ok: true, at: START }));
    const arn = runner.registerStateMachine(
      'plain',
      machine({
        Call: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:do-it:live', End: true },
      }),
    );
    const { executionArn } = runner.startExecution({ stateMachineArn: arn, input: '{"n":1}' });
    await runner.idle();
    expect(calls).toEqual([{ functionName: 'do-it', payload: { n: 1 } }]);
    expect(JSON.parse(runner.describeExecution(executionArn).output ?? '')).toEqual({
      ok: true,
      at: START.toISOString(),
    });
  });

  it('wraps lambda:invoke results as the service does and reports function errors as Lambda does', async () => {
    const { runner } = setup(async (functionName) => {
      if (functionName === 'bad') throw new TypeError('nope');
      return { v: 2 };
    });
    const arn = runner.registerStateMachine(
      'shapes',
      machine({
        Good: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: 'good', Payload: {} },
          ResultPath: '$.good',
          Next: 'Bad',
        },
        Bad: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:bad', Payload: {} },
          Catch: [{ ErrorEquals: ['TypeError'], ResultPath: '$.bad', Next: 'End' }],
          End: true,
        },
        End: { Type: 'Succeed' },
      }),
    );
    const { executionArn } = runner.startExecution({ stateMachineArn: arn });
    await runner.idle();
    const output = JSON.parse(runner.describeExecution(executionArn).output ?? '');
    expect(output.good).toMatchObject({ StatusCode: 200, Payload: { v: 2 }, ExecutedVersion: '$LATEST' });
    expect(output.bad.Error).toBe('TypeError');
    expect(JSON.parse(output.bad.Cause)).toMatchObject({ errorType: 'TypeError', errorMessage: 'nope' });
  });

  it('a clock timeout is States.Timeout, which States.TaskFailed does not match (as on AWS)', async () => {
    const { clock, runner } = setup();
    const arn = runner.registerStateMachine(
      'timeout',
      machine({
        Ask: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: { FunctionName: 'ask', Payload: { 'token.$': '$$.Task.Token' } },
          TimeoutSecondsPath: '$.timeout',
          Catch: [
            { ErrorEquals: ['States.TaskFailed'], Next: 'Failed' },
            { ErrorEquals: ['States.Timeout'], Next: 'TimedOut' },
          ],
          End: true,
        },
        Failed: { Type: 'Fail', Error: 'WrongCatcher' },
        TimedOut: { Type: 'Succeed' },
      }),
    );
    const { executionArn } = runner.startExecution({ stateMachineArn: arn, input: '{"timeout":120}' });
    await runner.idle();
    clock.advance(119_999);
    await runner.idle();
    expect(runner.describeExecution(executionArn).status).toBe('RUNNING');
    clock.advance(1);
    await runner.idle();
    expect(runner.describeExecution(executionArn)).toMatchObject({
      status: 'SUCCEEDED',
      output: JSON.stringify({ Error: 'States.Timeout', Cause: 'States.Timeout' }),
    });
  });

  it('times the whole execution out on the clock (top-level TimeoutSeconds)', async () => {
    const { clock, runner } = setup();
    const arn = runner.registerStateMachine(
      'slow',
      machine({ Hold: { Type: 'Wait', Seconds: 3600, End: true } }, { TimeoutSeconds: 60 }),
    );
    const { executionArn } = runner.startExecution({ stateMachineArn: arn });
    await runner.idle();
    clock.advance(60_000);
    await runner.idle();
    expect(runner.describeExecution(executionArn)).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
  });

  it('times out an execution at one year, as AWS does with a STANDARD execution, whatever it waits for', async () => {
    // Prepare
    const { clock, runner } = setup();
    const arn = runner.registerStateMachine(
      'long',
      machine({
        Hold: { Type: 'Wait', Seconds: 400 * 86_400, Next: 'Done' },
        Done: { Type: 'Succeed' },
      }),
    );
    const { executionArn } = runner.startExecution({ stateMachineArn: arn });
    await runner.idle();

    // Act
    clock.advance(365 * 86_400_000 - 1000);
    await runner.idle();
    const before = runner.describeExecution(executionArn).status;
    clock.advance(1000);
    await runner.idle();

    // Assess
    expect(MAX_EXECUTION_SECONDS).toBe(365 * 86_400);
    expect(before).toBe('RUNNING');
    expect(runner.describeExecution(executionArn)).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
  });

  it('truncates a timestamp wait to the second, as AWS does: a wait until .900 ends at .000', async () => {
    // Prepare
    const { clock, runner } = setup();
    const arn = runner.registerStateMachine(
      'truncated',
      machine({ Hold: { Type: 'Wait', TimestampPath: '$.at', End: true } }),
    );
    const { executionArn } = runner.startExecution({
      stateMachineArn: arn,
      input: JSON.stringify({ at: '2030-06-01T12:00:10.900Z' }),
    });
    await runner.idle();

    // Act
    clock.set(new Date('2030-06-01T12:00:09.999Z'));
    await runner.idle();
    const before = runner.describeExecution(executionArn).status;
    clock.set(new Date('2030-06-01T12:00:10.000Z'));
    await runner.idle();

    // Assess
    expect(before).toBe('RUNNING');
    expect(runner.describeExecution(executionArn).status).toBe('SUCCEEDED');
  });

  it('gives each task its own token, also in parallel branches, and a context from the clock', async () => {
    const { calls, runner } = setup();
    const ask = (name: string) => ({
      StartAt: name,
      States: {
        [name]: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: {
            FunctionName: name,
            Payload: { 'token.$': '$$.Task.Token', 'id.$': '$$.Execution.Id', 'started.$': '$$.Execution.StartTime' },
          },
          End: true,
        },
      },
    });
    const arn = runner.registerStateMachine(
      'both',
      machine({ Both: { Type: 'Parallel', Branches: [ask('left'), ask('right')], End: true } }),
    );
    const { executionArn } = runner.startExecution({ stateMachineArn: arn, name: 'x' });
    await runner.idle();
    expect(calls.map((call) => call.functionName).sort()).toEqual(['left', 'right']);
    expect(calls[0]?.payload).toMatchObject({ id: executionArn, started: START.toISOString() });
    const [left, right] = calls.map((call) => tokenOf(call.payload));
    expect(left).not.toBe(right);
    runner.sendTaskSuccess(String(left), '"L"');
    await runner.idle();
    expect(runner.describeExecution(executionArn).status).toBe('RUNNING');
    runner.sendTaskSuccess(String(right), '"R"');
    await runner.idle();
    expect(runner.describeExecution(executionArn).output).toBe('["L","R"]');
  });

  it('a token wait outlives the library real-time task timer (continuation), with one Lambda call', async () => {
    const { calls, runner } = setup();
    const arn = runner.registerStateMachine(
      'long',
      machine({
        Ask: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: { FunctionName: 'ask', Payload: { 'token.$': '$$.Task.Token' } },
          End: true,
        },
      }),
    );
    await runner.idle(); // the library's timeout class is probed with real timers
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { executionArn } = runner.startExecution({ stateMachineArn: arn });
    await vi.advanceTimersByTimeAsync(0);
    // 40 days of real time: past both the library's 24.8-day timer and its old 60 s default.
    for (let day = 0; day < 40; day++) await vi.advanceTimersByTimeAsync(86_400_000);
    expect(runner.describeExecution(executionArn).status).toBe('RUNNING');
    runner.sendTaskSuccess(tokenOf(calls[0]?.payload), '{"ok":true}');
    await vi.advanceTimersByTimeAsync(0);
    vi.useRealTimers();
    await runner.idle();
    expect(calls).toHaveLength(1);
    expect(runner.describeExecution(executionArn)).toMatchObject({ status: 'SUCCEEDED', output: '{"ok":true}' });
  });

  it('starts are idempotent only for the same input while running; closed names stay taken', async () => {
    const { runner } = setup();
    const arn = runner.registerStateMachine('quick', machine({ Done: { Type: 'Succeed' } }));
    const first = runner.startExecution({ stateMachineArn: arn, name: 'n1', input: '{}' });
    expect(runner.startExecution({ stateMachineArn: arn, name: 'n1', input: '{}' })).toEqual(first);
    await runner.idle();
    expect(runner.describeExecution(first.executionArn).status).toBe('SUCCEEDED');
    expect(() => runner.startExecution({ stateMachineArn: arn, name: 'n1', input: '{}' })).toThrow(
      expect.objectContaining({ code: 'ExecutionAlreadyExists' }),
    );
    expect(() => runner.startExecution({ stateMachineArn: arn, name: 'bad name' })).toThrow(
      expect.objectContaining({ code: 'InvalidName' }),
    );
    expect(() => runner.startExecution({ stateMachineArn: arn, input: '{' })).toThrow(
      expect.objectContaining({ code: 'InvalidExecutionInput' }),
    );
  });
});
