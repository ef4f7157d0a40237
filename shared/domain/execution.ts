/**
 * The limits of one Step Functions execution, as the access workflow must respect them in AWS:
 * - a STANDARD execution lives at most one year (AWS then times it out, and no `Catch` sees that), so each
 *   execution waits at most until its horizon, then the wait goes on in a new execution;
 * - a Wait state's timestamp is truncated to the second, so a wait rounded down would end up to 999 ms early.
 */

/** How long one execution may wait, from its start: well inside the one-year limit, with room for approvals. */
export const EXECUTION_HORIZON_MS = 300 * 86_400_000;

/** A timestamp for a Wait state: rounded up to the next whole second (a wait never ends before `at`). */
export function waitTimestamp(at: string | Date): string {
  const ms = typeof at === 'string' ? Date.parse(at) : at.getTime();
  if (Number.isNaN(ms)) throw new Error(`not a date-time: ${String(at)}`);
  return new Date(Math.ceil(ms / 1000) * 1000).toISOString();
}

/** The latest time an execution started at `now` may wait until (a Wait timestamp). */
export function executionHorizon(now: Date): string {
  return waitTimestamp(new Date(now.getTime() + EXECUTION_HORIZON_MS));
}

/**
 * The name of the execution that carries on after `current` (both belong to the request `requestId`): the
 * first is named after the request, the ones after it `<requestId>-1`, `<requestId>-2`, ... A retried
 * continuation gets the same name, so it starts the same execution.
 */
export function nextExecutionName(requestId: string, current: string): string {
  const suffix = current.startsWith(`${requestId}-`) ? current.slice(requestId.length + 1) : '';
  const sequence = /^[1-9]\d*$/.test(suffix) ? Number(suffix) : 0;
  return `${requestId}-${sequence + 1}`;
}
