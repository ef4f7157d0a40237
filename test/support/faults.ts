/**
 * Fault injection on the real AWS SDK clients: a middleware placed right after the SDK's retry middleware, so it
 * acts on every attempt as the service would (the SDK retries what it considers retriable, like it does in AWS).
 * A fault either fails the attempt before it is sent, or lets it through and then fails it (the call took effect,
 * the answer was lost: a timeout after the commit).
 */
export interface FaultSpec {
  /** The SDK command, e.g. 'TransactWriteItemsCommand', 'StartExecutionCommand', 'SendEmailCommand'. */
  command: string;
  /** Only attempts whose (marshalled) input contains this text; all of the command when omitted. */
  matching?: string;
  /** How many attempts fail; every one when omitted. */
  times?: number;
  /** 'before': the attempt never reaches the service; 'after': it does, then its answer is replaced by the error. */
  when?: 'before' | 'after';
  error: () => Error;
}

export interface Fault {
  /** Attempts of the command that matched (failed or not). */
  readonly attempts: number;
  /** Attempts that were failed. */
  readonly injected: number;
  remove(): void;
}

/** Any SDK v3 client (its middleware stack is all this needs). */
interface HasStack {
  middlewareStack: {
    // biome-ignore lint/suspicious/noExplicitAny: the middleware and options of any client
    addRelativeTo(middleware: any, options: any): void;
    remove(name: string): boolean;
  };
}

let counter = 0;

export function injectFault(client: HasStack, spec: FaultSpec): Fault {
  const name = `elevate-test-fault-${++counter}`;
  const state = { attempts: 0, injected: 0 };
  client.middlewareStack.addRelativeTo(
    // biome-ignore lint/suspicious/noExplicitAny: middleware signature of any command
    (next: any, context: any) => async (args: any) => {
      const matches =
        context.commandName === spec.command &&
        (spec.matching === undefined || JSON.stringify(args.input).includes(spec.matching));
      if (!matches) return next(args);
      state.attempts++;
      if (spec.times !== undefined && state.injected >= spec.times) return next(args);
      state.injected++;
      if (spec.when === 'after') await next(args);
      throw spec.error();
    },
    { relation: 'after', toMiddleware: 'retryMiddleware', name, override: true },
  );
  return {
    get attempts() {
      return state.attempts;
    },
    get injected() {
      return state.injected;
    },
    remove: () => {
      client.middlewareStack.remove(name);
    },
  };
}

/** An error as the SDK deserializes it from a service answer. */
export function serviceError(name: string, httpStatusCode: number, message = name): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode, attempts: 1 },
  });
}

export const faults = {
  throttled: () => serviceError('ProvisionedThroughputExceededException', 400, 'throughput exceeds the capacity'),
  throttling: () => serviceError('ThrottlingException', 400, 'rate exceeded'),
  internal: () => serviceError('InternalServerError', 500, 'internal server error'),
  unavailable: () => serviceError('ServiceUnavailable', 503, 'service unavailable'),
  timeout: () => Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }),
};
