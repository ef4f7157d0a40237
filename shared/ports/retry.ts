/**
 * Backoff for AWS calls that are rate-limited or eventually consistent (IAM Identity Center, identity store,
 * Organizations): throttling, `ConflictException` (another operation on the same assignment or permission set is
 * in progress), `ConcurrentModificationException` and 5xx are tried again with full-jitter exponential backoff;
 * anything else fails at once. The adapters own this policy (their SDK clients make one attempt each), so it is
 * one place and its tries are counted exactly.
 */
export interface RetryPolicy {
  /** Tries in all (the first included). */
  attempts: number;
  /** The first backoff's ceiling; each later one doubles, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Waits (real time: backoffs are a matter of the remote service's rate, not of the Elevate clock). */
  sleep: (ms: number) => Promise<void>;
  /** In [0, 1): the jitter. */
  random: () => number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 6,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

const RETRYABLE = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'ConflictException',
  'ConcurrentModificationException',
  'InternalServerException',
  'ServiceException',
  'ServiceUnavailableException',
  'RequestTimeout',
  'TimeoutError',
]);

/** An error worth another try: throttled, in conflict with an operation in progress, or the service's fault. */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // The identity store's "already exists" is a ConflictException too: another try cannot change that answer.
  if ((error as { Reason?: string }).Reason === 'UNIQUENESS_CONSTRAINT_VIOLATION') return false;
  if (RETRYABLE.has(error.name)) return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}

/** Runs `call`, trying again after a backoff while it fails with a retryable error and tries are left. */
export async function withBackoff<T>(call: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= policy.attempts || !isRetryable(error)) throw error;
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      await policy.sleep(Math.floor(policy.random() * ceiling));
    }
  }
}

/** Is this the AWS "no such resource" answer (the adapters turn it into null / false)? */
export const isNotFound = (error: unknown): boolean =>
  error instanceof Error &&
  (error.name === 'ResourceNotFoundException' ||
    error.name === 'AccountNotFoundException' ||
    error.name === 'OrganizationalUnitNotFoundException' ||
    error.name === 'ParentNotFoundException');
