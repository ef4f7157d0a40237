/**
 * The local Step Functions runtime: runs the synthesized ASL with aws-local-stepfunctions, on the clock.
 *
 * How the library is bent to behave like AWS (see asl.ts for the definition rewrite):
 * - Every Task state (and every rewritten Wait state) is overridden by name with `#task`, which does the
 *   Lambda call (optimized `lambda:invoke`, `.waitForTaskToken`, or a plain function ARN), the token
 *   wait, the clock wait, and the clock timeout (TimeoutSeconds → `States.Timeout`, a real instance of the
 *   library's own error class so `States.TaskFailed` catchers do not match it, as on AWS).
 * - `$$.Task.Token`: the library has no task tokens. The context object's `Task.Token` is a getter that
 *   mints a token each time Parameters read it; the override claims the tokens minted since the last
 *   override call. That is exact because the library evaluates a state's Parameters and calls its override
 *   in one synchronous run (no other state can interleave).
 * - Everything that waits (token, clock) follows the runner's clock through ClockTimers: with a manual
 *   clock nothing moves until the clock is advanced; with the system clock real timers are armed in steps.
 */
import './polyfill.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import { type RunOptions, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import {
  CONTINUE_ERROR,
  isRecord,
  LIBRARY_TASK_TIMEOUT_SECONDS,
  type PreparedDefinition,
  prepareDefinition,
  type StatePlan,
} from './asl.ts';
import { deferred } from './polyfill.ts';
import { ClockTimers, type RunnerClock } from './timers.ts';

export type { RunnerClock } from './timers.ts';

/** Runs one Lambda handler locally; resolves with what the handler returned, rejects with what it threw. */
export type LambdaInvoker = (functionName: string, payload: unknown) => Promise<unknown>;
/** Runs a non-Lambda Task resource (e.g. `arn:aws:states:::events:putEvents`) with the task's input. */
export type IntegrationInvoker = (resource: string, input: unknown) => Promise<unknown>;

export interface LocalStepFunctionsOptions {
  readonly clock: RunnerClock;
  readonly lambda: LambdaInvoker;
  /** Other Task resources; without it such a task fails with `States.Runtime`. */
  readonly integration?: IntegrationInvoker;
  readonly region?: string;
  readonly accountId?: string;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionDescription {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: ExecutionStatus;
  readonly input: string;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
  readonly startDate: Date;
  readonly stopDate?: Date;
}

export type ExecutionListItem = Pick<
  ExecutionDescription,
  'executionArn' | 'stateMachineArn' | 'name' | 'status' | 'startDate' | 'stopDate'
>;

/** An API error with the AWS error code (`ExecutionAlreadyExists`, `TaskTimedOut`, ...) as its name. */
export class SfnError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

type TaskHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
type JsonValue = Parameters<TaskHandlers[string]>[0];

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: Error };

/** One piece of pending task work; it outlives a continuation retry (see asl.ts). */
interface Op {
  readonly promise: Promise<unknown>;
  readonly tokens: Set<string>;
  done: boolean;
  finish(outcome: Outcome): void;
}

interface Machine {
  readonly arn: string;
  readonly name: string;
  readonly prepared: PreparedDefinition;
  readonly library: StateMachine;
}

interface Execution {
  readonly arn: string;
  readonly name: string;
  readonly machine: Machine;
  readonly input: string;
  readonly startDate: Date;
  status: ExecutionStatus;
  output?: string;
  error?: string;
  cause?: string;
  stopDate?: Date;
  abort?: () => void;
  cancelTimeout?: () => void;
  readonly ops: Set<Op>;
  readonly parked: Map<string, Op[]>;
  /** Names of the states entered, in order: what AWS bills as state transitions. */
  readonly statesEntered: string[];
  /** Lambda calls in flight (work that is not waiting on the clock or a token). */
  busy: number;
  /** Ops waiting on the clock or a task token. */
  blocked: number;
}

/**
 * AWS: a STANDARD execution runs at most one year, then times out (`States.Timeout`, status TIMED_OUT) whatever
 * it waits for, and no Catch of the machine sees it. The runner imposes it on the clock, like a TimeoutSeconds.
 */
export const MAX_EXECUTION_SECONDS = 365 * 86_400;

