/**
 * Runs the scheduled jobs on the local runtime's clock, from EventBridge schedule expressions (UTC):
 *
 * - `rate(N minute|minutes|hour|hours|day|days)`: due every N units after the scheduler started.
 * - `cron(Minutes Hours Day-of-month Month Day-of-week Year)`, the EventBridge subset: `*`, `?`, numbers,
 *   lists (`1,15`), ranges (`MON-FRI`, `8-17`), steps (`0/15`, `*\/5`, `10-40/10`), month names JAN-DEC,
 *   day names SUN-SAT (day-of-week 1-7 is SUN-SAT, as on AWS). As on AWS, exactly one of day-of-month and
 *   day-of-week must be `?`. Not supported (rejected with an error): `L`, `W`, `#`.
 *
 * A job runs once per due time it is found past, never once per missed interval: with a manual clock, a move
 * of a day runs a `rate(5 minutes)` job once, and its next due time is computed from the new time. Jobs run
 * one at a time, each after `beforeEach` (the local runtime lets the workflow timers of the same move finish
 * first). A failing job is logged and the schedule goes on.
 */
import { ClockTimers, type RunnerClock } from './stepfunctions/timers.ts';

const MINUTE_MS = 60_000;

/** A parsed schedule expression: when it is next due, strictly after `after`. */
export interface Schedule {
  readonly expression: string;
  next(after: Date): Date;
}

const UNIT_MS: Record<string, number> = {
  minute: MINUTE_MS,
  minutes: MINUTE_MS,
  hour: 60 * MINUTE_MS,
  hours: 60 * MINUTE_MS,
  day: 24 * 60 * MINUTE_MS,
  days: 24 * 60 * MINUTE_MS,
};

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface Field {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Names for 1-based values (month JAN=1, day-of-week SUN=1). */
  readonly names?: readonly string[];
}

const FIELDS: readonly Field[] = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day-of-week', min: 1, max: 7, names: DAYS },
  { name: 'year', min: 1970, max: 2199 },
];

/** The values a cron field allows, or undefined for `?` (no constraint from this field). */
function parseField(text: string, field: Field, expression: string): Set<number> | undefined {
  const fail = (why: string): never => {
    throw new Error(`schedule ${expression}: ${field.name} field '${text}': ${why}`);
  };
  if (text === '?') return undefined;
  const value = (token: string): number => {
    const upper = token.toUpperCase();
    const named = field.names?.indexOf(upper) ?? -1;
    if (named >= 0) return named + 1;
    if (!/^\d+$/.test(token)) fail(`'${token}' is not supported (supported: *, ?, numbers, names, lists, ranges, /)`);
    const n = Number(token);
    if (n < field.min || n > field.max) fail(`${n} is outside ${field.min}-${field.max}`);
    return n;
  };
  const allowed = new Set<number>();
  for (const part of text.split(',')) {
    const [range = '', stepText, extra] = part.split('/');
    if (extra !== undefined) fail('more than one /');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) fail(`bad step '${stepText}'`);
    let from: number;
    let to: number;
    if (range === '*') {
      from = field.min;
      to = field.max;
    } else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      from = value(a);
      to = value(b);
      if (from > to) fail(`the range ${range} is backwards`);
    } else {
      from = value(range);
      // `5/15` means from 5 every 15, to the end of the field.
      to = stepText === undefined ? from : field.max;
    }
    for (let n = from; n <= to; n += step) allowed.add(n);
  }
  return allowed;
}

