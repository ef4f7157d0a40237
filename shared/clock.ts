/**
 * The clock port. Nothing else in the code base reads the system time: handlers, jobs and the local
 * workflow runner all ask the clock, so a manual clock (local runtime, tests) controls every timer.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

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