/** Resume a pending wait an hour before the library's own (real-time) task timer would fire. */
const CONTINUE_AFTER_MS = (LIBRARY_TASK_TIMEOUT_SECONDS - 3600) * 1000;
const TOKEN_PREFIX = 'ELEVATELOCAL';
const OPTIMIZED_LAMBDA = /^arn:[^:]+:states:::lambda:invoke(\.waitForTaskToken)?$/;
const PLAIN_LAMBDA = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:/;
// AWS: 1-80 characters, no whitespace, brackets, wildcards, special or control characters.
const NAME_CHARACTERS = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/]{1,80}$/;

function validName(name: string): boolean {
  const control = [...name].some((char) => {
    const code = char.codePointAt(0) ?? 0;
    return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
  });
  return NAME_CHARACTERS.test(name) && !control;
}

/** Definitions (as JSON text) that already passed the library's validation. */
const validated = new Set<string>();

/** The library's StatesTimeoutError class, taken from a 1 ms probe run (the class is not exported). */
let StatesTimeoutError: (new () => Error) | undefined;
const probe = new StateMachine(
  { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'probe', TimeoutSeconds: 0.001, End: true } } },
  { validationOptions: { noValidate: true } },
);
const probed = probe
  .run(null, { overrides: { taskResourceLocalHandlers: { T: () => new Promise<JsonValue>(() => {}) } } })
  .result.then(
    () => {},
    (error: unknown) => {
      const cause = error instanceof Error ? error.cause : undefined;
      if (cause instanceof Error && cause.name === 'States.Timeout') {
        StatesTimeoutError = cause.constructor as new () => Error;
      }
    },
  );

function statesTimeout(): Error {
  return StatesTimeoutError ? new StatesTimeoutError() : namedError('States.Timeout', 'States.Timeout');
}

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** The runner's own errors that no Retry or Catch may match (the library reads these two flags). */
function uncatchable(name: string, message: string): Error {
  return Object.assign(namedError(name, message), { isRetryable: false, isCatchable: false });
}

/** What the Lambda service reports for a function error: errorType as Error, the error JSON as Cause. */
function lambdaError(thrown: unknown): Error {
  const error = thrown instanceof Error ? thrown : new Error(String(thrown));
  const errorType = error.name || 'Error';
  const trace = (error.stack ?? '').split('\n').slice(1);
  return namedError(errorType, JSON.stringify({ errorType, errorMessage: error.message, trace }));
}

