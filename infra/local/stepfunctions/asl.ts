/**
 * Prepares a synthesized ASL definition for aws-local-stepfunctions without changing what it means:
 *
 * - Every `Wait` state becomes a `Task` state on the local resource WAIT_RESOURCE whose Parameters carry
 *   the wait (`{ input, seconds | timestamp }`); the runner resolves it when the clock reaches the time and
 *   returns `input`, so the output is the Wait's (InputPath and OutputPath are kept). The library's own
 *   Wait sleeps on real time (Date.now + setTimeout, which overflows past 2^31 ms) and has no hook that
 *   sees the input, so it cannot follow a manual clock.
 * - Task timeouts move to the clock: the runner applies the ASL's TimeoutSeconds(Path) itself, and the
 *   library's real-time timer (60 s when unset) is pushed to its maximum, LIBRARY_TASK_TIMEOUT_SECONDS.
 *   A continuation retrier (CONTINUE_ERROR) lets a wait outlive even that: the runner fails the attempt
 *   with CONTINUE_ERROR shortly before the library's timer would fire and picks the same pending work up
 *   again on the retry.
 * - The machine's top-level TimeoutSeconds is removed (the runner applies it on the clock).
 * - `$$.Execution.StartTime` is read from `$$.Execution.LocalStartTime`: the library overwrites StartTime
 *   with the system time, the runner puts the clock's start time in LocalStartTime.
 * - Heartbeats are not enforced (HeartbeatSeconds is dropped; SendTaskHeartbeat is accepted).
 */

/** The resource of a rewritten Wait state. */
export const WAIT_RESOURCE = 'arn:aws:states:::elevate-local:wait';

/** The largest TimeoutSeconds the library's setTimeout takes without overflowing (about 24.8 days). */
export const LIBRARY_TASK_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** The error name of a continuation: the runner's own, retried at once, never seen by the ASL. */
export const CONTINUE_ERROR = 'ElevateLocal.Continue';

const CONTINUE_RETRIER = { ErrorEquals: [CONTINUE_ERROR], IntervalSeconds: 0, MaxAttempts: 99_999_999 };

export type StatePlan =
  | {
      readonly kind: 'task';
      readonly resource: string;
      /** The ASL's TimeoutSeconds; undefined when there is none (AWS's default is 99999999 s). */
      readonly timeoutSeconds?: number;
      /** Parameters were wrapped as `{ payload, timeoutSeconds }` to evaluate TimeoutSecondsPath. */
      readonly wrapped: boolean;
    }
  | { readonly kind: 'wait' };

