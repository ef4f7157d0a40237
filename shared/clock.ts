/**
 * The clock port. Nothing else in the code base reads the system time: handlers, jobs and the local
 * workflow runner all ask the clock, so a manual clock (local runtime, tests) controls every timer.
 */
export interface Clock {
  now(): Date;
  /**
   * Waits `ms` before looking again at something in flight (a poll, a nap within a step). The system clock waits in
   * real time. A manual clock does not: it moves only when told, so whoever sleeps on it finds it where it was and
   * gives up the wait at once (the poll leaves what is in flight to a later look, on the clock) — the same outcome
   * as after a real wait, without spending that wait.
   */
  sleep(ms: number): Promise<void>;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const systemClock: Clock = { now: () => new Date(), sleep: realSleep };

/** A clock that only moves when told to. Listeners hear every move (the local timers follow it). */
export class ManualClock implements Clock {
  #now: number;
  readonly #listeners = new Set<(now: Date) => void>();

  constructor(start: Date = systemClock.now()) {
    this.#now = start.getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  /** No real wait (see Clock.sleep): lets what is ready run (one turn of the event loop), then resolves. */
  sleep(_ms: number): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }

  set(to: Date): void {
    if (to.getTime() < this.#now) throw new Error('the manual clock cannot move backwards');
    this.#now = to.getTime();
    for (const listener of this.#listeners) listener(this.now());
  }

  advance(ms: number): void {
    this.set(new Date(this.#now + ms));
  }

  onChange(listener: (now: Date) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

let current: Clock | undefined;

/** The process-wide clock: manual when ELEVATE_CLOCK=manual (local runtime only), else the system clock. */
export function clock(): Clock {
  current ??= process.env.ELEVATE_CLOCK === 'manual' ? new ManualClock() : systemClock;
  return current;
}

/** Replace the process-wide clock (local runtime and tests). */
export function useClock(next: Clock): void {
  current = next;
}