function cronSchedule(expression: string, body: string): Schedule {
  const parts = body.trim().split(/\s+/);
  if (parts.length !== 6) {
    throw new Error(`schedule ${expression}: cron needs 6 fields (minutes hours day-of-month month day-of-week year)`);
  }
  const [minutes, hours, dom, month, dow, year] = parts.map((text, i) =>
    parseField(text, FIELDS[i] as Field, expression),
  );
  if ((dom === undefined) === (dow === undefined)) {
    throw new Error(`schedule ${expression}: exactly one of day-of-month and day-of-week must be '?'`);
  }
  const matchesDay = (d: Date): boolean =>
    dom ? dom.has(d.getUTCDate()) : (dow as Set<number>).has(d.getUTCDay() + 1);
  const ok = (set: Set<number> | undefined, n: number): boolean => set === undefined || set.has(n);
  return {
    expression,
    next(after: Date): Date {
      // The next whole minute after `after`, then skip whole years, months, days and hours that cannot match.
      const t = new Date(Math.floor(after.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS);
      while (t.getUTCFullYear() <= 2199) {
        if (!ok(year, t.getUTCFullYear())) {
          t.setUTCFullYear(t.getUTCFullYear() + 1, 0, 1);
          t.setUTCHours(0, 0, 0, 0);
        } else if (!ok(month, t.getUTCMonth() + 1)) {
          t.setUTCMonth(t.getUTCMonth() + 1, 1);
          t.setUTCHours(0, 0, 0, 0);
        } else if (!matchesDay(t)) {
          t.setUTCDate(t.getUTCDate() + 1);
          t.setUTCHours(0, 0, 0, 0);
        } else if (!ok(hours, t.getUTCHours())) {
          t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
        } else if (!ok(minutes, t.getUTCMinutes())) {
          t.setTime(t.getTime() + MINUTE_MS);
        } else {
          return t;
        }
      }
      throw new Error(`schedule ${expression} is never due after ${after.toISOString()}`);
    },
  };
}

/**
 * Parse an EventBridge schedule expression. Rate schedules are anchored at `anchor` (due at anchor + k·N);
 * cron schedules are absolute (UTC).
 */
export function parseScheduleExpression(expression: string, anchor: Date): Schedule {
  const rate = /^rate\(\s*(\d+)\s+([a-z]+)\s*\)$/.exec(expression.trim());
  if (rate) {
    const n = Number(rate[1]);
    const unit = UNIT_MS[rate[2] ?? ''];
    if (!unit || n < 1) throw new Error(`schedule ${expression}: expected rate(N minutes|hours|days), N ≥ 1`);
    const period = n * unit;
    return {
      expression,
      next(after: Date): Date {
        const k = Math.floor((after.getTime() - anchor.getTime()) / period) + 1;
        return new Date(anchor.getTime() + Math.max(k, 1) * period);
      },
    };
  }
  const cron = /^cron\((.*)\)$/.exec(expression.trim());
  if (cron) return cronSchedule(expression, cron[1] ?? '');
  throw new Error(`schedule ${expression}: expected rate(...) or cron(...)`);
}

export interface ScheduledEntry {
  readonly name: string;
  readonly expression: string;
  readonly run: () => Promise<unknown>;
}

export interface LocalSchedulerOptions {
  readonly clock: RunnerClock;
  /** Awaited before each due job runs (the local runtime: the workflow runner going idle). */
  readonly beforeEach?: () => Promise<void>;
  /** Where failures go. Default console.error. */
  readonly onError?: (name: string, error: unknown) => void;
}

/** Runs entries when their schedule is due on the clock (see the header). */
export class LocalScheduler {
  readonly #clock: RunnerClock;
  readonly #timers: ClockTimers;
  readonly #beforeEach: () => Promise<void>;
  readonly #onError: (name: string, error: unknown) => void;
  #queue: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(entries: readonly ScheduledEntry[], opts: LocalSchedulerOptions) {
    this.#clock = opts.clock;
    this.#timers = new ClockTimers(opts.clock);
    this.#beforeEach = opts.beforeEach ?? (async () => {});
    this.#onError =
      opts.onError ?? ((name, error) => console.error(`[elevate-local] scheduled job ${name} failed:`, error));
    const start = this.#clock.now();
    // Parse every expression first, so a bad one fails the start rather than a later tick.
    const parsed = entries.map((entry) => ({ entry, schedule: parseScheduleExpression(entry.expression, start) }));
    for (const { entry, schedule } of parsed) this.#arm(entry, schedule, schedule.next(start));
  }

  /** Resolves when every job that is due (or running) has finished. */
  async idle(): Promise<void> {
    let seen: Promise<void>;
    do {
      seen = this.#queue;
      await seen;
    } while (seen !== this.#queue);
  }

  /** Stop running jobs on the clock (a running job finishes). */
  stop(): void {
    this.#stopped = true;
    this.#timers.dispose();
  }

  #arm(entry: ScheduledEntry, schedule: Schedule, due: Date): void {
    this.#timers.at(due.getTime(), () => {
      this.#queue = this.#queue.then(async () => {
        if (this.#stopped) return;
        try {
          await this.#beforeEach();
        } catch (error) {
          // e.g. the workflow runner did not settle in time: say so, and run the job anyway.
          this.#onError(entry.name, error);
        }
        try {
          await entry.run();
        } catch (error) {
          this.#onError(entry.name, error);
        }
        // Once per move: the next due time is after the clock's time now, however many intervals were missed.
        if (!this.#stopped) this.#arm(entry, schedule, schedule.next(this.#clock.now()));
      });
    });
  }
}
