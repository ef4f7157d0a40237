import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock, systemClock } from '#shared/clock.ts';

describe('the clock port', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('the system clock sleeps in real time', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    let woke = false;
    // Act
    const sleeping = systemClock.sleep(500).then(() => {
      woke = true;
    });
    await vi.advanceTimersByTimeAsync(499);
    const early = woke;
    await vi.advanceTimersByTimeAsync(1);
    await sleeping;
    // Assess
    expect(early).toBe(false);
    expect(woke).toBe(true);
  });

  it('a manual clock neither waits in real time nor moves while one sleeps on it', async () => {
    // Prepare
    const clock = new ManualClock(new Date('2026-12-01T00:00:00Z'));
    const moves: Date[] = [];
    clock.onChange((now) => moves.push(now));
    // Act
    const started = performance.now();
    await clock.sleep(60_000);
    // Assess: whoever slept finds the clock where it was (and gives up its wait), at once
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(clock.now().toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(moves).toEqual([]);
  });

  it('a manual clock lets what is ready run before the sleeper goes on', async () => {
    // Prepare
    const clock = new ManualClock(new Date('2026-12-01T00:00:00Z'));
    const order: string[] = [];
    setImmediate(() => order.push('ready'));
    // Act
    await clock.sleep(1);
    order.push('sleeper');
    // Assess
    expect(order).toEqual(['ready', 'sleeper']);
  });
});