export interface PreparedDefinition {
  readonly definition: Record<string, unknown>;
  /** Every Task (and rewritten Wait) state by name, nested branches and iterators included. */
  readonly plans: ReadonlyMap<string, StatePlan>;
  readonly timeoutSeconds?: number;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function prepareDefinition(source: Record<string, unknown>): PreparedDefinition {
  const plans = new Map<string, StatePlan>();
  const names = new Set<string>();
  if (source.QueryLanguage === 'JSONata') throw new Error('the local runtime supports JSONPath only, not JSONata');
  const definition = rewriteMachine(renameStartTime(source), plans, names);
  delete definition.TimeoutSeconds;
  const timeoutSeconds = typeof source.TimeoutSeconds === 'number' ? source.TimeoutSeconds : undefined;
  return { definition, plans, ...(timeoutSeconds !== undefined && { timeoutSeconds }) };
}

function rewriteMachine(
  machine: Record<string, unknown>,
  plans: Map<string, StatePlan>,
  names: Set<string>,
): Record<string, unknown> {
  const states = machine.States;
  if (!isRecord(states)) throw new Error('the state machine has no States');
  const rewritten: Record<string, unknown> = {};
  for (const [name, state] of Object.entries(states)) {
    if (!isRecord(state)) throw new Error(`state ${name} is not an object`);
    if (state.QueryLanguage === 'JSONata') throw new Error(`state ${name} uses JSONata; only JSONPath runs locally`);
    // Overrides are keyed by state name, so names must be unique across branches (as AWS requires too).
    if (names.has(name)) throw new Error(`state name ${name} is used twice`);
    names.add(name);
    rewritten[name] = rewriteState(name, state, plans, names);
  }
  return { ...machine, States: rewritten };
}

function rewriteState(
  name: string,
  state: Record<string, unknown>,
  plans: Map<string, StatePlan>,
  names: Set<string>,
): unknown {
  switch (state.Type) {
    case 'Wait':
      plans.set(name, { kind: 'wait' });
      return rewriteWait(name, state);
    case 'Task':
      return rewriteTask(name, state, plans);
    case 'Parallel': {
      const branches = Array.isArray(state.Branches) ? state.Branches : [];
      return { ...state, Branches: branches.map((branch) => rewriteMachine(asRecord(branch, name), plans, names)) };
    }
    case 'Map': {
      const next = { ...state };
      if (isRecord(state.ItemProcessor)) next.ItemProcessor = rewriteMachine(state.ItemProcessor, plans, names);
      if (isRecord(state.Iterator)) next.Iterator = rewriteMachine(state.Iterator, plans, names);
      return next;
    }
    default:
      return state;
  }
}

function rewriteWait(name: string, state: Record<string, unknown>): Record<string, unknown> {
  const parameters: Record<string, unknown> = { 'input.$': '$' };
  if (typeof state.Seconds === 'number') parameters.seconds = state.Seconds;
  else if (typeof state.Timestamp === 'string') parameters.timestamp = state.Timestamp;
  else if (typeof state.SecondsPath === 'string') parameters['seconds.$'] = state.SecondsPath;
  else if (typeof state.TimestampPath === 'string') parameters['timestamp.$'] = state.TimestampPath;
  else throw new Error(`Wait state ${name} has no Seconds, Timestamp, SecondsPath or TimestampPath`);
  const task: Record<string, unknown> = {
    Type: 'Task',
    Resource: WAIT_RESOURCE,
    Parameters: parameters,
    TimeoutSeconds: LIBRARY_TASK_TIMEOUT_SECONDS,
    Retry: [CONTINUE_RETRIER],
  };
  for (const key of ['Comment', 'InputPath', 'OutputPath', 'Next', 'End']) {
    if (key in state) task[key] = state[key];
  }
  return task;
}

function rewriteTask(name: string, state: Record<string, unknown>, plans: Map<string, StatePlan>): unknown {
  const resource = state.Resource;
  if (typeof resource !== 'string') throw new Error(`Task state ${name} has no Resource`);
  const task: Record<string, unknown> = {
    ...state,
    TimeoutSeconds: LIBRARY_TASK_TIMEOUT_SECONDS,
    Retry: [CONTINUE_RETRIER, ...(Array.isArray(state.Retry) ? state.Retry : [])],
  };
  delete task.TimeoutSecondsPath;
  delete task.HeartbeatSeconds;
  delete task.HeartbeatSecondsPath;
  const timeoutPath = state.TimeoutSecondsPath;
  if (typeof timeoutPath === 'string') {
    // The override only sees the task's input, so carry the timeout in it and unwrap it in the runner.
    task.Parameters =
      'Parameters' in state
        ? { payload: state.Parameters, 'timeoutSeconds.$': timeoutPath }
        : { 'payload.$': '$', 'timeoutSeconds.$': timeoutPath };
  }
  const timeoutSeconds = typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : undefined;
  plans.set(name, {
    kind: 'task',
    resource,
    wrapped: typeof timeoutPath === 'string',
    ...(timeoutSeconds !== undefined && { timeoutSeconds }),
  });
  return task;
}

function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (!isRecord(value)) throw new Error(`a branch of ${where} is not an object`);
  return value;
}

/** Deep copy with `$$.Execution.StartTime` read from the clock's start time (see the header). */
function renameStartTime<T>(value: T): T {
  return JSON.parse(JSON.stringify(value), (_key, item: unknown) =>
    typeof item === 'string' ? item.replaceAll('$$.Execution.StartTime', () => '$$.Execution.LocalStartTime') : item,
  );
}
