import type { Clock, ManualClock } from '#shared/clock.ts';

/** The clock the local runtime follows: whichever clock; a manual one also tells us when it moves. */
export type RunnerClock = Clock & Partial<Pick<ManualClock, 'onChange'>>;

/** setTimeout fires at once for delays of 2^31 ms or more, so longer timers are armed in steps. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

interface Entry {
  readonly when: number;
  readonly fire: () => void;
  timer?: NodeJS.Timeout;
}

/**
 * Timers on the runner's clock. With a clock that reports its moves (ManualClock), an entry fires when
 * the clock is moved to or past its time, and never on its own; with any other clock (the system clock),
 * a real timer is armed for the remaining time, clamped to MAX_TIMER_MS and re-armed until it is due.
 */
export class ClockTimers {
  readonly #clock: RunnerClock;
  readonly #entries = new Set<Entry>();
  readonly #unsubscribe: (() => void) | undefined;

  constructor(clock: RunnerClock) {
    this.#clock = clock;
    this.#unsubscribe = clock.onChange?.(() => this.#fireDue());
  }

  /** Run `fire` once the clock reads `when` (epoch ms) or later. Returns a cancel function. */
  at(when: number, fire: () => void): () => void {
    const entry: Entry = { when, fire };
    this.#entries.add(entry);
    if (when <= this.#now()) {
      // Due already: fire on the next microtask so the caller finishes setting up first.
      queueMicrotask(() => this.#fire(entry));
    } else if (!this.#unsubscribe) {
      this.#arm(entry);
    }
    return () => this.#cancel(entry);
  }

  /** Stop every timer and stop following the clock. */
  dispose(): void {
    for (const entry of this.#entries) this.#cancel(entry);
    this.#unsubscribe?.();
  }

  #now(): number {
    return this.#clock.now().getTime();
  }

  #arm(entry: Entry): void {
    const delay = Math.min(Math.max(entry.when - this.#now(), 0), MAX_TIMER_MS);
    entry.timer = setTimeout(() => {
      if (entry.when <= this.#now()) this.#fire(entry);
      else this.#arm(entry);
    }, delay);
  }

  #fireDue(): void {
    const now = this.#now();
    const due = [...this.#entries].filter((entry) => entry.when <= now).sort((a, b) => a.when - b.when);
    for (const entry of due) this.#fire(entry);
  }

  #fire(entry: Entry): void {
    if (!this.#entries.delete(entry)) return;
    if (entry.timer) clearTimeout(entry.timer);
    entry.fire();
  }

  #cancel(entry: Entry): void {
    this.#entries.delete(entry);
    if (entry.timer) clearTimeout(entry.timer);
  }
}
