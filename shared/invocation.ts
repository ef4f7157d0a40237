import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { errorFields, log, withRequestId } from './log.ts';

/**
 * The Lambda handler of a function that is not behind the API (scheduled jobs, workflow steps, the stream): a middy
 * chain of named steps around `work`. Every line it logs carries the invocation's id and cold start (`withRequestId`);
 * `parseEvent` checks the event first when the function has a schema for it; `failureLog` logs a failure, with
 * the invocation's id, before Lambda sees it (the failure still fails the invocation: the caller retries).
 */
export function invocationHandler<E, R>(
  name: string,
  work: (event: E, context: Context) => Promise<R>,
  parse: (raw: unknown) => E = (raw) => raw as E,
): (event: unknown, context?: Context) => Promise<R> {
  // No early time-out answer from middy: a run that outlives its time ends as Lambda ends it.
  const chain = middy<unknown, R, Error, Context>({ timeoutEarlyInMillis: 0 })
    .use(failureLog(name))
    .use(parseEvent(parse))
    .handler((event, context) => work(event as E, context));
  return withRequestId((event: unknown, context?: Context) => chain(event, context as Context));
}

/** The invocation's remaining time (Lambda's clock), or `fallback` ms when run without a Lambda context (tests). */
export const timeLeftOf =
  (context: Partial<Pick<Context, 'getRemainingTimeInMillis'>> | undefined, fallback: number) => (): number =>
    context?.getRemainingTimeInMillis?.() ?? fallback;

function parseEvent(parse: (raw: unknown) => unknown): MiddlewareObj<unknown, unknown, Error, Context> {
  return {
    name: 'parseEvent',
    before: (request) => {
      request.event = parse(request.event);
    },
  };
}

function failureLog(name: string): MiddlewareObj<unknown, unknown, Error, Context> {
  return {
    name: 'failureLog',
    onError: ({ error }) => {
      log('error', `${name} failed`, errorFields(error));
    },
  };
}
