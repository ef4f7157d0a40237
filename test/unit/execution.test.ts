import { describe, expect, it } from 'vitest';
import { EXECUTION_HORIZON_MS, executionHorizon, nextExecutionName, waitTimestamp } from '#shared/domain/execution.ts';
import { waitUntil } from '#shared/usecases/request-records.ts';

/** The limits of one Step Functions execution: whole-second waits, a horizon inside the one-year limit. */
describe('wait timestamps', () => {
  it('rounds a wait up to the next second, since Step Functions truncates it (a wait never ends early)', () => {
    expect(waitTimestamp('2026-11-26T10:00:00.001Z')).toBe('2026-11-26T10:00:01.000Z');
    expect(waitTimestamp('2026-11-26T10:00:00.999Z')).toBe('2026-11-26T10:00:01.000Z');
    expect(waitTimestamp(new Date('2026-11-26T23:59:59.500Z'))).toBe('2026-11-27T00:00:00.000Z');
  });

  it('keeps a whole second as it is', () => {
    expect(waitTimestamp('2026-11-26T10:00:00Z')).toBe('2026-11-26T10:00:00.000Z');
  });

  it('refuses what is not a date-time', () => {
    expect(() => waitTimestamp('soon')).toThrow(/not a date-time/);
  });

  it('has the expire step wait until the end rounded up, however far the end is', () => {
    const now = new Date('2026-11-26T10:00:00Z');
    expect(waitUntil('2026-11-26T12:00:00.250Z', now)).toBe('2026-11-26T12:00:01.000Z');
    expect(waitUntil('2027-11-27T10:00:00.000Z', now)).toBe('2027-11-27T10:00:00.000Z');
    expect(waitUntil(null, now)).toBeNull();
  });
});

describe('the execution horizon', () => {
  it('ends 300 days after the start, well inside the one-year life of a STANDARD execution', () => {
    expect(EXECUTION_HORIZON_MS).toBe(300 * 86_400_000);
    expect(EXECUTION_HORIZON_MS).toBeLessThan(365 * 86_400_000);
    expect(executionHorizon(new Date('2026-11-26T10:00:00.400Z'))).toBe('2027-09-22T10:00:01.000Z');
  });

  it('names the executions that carry a wait on after the request, in sequence', () => {
    expect(nextExecutionName('req_01J', 'req_01J')).toBe('req_01J-1');
    expect(nextExecutionName('req_01J', 'req_01J-1')).toBe('req_01J-2');
    expect(nextExecutionName('req_01J', 'req_01J-41')).toBe('req_01J-42');
    expect(nextExecutionName('req_01J', 'something-else')).toBe('req_01J-1');
  });
});