/** Values cross the Lambda boundary as JSON (Dates become strings, undefined becomes null). */
function asJson(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

/** `my-fn`, `my-fn:live`, `123:function:my-fn` or a full ARN → `my-fn`. */
function functionNameOf(value: unknown): string {
  if (typeof value !== 'string' || value === '') throw namedError('States.Runtime', 'FunctionName is missing');
  const afterFunction = value.includes('function:') ? value.slice(value.lastIndexOf('function:') + 9) : value;
  return afterFunction.split(':')[0] ?? afterFunction;
}

export class LocalStepFunctions {
  readonly #clock: RunnerClock;
  readonly #lambda: LambdaInvoker;
  readonly #integration: IntegrationInvoker | undefined;
  readonly #timers: ClockTimers;
  readonly #arnPrefix: string;
  readonly #machines = new Map<string, Machine>();
  readonly #executions = new Map<string, Execution>();
  readonly #tokens = new Map<string, Op>();
  readonly #closedTokens = new Set<string>();
  /** Tokens read from `$$.Task.Token` since the last override call (see the header). */
  #unclaimed: string[] = [];
  /** Bumped on every step the runner sees; idle() waits for it to stand still. */
  #progress = 0;

  constructor(opts: LocalStepFunctionsOptions) {
    this.#clock = opts.clock;
    this.#lambda = opts.lambda;
    this.#integration = opts.integration;
    this.#timers = new ClockTimers(opts.clock);
    this.#arnPrefix = `arn:aws:states:${opts.region ?? 'us-east-1'}:${opts.accountId ?? '000000000000'}`;
  }

  /** Register (or replace) a state machine; running executions keep the definition they started with. */
  registerStateMachine(name: string, definition: string | Record<string, unknown>): string {
    const source: unknown = typeof definition === 'string' ? JSON.parse(definition) : definition;
    if (!isRecord(source)) throw new Error('a state machine definition must be a JSON object');
    // Validate the definition as written (clear messages), then run the rewritten one unvalidated.
    // Validation compiles JSON schemas (a few hundred ms), so each distinct definition is checked once.
    const text = JSON.stringify(source);
    if (!validated.has(text)) {
      new StateMachine(source as unknown as StateMachineDefinition, { validationOptions: { checkArn: false } });
      validated.add(text);
    }
    const prepared = prepareDefinition(source);
    const library = new StateMachine(prepared.definition as unknown as StateMachineDefinition, {
      validationOptions: { noValidate: true },
    });
    const arn = `${this.#arnPrefix}:stateMachine:${name}`;
    this.#machines.set(arn, { arn, name, prepared, library });
    return arn;
  }

  /**
   * Start an execution. As on AWS, a name is unique per state machine: the same name and input while the
   * execution runs returns it again; anything else with a used name is ExecutionAlreadyExists.
   */
  startExecution(params: { stateMachineArn: string; name?: string; input?: string }): {
    executionArn: string;
    startDate: Date;
  } {
    const machine = this.#machines.get(params.stateMachineArn);
    if (!machine)
      throw new SfnError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${params.stateMachineArn}'`);
    const name = params.name ?? randomUUID();
    if (!validName(name)) throw new SfnError('InvalidName', `Invalid Name: '${name}'`);
    const input = params.input ?? '{}';
    let parsed: unknown;
    try {
      parsed = JSON.parse(input);
    } catch {
      throw new SfnError('InvalidExecutionInput', 'Invalid State Machine Execution Input: not valid JSON');
    }
    const arn = `${this.#arnPrefix}:execution:${machine.name}:${name}`;
    const existing = this.#executions.get(arn);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === input) {
        return { executionArn: arn, startDate: existing.startDate };
      }
      throw new SfnError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    const exec: Execution = {
      arn,
      name,
      machine,
      input,
      startDate: this.#clock.now(),
      status: 'RUNNING',
      ops: new Set(),
      parked: new Map(),
      busy: 0,
      blocked: 0,
      statesEntered: [],
    };
    this.#executions.set(arn, exec);
    this.#run(exec, parsed);
    return { executionArn: arn, startDate: exec.startDate };
  }

  describeExecution(executionArn: string): ExecutionDescription {
    const exec = this.#execution(executionArn);
    return {
      executionArn: exec.arn,
      stateMachineArn: exec.machine.arn,
      name: exec.name,
      status: exec.status,
      input: exec.input,
      startDate: exec.startDate,
      ...(exec.output !== undefined && { output: exec.output }),
      ...(exec.error !== undefined && { error: exec.error }),
      ...(exec.cause !== undefined && { cause: exec.cause }),
      ...(exec.stopDate !== undefined && { stopDate: exec.stopDate }),
    };
  }

  /** The states an execution entered so far, in order (each is one billed state transition on AWS). */
  statesEntered(executionArn: string): readonly string[] {
    return [...this.#execution(executionArn).statesEntered];
  }

  /** Executions, newest first. */
  listExecutions(filter: { stateMachineArn?: string; statusFilter?: ExecutionStatus } = {}): ExecutionListItem[] {
    return [...this.#executions.values()]
      .filter((exec) => !filter.stateMachineArn || exec.machine.arn === filter.stateMachineArn)
      .filter((exec) => !filter.statusFilter || exec.status === filter.statusFilter)
      .sort((a, b) => b.startDate.getTime() - a.startDate.getTime())
      .map(({ arn, machine, name, status, startDate, stopDate }) => ({
        executionArn: arn,
        stateMachineArn: machine.arn,
        name,
        status,
        startDate,
        ...(stopDate !== undefined && { stopDate }),
      }));
  }

  /** Abort a running execution (a closed one is left as it is). */
  stopExecution(executionArn: string, error?: string, cause?: string): { stopDate: Date } {
    const exec = this.#execution(executionArn);
    if (exec.status === 'RUNNING') {
      exec.status = 'ABORTED';
      if (error !== undefined) exec.error = error;
      if (cause !== undefined) exec.cause = cause;
      this.#close(exec);
    }
    return { stopDate: exec.stopDate ?? this.#clock.now() };
  }

  sendTaskSuccess(taskToken: string, output: string): void {
    const op = this.#openTask(taskToken);
    let value: unknown;
    try {
      value = JSON.parse(output);
    } catch {
      throw new SfnError('InvalidOutput', 'Invalid Output: not valid JSON');
    }
    op.finish({ ok: true, value });
  }

  sendTaskFailure(taskToken: string, error?: string, cause?: string): void {
    this.#openTask(taskToken).finish({ ok: false, error: namedError(error ?? '', cause ?? '') });
  }

  /** Heartbeats are not enforced locally; this only checks that the task is still open. */
  sendTaskHeartbeat(taskToken: string): void {
    this.#openTask(taskToken);
  }

  /**
   * Resolves once every running execution waits only on the clock or a task token (and nothing moved for
   * a few event-loop turns). Back-off pauses of a Retry run on real time and count as work.
   */
  async idle(opts: { timeoutMs?: number } = {}): Promise<void> {
    let late = false;
    const guard = setTimeout(() => {
      late = true;
    }, opts.timeoutMs ?? 10_000);
    await probed;
    let seen = -1;
    let quietTurns = 0;
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      const waiting = [...this.#executions.values()].every(
        (exec) => exec.status !== 'RUNNING' || (exec.busy === 0 && exec.blocked > 0),
      );
      quietTurns = waiting && this.#progress === seen ? quietTurns + 1 : 0;
      if (quietTurns >= 3) {
        clearTimeout(guard);
        return;
      }
      seen = this.#progress;
      if (late) throw new Error('local Step Functions did not become idle in time');
    }
  }

  /** Stop every running execution (marked ABORTED) and every timer. */
  dispose(): void {
    for (const exec of this.#executions.values()) {
      if (exec.status === 'RUNNING') this.stopExecution(exec.arn, 'ElevateLocal.Disposed');
    }
    this.#timers.dispose();
  }

  #execution(executionArn: string): Execution {
    const exec = this.#executions.get(executionArn);
    if (!exec) throw new SfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return exec;
  }

  #run(exec: Execution, input: unknown): void {
    const handlers: TaskHandlers = {};
    for (const [stateName, plan] of exec.machine.prepared.plans) {
      handlers[stateName] = (taskInput) => this.#task(exec, stateName, plan, taskInput) as Promise<JsonValue>;
    }
    const clock = this.#clock;
    const mint = () => this.#mint();
    const context = {
      Execution: {
        Id: exec.arn,
        Name: exec.name,
        RoleArn: `arn:aws:iam::000000000000:role/elevate-local`,
        LocalStartTime: exec.startDate.toISOString(),
      },
      StateMachine: { Id: exec.machine.arn, Name: exec.machine.name },
      Task: {
        get Token() {
          return mint();
        },
      },
      State: {
        get EnteredTime() {
          return clock.now().toISOString();
        },
      },
    };
    const run = exec.machine.library.run(input as JsonValue, {
      overrides: { taskResourceLocalHandlers: handlers },
      noThrowOnAbort: true,
      context,
    });
    exec.abort = run.abort;
    void (async () => {
      try {
        for await (const event of run.eventLogs) {
          if (event.type === 'StateEntered') exec.statesEntered.push(event.state.name);
        }
      } catch {
        // the log ends with the execution; its errors are the execution's, reported there
      }
    })();
    const timeoutSeconds = Math.min(
      exec.machine.prepared.timeoutSeconds ?? MAX_EXECUTION_SECONDS,
      MAX_EXECUTION_SECONDS,
    );
    exec.cancelTimeout = this.#timers.at(exec.startDate.getTime() + timeoutSeconds * 1000, () => {
      if (exec.status !== 'RUNNING') return;
      exec.status = 'TIMED_OUT';
      exec.error = 'States.Timeout';
      this.#close(exec);
    });
    run.result.then(
      (output) => {
        if (exec.status !== 'RUNNING') return;
        exec.status = 'SUCCEEDED';
        exec.output = JSON.stringify(output ?? null);
        this.#close(exec);
      },
      (thrown: unknown) => {
        if (exec.status !== 'RUNNING') return;
        const error = thrown instanceof Error && thrown.cause instanceof Error ? thrown.cause : thrown;
        exec.status = 'FAILED';
        if (error instanceof Error) {
          // The library's Fail state without Error/Cause reports placeholders; AWS reports nothing.
          if (error.name && error.name !== 'FailStateError') exec.error = error.name;
          if (error.message && error.message !== 'Execution failed because of a Fail state') exec.cause = error.message;
        } else {
          exec.cause = String(error);
        }
        this.#close(exec);
      },
    );
  }

  /** Settle an execution's leftovers once it is no longer RUNNING. */
  #close(exec: Execution): void {
    this.#progress++;
    exec.stopDate = this.#clock.now();
    exec.cancelTimeout?.();
    exec.abort?.();
    // Drop the run's closures: they hold its event log, which nobody drains.
    exec.abort = undefined;
    exec.parked.clear();
    for (const op of [...exec.ops]) {
      op.finish({ ok: false, error: uncatchable('ElevateLocal.ExecutionClosed', `execution ${exec.status}`) });
    }
  }

  #mint(): string {
    const token = `${TOKEN_PREFIX}${randomBytes(48).toString('base64url')}`;
    this.#unclaimed.push(token);
    return token;
  }

  #openTask(token: string): Op {
    if (typeof token !== 'string' || !token.startsWith(TOKEN_PREFIX) || token.length > 1024) {
      throw new SfnError('InvalidToken', 'Invalid Token');
    }
    const op = this.#tokens.get(token);
    if (op) return op;
    // AWS answers TaskTimedOut for a token whose task is already closed (succeeded, failed or timed out).
    if (this.#closedTokens.has(token)) {
      throw new SfnError('TaskTimedOut', "Task Timed Out: 'Provided task does not exist anymore'");
    }
    throw new SfnError('TaskDoesNotExist', 'Task Does Not Exist');
  }

  /** The override of every Task and rewritten Wait state. */
  #task(exec: Execution, stateName: string, plan: StatePlan, input: unknown): Promise<unknown> {
    this.#progress++;
    const tokens = this.#unclaimed;
    this.#unclaimed = [];
    if (exec.status !== 'RUNNING') {
      return Promise.reject(uncatchable('ElevateLocal.ExecutionClosed', `execution ${exec.status}`));
    }
    const parked = exec.parked.get(stateName)?.shift();
    const op = parked ?? this.#start(exec, plan, input, tokens);
    if (parked) this.#register(parked, tokens);
    return this.#untilContinue(exec, stateName, op);
  }

  /**
   * The library's task timer (real time) is at its maximum; well before it fires, fail this attempt with
   * the continuation error, park the op, and let the retry (asl.ts) pick the same op up again.
   */
  #untilContinue(exec: Execution, stateName: string, op: Op): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (op.done) return;
        exec.parked.set(stateName, [...(exec.parked.get(stateName) ?? []), op]);
        reject(namedError(CONTINUE_ERROR, 'continue'));
      }, CONTINUE_AFTER_MS);
      timer.unref();
      op.promise.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  #register(op: Op, tokens: readonly string[]): void {
    for (const token of tokens) {
      op.tokens.add(token);
      this.#tokens.set(token, op);
    }
  }

  #start(exec: Execution, plan: StatePlan, input: unknown, tokens: readonly string[]): Op {
    const { promise, resolve, reject } = deferred<unknown>();
    const cleanups: (() => void)[] = [];
    let blocking = false;
    const op: Op = {
      promise,
      tokens: new Set(),
      done: false,
      finish: (outcome) => {
        if (op.done) return;
        op.done = true;
        this.#progress++;
        exec.ops.delete(op);
        if (blocking) exec.blocked--;
        for (const cleanup of cleanups) cleanup();
        for (const token of op.tokens) {
          this.#tokens.delete(token);
          this.#closedTokens.add(token);
        }
        if (outcome.ok) resolve(outcome.value);
        else reject(outcome.error);
      },
    };
    exec.ops.add(op);
    const block = () => {
      blocking = true;
      exec.blocked++;
    };
    const fail = (error: Error) => op.finish({ ok: false, error });
    try {
      if (plan.kind === 'wait') {
        cleanups.push(this.#timers.at(this.#waitUntil(input), () => op.finish({ ok: true, value: waitInput(input) })));
        block();
        return op;
      }
      const { payload, timeoutSeconds } = unwrap(plan, input);
      if (timeoutSeconds !== undefined) {
        const deadline = this.#clock.now().getTime() + timeoutSeconds * 1000;
        cleanups.push(this.#timers.at(deadline, () => fail(statesTimeout())));
      }
      const waitForToken = plan.resource.endsWith('.waitForTaskToken');
      if (waitForToken) {
        if (tokens.length === 0) {
          throw namedError('States.Runtime', 'a .waitForTaskToken task must pass $$.Task.Token in its Parameters');
        }
        // Register before calling out: the callee may answer the token before it returns.
        this.#register(op, tokens);
        block();
      }
      const call = this.#call(plan.resource, payload);
      exec.busy++;
      call
        .finally(() => {
          exec.busy--;
          this.#progress++;
        })
        .then(
          (value) => {
            if (!waitForToken) op.finish({ ok: true, value });
          },
          (error: unknown) => fail(error instanceof Error ? error : new Error(String(error))),
        );
    } catch (error) {
      fail(error instanceof Error ? error : new Error(String(error)));
    }
    return op;
  }

  /** The work of one Task resource; resolves with the task's result as AWS shapes it. */
  async #call(resource: string, payload: unknown): Promise<unknown> {
    if (OPTIMIZED_LAMBDA.test(resource)) {
      if (!isRecord(payload)) throw namedError('States.Runtime', `${resource} needs Parameters`);
      const functionName = functionNameOf(payload.FunctionName);
      const event = 'Payload' in payload ? payload.Payload : {};
      if (payload.InvocationType === 'Event') {
        // Asynchronous invocation: AWS answers 202 at once and the function's outcome is not awaited.
        this.#lambda(functionName, event).catch(() => {});
        return { StatusCode: 202, Payload: '' };
      }
      const result = await this.#invoke(functionName, event);
      const requestId = randomUUID();
      const headers = { 'Content-Type': 'application/json', 'X-Amz-Executed-Version': '$LATEST' };
      return {
        ExecutedVersion: '$LATEST',
        Payload: result,
        SdkHttpMetadata: {
          AllHttpHeaders: Object.fromEntries(Object.entries(headers).map(([key, value]) => [key, [value]])),
          HttpHeaders: headers,
          HttpStatusCode: 200,
        },
        SdkResponseMetadata: { RequestId: requestId },
        StatusCode: 200,
      };
    }
    if (PLAIN_LAMBDA.test(resource)) return this.#invoke(functionNameOf(resource), payload);
    if (this.#integration) return asJson(await this.#integration(resource, payload));
    throw namedError('States.Runtime', `the local runtime has no integration for ${resource}`);
  }

  async #invoke(functionName: string, payload: unknown): Promise<unknown> {
    try {
      return asJson(await this.#lambda(functionName, asJson(payload)));
    } catch (error) {
      throw lambdaError(error);
    }
  }

  /** The clock time (epoch ms) a rewritten Wait state waits for. */
  #waitUntil(input: unknown): number {
    if (isRecord(input)) {
      if (typeof input.seconds === 'number' && input.seconds >= 0) {
        return this.#clock.now().getTime() + input.seconds * 1000;
      }
      if (typeof input.timestamp === 'string') {
        // AWS truncates a Wait's timestamp to the second: `...T10:00:00.900Z` ends the wait at 10:00:00.
        const when = Date.parse(input.timestamp);
        if (!Number.isNaN(when)) return Math.floor(when / 1000) * 1000;
      }
    }
    throw namedError('States.Runtime', 'the Wait state has no valid seconds or timestamp');
  }
}

function waitInput(input: unknown): unknown {
  return isRecord(input) ? (input.input ?? null) : null;
}

function unwrap(plan: StatePlan & { kind: 'task' }, input: unknown): { payload: unknown; timeoutSeconds?: number } {
  if (!plan.wrapped)
    return { payload: input, ...(plan.timeoutSeconds !== undefined && { timeoutSeconds: plan.timeoutSeconds }) };
  const wrapped = isRecord(input) ? input : {};
  const timeoutSeconds = wrapped.timeoutSeconds;
  if (typeof timeoutSeconds !== 'number' || !Number.isInteger(timeoutSeconds) || timeoutSeconds < 1) {
    throw namedError('States.Runtime', 'TimeoutSecondsPath must select a positive integer');
  }
  return { payload: wrapped.payload ?? null, timeoutSeconds };
}
