import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/**
 * Structured logs, one JSON line each. Never a token, a body or an e-mail: callers are named by id only.
 * ELEVATE_LOG=debug adds one line per request; ELEVATE_LOG=silent keeps quiet (tests).
 *
 * Every line logged while a request or an invocation runs carries its `requestId` (API Gateway's request id for
 * an API call, the Lambda invocation id for the others) and `coldStart` (true on the first invocation of the
 * process), however deep the call that logs: the invocation's fields travel with it (`alone` below, or an
 * AsyncLocalStorage when invocations overlap), and a use
 * case holds them explicitly too, as its `CallContext.log`. In AWS the functions also use Lambda's JSON log format, which
 * adds the invocation's id to every line the runtime itself prints.
 */
type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

/** A logger: the level, the message, the fields of the line. */
export type Log = (level: Level, msg: string, fields?: Record<string, unknown>) => void;

export interface LogContext {
  requestId: string;
  coldStart?: boolean;
}

const context = new AsyncLocalStorage<LogContext>();

/**
 * The fields of the one invocation in flight, for as long as the process has never had two at once (a Lambda
 * environment runs one invocation at a time): held here, not in the AsyncLocalStorage, whose first `run` makes Node
 * call a hook on every promise the process creates from then on (Node 20 and 22; tens of µs each on a cold process,
 * and an audit page's first call creates about 3,000, most of them in the SDK: bench/README.md, the audit function's
 * first call). When an invocation starts while another is in flight (the local runtime, a test that runs calls at
 * once, Lambda Managed Instances), the process turns to the AsyncLocalStorage for good: from then on each invocation's
 * lines carry its own fields, and those the invocations already in flight log carry none (never another's).
 */
let alone: { fields: LogContext | undefined } | null = { fields: undefined };

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

let cold = true;
/** True for the first invocation of this process (a Lambda environment's cold start), false after. */
function takeColdStart(): boolean {
  const first = cold;
  cold = false;
  return first;
}

/** Runs `work` with `fields` on every line it logs (and every line logged by what it calls). */
export function withLogContext<T>(fields: LogContext, work: () => T): T {
  const single = alone;
  if (!single || single.fields) {
    alone = null;
    return context.run(fields, work);
  }
  single.fields = fields;
  const done = () => {
    single.fields = undefined;
  };
  let result: T;
  try {
    result = work();
  } catch (error) {
    done();
    throw error;
  }
  if (!isThenable(result)) {
    done();
    return result;
  }
  return result.then(
    (value) => {
      done();
      return value;
    },
    (error: unknown) => {
      done();
      throw error;
    },
  ) as T;
}

/**
 * Runs one invocation: every line it logs carries `requestId` and `coldStart`, and `work` gets a logger bound to
 * them that keeps them wherever it is passed (a use case's `CallContext.log`).
 */
export function withRequestLog<T>(requestId: string, work: (log: Log) => T): T {
  const fields: LogContext = { requestId, coldStart: takeColdStart() };
  return withLogContext(fields, () => work(logWith(fields)));
}

/** A Lambda handler whose log lines carry the invocation's id (`context.awsRequestId`) as `requestId`. */
export function withRequestId<E, R, C extends { awsRequestId?: string } = { awsRequestId?: string }>(
  handler: (event: E, lambda?: C) => Promise<R>,
): (event: E, lambda?: C) => Promise<R> {
  return (event, lambda) => withRequestLog(lambda?.awsRequestId ?? randomUUID(), () => handler(event, lambda));
}

function write(level: Level, msg: string, bound: LogContext | undefined, fields: Record<string, unknown>): void {
  const threshold = ORDER[(process.env.ELEVATE_LOG as Level | 'silent' | undefined) ?? 'info'] ?? ORDER.info;
  if (ORDER[level] < threshold) return;
  const line = JSON.stringify({ level, msg, ...bound, ...fields });
  if (level === 'error' || level === 'warn') console.error(line);
  else console.log(line);
}

/** Logs with the fields of the invocation that is running, if any. */
export const log: Log = (level, msg, fields = {}) => write(level, msg, context.getStore() ?? alone?.fields, fields);

/** A logger whose lines carry `bound`, whichever invocation (if any) is running when it logs. */
export function logWith(bound: LogContext): Log {
  return (level, msg, fields = {}) => write(level, msg, bound, fields);
}

export function errorFields(error: unknown): Record<string, unknown> {
  if (error instanceof Error) return { error: error.name, message: error.message, stack: error.stack };
  return { error: String(error) };
}
