import { isServerFault, isThrottling, isTransportError, policy, type RetryPolicy, retry, retryOn } from '../retry.ts';

export type { RetryPolicy } from '../retry.ts';

/**
 * The retries of the AWS calls that are rate-limited or eventually consistent (IAM Identity Center, identity store,
 * Organizations): throttling, `ConflictException` (another operation on the same assignment or permission set is
 * in progress), `ConcurrentModificationException`, 5xx and lost answers are tried again with `retry()` (full
 * jitter); anything else fails at once. Their SDK clients make one attempt each (`SDK_SINGLE_ATTEMPT`), so the
 * tries are counted exactly, in one place.
 */
export const DEFAULT_RETRY: RetryPolicy = policy(6, 200, 5_000);

/** In conflict with an operation in progress, or the service's own errors by name. */
const RETRYABLE_NAMES = new Set([
  'ConflictException',
  'ConcurrentModificationException',
  'InternalServerException',
  'ServiceException',
  'ServiceUnavailableException',
]);

/** An error worth another try: throttled, in conflict with an operation in progress, the service's fault, or lost. */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // The identity store's "already exists" is a ConflictException too: another try cannot change that answer.
  if ((error as { Reason?: string }).Reason === 'UNIQUENESS_CONSTRAINT_VIOLATION') return false;
  return RETRYABLE_NAMES.has(error.name) || isThrottling(error) || isServerFault(error) || isTransportError(error);
}

/** Runs `call`, trying again after a backoff while it fails with a retryable error and tries are left. */
export function withBackoff<T>(call: () => Promise<T>, p: RetryPolicy = DEFAULT_RETRY): Promise<T> {
  return retry(call, retryOn(p, isRetryable));
}

/** Is this the AWS "no such resource" answer (the adapters turn it into null / false)? */
export const isNotFound = (error: unknown): boolean =>
  error instanceof Error &&
  (error.name === 'ResourceNotFoundException' ||
    error.name === 'AccountNotFoundException' ||
    error.name === 'OrganizationalUnitNotFoundException' ||
    error.name === 'ParentNotFoundException');
