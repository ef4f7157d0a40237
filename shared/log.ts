import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/**
 * Structured logs, one JSON line each. Never a token, a body or an e-mail: callers are named by id only.
 * ELEVATE_LOG=debug adds one line per request; ELEVATE_LOG=silent keeps quiet (tests).
 *
 * Every line logged while a request or an invocation runs carries its `requestId` (API Gateway's request id for
 * an API call, the Lambda invocation id for the others: `withLogContext` / `withRequestId`), however deep the
 * call that logs. In AWS the functions also use Lambda's JSON log format, which adds the invocation's id to every
 * line the runtime itself prints.
 */
type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export interface LogContext {
  requestId: string;
}

const context = new AsyncLocalStorage<LogContext>();

/** Runs `work` with `fields` on every line it logs (and every line logged by what it calls). */
export function withLogContext<T>(fields: LogContext, work: () => T): T {
  return context.run(fields, work);
}

/** A Lambda handler whose log lines carry the invocation's id (`context.awsRequestId`) as `requestId`. */
export function withRequestId<E, R, C extends { awsRequestId?: string } = { awsRequestId?: string }>(
  handler: (event: E, lambda?: C) => Promise<R>,
): (event: E, lambda?: C) => Promise<R> {
  return (event, lambda) =>
    withLogContext({ requestId: lambda?.awsRequestId ?? randomUUID() }, () => handler(event, lambda));
}

export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  const threshold = ORDER[(process.env.ELEVATE_LOG as Level | 'silent' | undefined) ?? 'info'] ?? ORDER.info;
  if (ORDER[level] < threshold) return;
  const line = JSON.stringify({ level, msg, ...context.getStore(), ...fields });
  if (level === 'error' || level === 'warn') console.error(line);
  else console.log(line);
}

export function errorFields(error: unknown): Record<string, unknown> {
  if (error instanceof Error) return { error: error.name, message: error.message, stack: error.stack };
  return { error: String(error) };
}
