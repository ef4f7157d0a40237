import { describe, expect, it } from 'vitest';
import { isRetryable, withBackoff } from '#shared/ports/retry.ts';
import {
  backoffDelay,
  isOverloaded,
  isServerFault,
  isThrottling,
  isTransportError,
  type RetryPolicy,
  retry,
  retryOn,
} from '#shared/retry.ts';

/** A policy that never waits: the waits it would make are recorded. */
function fake(attempts: number, random = () => 0.5): RetryPolicy & { waits: number[] } {
  const waits: number[] = [];
  return { attempts, baseDelayMs: 100, maxDelayMs: 1_000, sleep: async (ms) => void waits.push(ms), random, waits };
}

/** An error as the SDK deserializes it. */
const awsError = (name: string, status = 400, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(name), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    ...extra,
  });

/** Work that fails `n` times with `error`, then answers 'done'. */
function failing(n: number, error: () => unknown) {
  const calls: number[] = [];
  const work = async (attempt: number) => {
    calls.push(attempt);
    if (calls.length <= n) throw error();
    return 'done';
  };
  return { work, calls };
}

describe('retry', () => {
  it('tries again after each retryable failure and answers the first success', async () => {
    // Prepare
    const p = fake(4);
    const { work, calls } = failing(2, () => new Error('busy'));
    // Act
    const answer = await retry(
      work,
      retryOn(p, () => true),
    );
    // Assess
    expect(answer).toBe('done');
    expect(calls).toEqual([1, 2, 3]);
    expect(p.waits).toEqual([50, 100]);
  });

  it('is bounded: after `attempts` tries it throws the last error, without a wait after it', async () => {
    const p = fake(3);
    let n = 0;
    const act = retry(
      async () => {
        throw new Error(`failure ${++n}`);
      },
      retryOn(p, () => true),
    );
    await expect(act).rejects.toThrow('failure 3');
    expect(n).toBe(3);
    expect(p.waits).toHaveLength(2);
  });

  it('throws at once an error it does not retry', async () => {
    const p = fake(5);
    const { work, calls } = failing(1, () => new Error('bad request'));
    await expect(
      retry(
        work,
        retryOn(p, () => false),
      ),
    ).rejects.toThrow('bad request');
    expect(calls).toEqual([1]);
    expect(p.waits).toEqual([]);
  });

  it('counts each policy on its own, so the tries are bounded by the sum of their attempts', async () => {
    // Prepare: errors of kind A forever, alternating with kind B
    const a = fake(3);
    const b = fake(2);
    let n = 0;
    const kinds: string[] = [];
    // Act
    const act = retry(
      async () => {
        n++;
        const kind = n % 2 ? 'A' : 'B';
        kinds.push(kind);
        throw new Error(kind);
      },
      (e) => ((e as Error).message === 'A' ? a : b),
    );
    // Assess: the second B exhausts B's two tries
    await expect(act).rejects.toThrow('B');
    expect(kinds).toEqual(['A', 'B', 'A', 'B']);
    expect(a.waits).toHaveLength(2);
    expect(b.waits).toHaveLength(1);
  });
});

describe('full jitter', () => {
  it('draws each wait from [0, min(max, base × 2^(n-1)))', () => {
    const p = { baseDelayMs: 100, maxDelayMs: 1_000 };
    const ceilings = [1, 2, 3, 4, 5, 6].map((n) => backoffDelay({ ...p, random: () => 0.999_999 }, n));
    expect(ceilings).toEqual([99, 199, 399, 799, 999, 999]);
    for (const n of [1, 2, 3, 4, 5, 6]) expect(backoffDelay({ ...p, random: () => 0 }, n)).toBe(0);
  });

  it('spreads real draws over the whole range, never past the ceiling', () => {
    const draws = Array.from({ length: 2_000 }, () =>
      backoffDelay({ baseDelayMs: 100, maxDelayMs: 1_000, random: Math.random }, 3),
    );
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(400);
    // Full jitter, not "exponential plus a little": both halves of the range are used.
    expect(draws.some((d) => d < 100)).toBe(true);
    expect(draws.some((d) => d >= 300)).toBe(true);
  });
});

describe('which AWS errors are retried', () => {
  it('knows throttling by the one list of codes, DynamoDB cancellation reasons included', () => {
    for (const name of ['ThrottlingException', 'ProvisionedThroughputExceededException', 'TooManyRequestsException']) {
      expect(isThrottling(awsError(name))).toBe(true);
    }
    expect(isThrottling(awsError('ValidationException'))).toBe(false);
    expect(isOverloaded(awsError('ServiceUnavailable', 503))).toBe(true);
    expect(isOverloaded(awsError('RequestLimitExceeded'))).toBe(true);
    expect(isOverloaded(awsError('InternalServerError', 500))).toBe(false);
  });

  it('tells lost answers and server faults apart from client errors', () => {
    expect(isTransportError(awsError('TimeoutError'))).toBe(true);
    expect(isTransportError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransportError(awsError('ConditionalCheckFailedException'))).toBe(false);
    expect(isServerFault(awsError('InternalServerError', 500))).toBe(true);
    expect(isServerFault(awsError('AccessDeniedException', 403))).toBe(false);
  });

  it('retries the Identity Center calls on throttling, conflicts, faults and lost answers, and nothing else', () => {
    expect(isRetryable(awsError('ThrottlingException'))).toBe(true);
    expect(isRetryable(awsError('ConflictException', 409))).toBe(true);
    expect(isRetryable(awsError('InternalServerException', 500))).toBe(true);
    expect(isRetryable(awsError('TimeoutError'))).toBe(true);
    expect(isRetryable(awsError('ValidationException'))).toBe(false);
    expect(isRetryable(awsError('ResourceNotFoundException', 404))).toBe(false);
    // The identity store's "already exists" is a ConflictException that another try cannot change.
    expect(isRetryable(awsError('ConflictException', 409, { Reason: 'UNIQUENESS_CONSTRAINT_VIOLATION' }))).toBe(false);
    expect(isRetryable('not an error')).toBe(false);
  });

  it('withBackoff retries a throttled call with the policy it is given', async () => {
    const p = fake(3);
    const { work, calls } = failing(2, () => awsError('ThrottlingException'));
    await expect(withBackoff(() => work(calls.length + 1), p)).resolves.toBe('done');
    expect(calls).toHaveLength(3);
    expect(p.waits).toEqual([50, 100]);
  });
});
