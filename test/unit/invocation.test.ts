import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { invocationHandler, timeLeftOf } from '#shared/invocation.ts';
import { log } from '#shared/log.ts';

const lines = (spy: { mock: { calls: unknown[][] } }) =>
  spy.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>);

const lambda = (awsRequestId: string, remainingMs = 42_000) =>
  ({ awsRequestId, getRemainingTimeInMillis: () => remainingMs }) as unknown as Context;

describe('the handler chain of the functions outside the API', () => {
  const level = process.env.ELEVATE_LOG;
  afterEach(() => {
    vi.restoreAllMocks();
    process.env.ELEVATE_LOG = level;
  });

  it("runs the job with the parsed event and the invocation's time, its lines carrying the invocation id", async () => {
    // Prepare
    process.env.ELEVATE_LOG = 'info';
    const out = vi.spyOn(console, 'log').mockImplementation(() => {});
    const handler = invocationHandler(
      'job',
      async (event: { n: number }, context) => {
        log('info', 'job ran', { n: event.n });
        return { n: event.n, timeLeft: timeLeftOf(context, 1)() };
      },
      (raw) => z.object({ n: z.coerce.number() }).parse(raw),
    );

    // Act
    const result = await handler({ n: '7' }, lambda('inv-1'));

    // Assess
    expect(result).toEqual({ n: 7, timeLeft: 42_000 });
    expect(lines(out)).toEqual([
      { level: 'info', msg: 'job ran', requestId: 'inv-1', coldStart: expect.any(Boolean), n: 7 },
    ]);
  });

  it('refuses an event its schema rejects before the job runs, and logs the failure with the invocation id', async () => {
    // Prepare
    process.env.ELEVATE_LOG = 'info';
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    const job = vi.fn(async () => 'ran');
    const handler = invocationHandler('workflow step', job, (raw) => z.object({ kind: z.literal('grant') }).parse(raw));

    // Act
    const running = handler({ kind: 'nonsense' }, lambda('inv-2'));

    // Assess: the invocation still fails (the caller retries), the job never ran
    await expect(running).rejects.toThrow();
    expect(job).not.toHaveBeenCalled();
    expect(lines(err)).toEqual([
      expect.objectContaining({ level: 'error', msg: 'workflow step failed', requestId: 'inv-2', error: 'ZodError' }),
    ]);
  });

  it("passes a job's failure on to Lambda after logging it", async () => {
    // Prepare
    process.env.ELEVATE_LOG = 'info';
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    const handler = invocationHandler('reconcile', async () => {
      throw new Error('table unavailable');
    });

    // Act
    const running = handler({}, lambda('inv-3'));

    // Assess
    await expect(running).rejects.toThrow('table unavailable');
    expect(lines(err)).toEqual([
      expect.objectContaining({ msg: 'reconcile failed', requestId: 'inv-3', message: 'table unavailable' }),
    ]);
  });

  it('gives a job run without a Lambda context its fallback time budget', async () => {
    const handler = invocationHandler('job', async (_event, context) => timeLeftOf(context, 60_000)());
    await expect(handler({})).resolves.toBe(60_000);
  });
});
