/**
 * The one retry policy of Elevate (pure: no SDK, no I/O but the sleep it is given).
 *
 * - Transport errors, 5xx and throttling of a single AWS call are the SDK's to retry: every client is built with
 *   `maxAttempts: SDK_MAX_ATTEMPTS` (its standard mode: exponential backoff with full jitter and a retry quota). The
 *   adapters of IAM Identity Center, the identity store and Organizations are the exception: their clients make
 *   one attempt (`SDK_SINGLE_ATTEMPT`) and `retry()` retries them, because a `ConflictException` (another operation
 *   on the same assignment in progress) must be retried too and the SDK does not (ports/retry.ts).
 * - Whatever an operation retries itself (a transaction that met another, a lock held by another run, keys DynamoDB
 *   left unprocessed) goes through `retry()`: bounded tries, full-jitter exponential backoff (a wait drawn uniformly
 *   from [0, min(maxDelayMs, baseDelayMs × 2^(n-1))) after the n-th failure).
 * - Nothing after a commit retries on top of the SDK (usecases/effects.ts): a failed after-commit call is logged,
 *   and what must happen regardless the reconcile job does.
 */
export interface RetryPolicy {
  /** Tries in all (the first included). */
  attempts: number;
  /** The first backoff's ceiling; each later one doubles, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Waits (real time: backoffs are a matter of the remote side's rate, not of the Elevate clock). */
  sleep: (ms: number) => Promise<void>;
  /** In [0, 1): the jitter. */
  random: () => number;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A policy with real time and real jitter. */
export const policy = (attempts: number, baseDelayMs: number, maxDelayMs: number): RetryPolicy => ({
  attempts,
  baseDelayMs,
  maxDelayMs,
  sleep,
  random: Math.random,
});

/** Attempts of every AWS SDK client (its standard retry of transport errors, 5xx and throttling). */
export const SDK_MAX_ATTEMPTS = 3;
/** Attempts of the clients whose calls `retry()` retries instead (a second layer would multiply the sends). */
export const SDK_SINGLE_ATTEMPT = 1;

/** The wait after the `failures`-th failed try: full jitter, in [0, min(max, base × 2^(failures-1))). */
export function backoffDelay(p: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs' | 'random'>, failures: number): number {
  const ceiling = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (failures - 1));
  return Math.floor(p.random() * ceiling);
}

/**
 * Runs `work` (given the try's number, from 1) until it succeeds or fails with an error that `when` does not
 * retry. `when` names the policy an error is retried under (undefined: thrown at once); each policy counts its own
 * failures, and an error whose policy has no tries left is thrown. `when` must answer from a fixed set of
 * policies, so the tries are bounded by the sum of their `attempts`.
 */
export async function retry<T>(
  work: (attempt: number) => Promise<T>,
  when: (error: unknown) => RetryPolicy | undefined,
): Promise<T> {
  const failures = new Map<RetryPolicy, number>();
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(attempt);
    } catch (error) {
      const p = when(error);
      if (!p) throw error;
      const n = (failures.get(p) ?? 0) + 1;
      failures.set(p, n);
      if (n >= p.attempts) throw error;
      await p.sleep(backoffDelay(p, n));
    }
  }
}

/** `when` for one policy: the errors `retryable` accepts are retried under `p`. */
export const retryOn =
  (p: RetryPolicy, retryable: (error: unknown) => boolean) =>
  (error: unknown): RetryPolicy | undefined =>
    retryable(error) ? p : undefined;

// ---- what AWS errors mean ------------------------------------------------------------------------

/**
 * Throttling: the SDK's list (@smithy/service-error-classification), and the cancellation reasons of a DynamoDB
 * transaction that say the same. The one list: the SDK-less retries and the HTTP answer (503 Unavailable) use it.
 */
export const THROTTLING_CODES: ReadonlySet<string> = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
  // TransactWriteItems cancellation reasons (CancellationReasons[].Code)
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
]);

/** Timeouts and dropped connections (the SDK's transient codes): the answer was lost, the call may have been made. */
const TRANSPORT_NAMES: ReadonlySet<string> = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const TRANSPORT_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** A service error unavailable: 503 or one of the names AWS gives it. */
const UNAVAILABLE_NAMES: ReadonlySet<string> = new Set(['ServiceUnavailable', 'ServiceUnavailableException']);

interface AwsErrorShape {
  name: string;
  code?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
}

const statusOf = (error: Error): number | undefined => (error as AwsErrorShape).$metadata?.httpStatusCode;

export const isThrottling = (error: unknown): boolean => error instanceof Error && THROTTLING_CODES.has(error.name);

/** The answer of a call was lost (a time-out, a dropped connection): it may or may not have taken effect. */
export function isTransportError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return TRANSPORT_NAMES.has(error.name) || TRANSPORT_CODES.has((error as AwsErrorShape).code ?? '');
}

/** The service's own fault (5xx). */
export function isServerFault(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = statusOf(error);
  return (error as AwsErrorShape).$fault === 'server' || (status !== undefined && status >= 500);
}

/** "Too busy now" (throttling, 503): nothing was done, and a later try will do. */
export function isOverloaded(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return isThrottling(error) || UNAVAILABLE_NAMES.has(error.name) || statusOf(error) === 503;
}
