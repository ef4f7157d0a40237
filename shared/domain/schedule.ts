import * as z from 'zod';
import { addDuration } from './duration.ts';
import { invalid } from './errors.ts';
import { IsoDateTime, IsoDuration } from './primitives.ts';

/** A requested schedule: when the assignment starts and how it ends. */
export const Expiration = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('noExpiration') }),
  z.strictObject({ type: z.literal('afterDateTime'), endDateTime: IsoDateTime }),
  z.strictObject({ type: z.literal('afterDuration'), duration: IsoDuration }),
]);
export type Expiration = z.infer<typeof Expiration>;

export const ScheduleInput = z.strictObject({
  startDateTime: IsoDateTime.optional(),
  expiration: Expiration.optional(),
});
export type ScheduleInput = z.infer<typeof ScheduleInput>;

export interface ResolvedSchedule {
  start: Date;
  /** null: permanent. */
  end: Date | null;
}

/** The last instant a stored date may name: ISO 8601 with a four-digit year sorts and parses everywhere. */
export const LATEST = new Date('9999-12-31T23:59:59.999Z');

/** The policy's bound on a later start when it names none (`maxScheduleAhead`). */
export const DEFAULT_MAX_SCHEDULE_AHEAD = 'P90D';

/** A date that may be stored, or a 400 naming the field it came from: none lies after 9999-12-31. */
export function checkStorable(date: Date, path: string): Date {
  if (!(date.getTime() <= LATEST.getTime())) {
    throw invalid('a date after 9999-12-31 cannot be stored; ask for a shorter duration', [
      { path, message: 'ends after 9999-12-31T23:59:59.999Z' },
    ]);
  }
  return date;
}

/**
 * The start of a schedule: a start in the past means now (an assignment cannot be back-dated), and a later start
 * lies at most `maxScheduleAhead` (the role policy's) from now.
 */
export function resolveStart(requested: string | undefined, now: Date, maxScheduleAhead: string): Date {
  const asked = requested ? new Date(requested) : now;
  if (asked.getTime() <= now.getTime()) return now;
  const latest = addDuration(now, maxScheduleAhead);
  if (asked.getTime() > latest.getTime()) {
    throw invalid(`a start lies at most ${maxScheduleAhead} ahead (the role's policy, maxScheduleAhead)`, [
      { path: 'schedule.startDateTime', message: `must be at or before ${latest.toISOString()}` },
    ]);
  }
  return asked;
}

/**
 * Resolves a requested schedule against now: its start (resolveStart) and, with no expiration given, `fallback`
 * decides its end (the policy's default duration, or permanent).
 */
export function resolveSchedule(
  input: ScheduleInput | undefined,
  now: Date,
  fallback: Expiration,
  maxScheduleAhead: string = DEFAULT_MAX_SCHEDULE_AHEAD,
): ResolvedSchedule {
  return resolveExpiration(resolveStart(input?.startDateTime, now, maxScheduleAhead), input?.expiration ?? fallback);
}

/** The end of a schedule that starts at `start`. */
export function resolveExpiration(start: Date, expiration: Expiration): ResolvedSchedule {
  switch (expiration.type) {
    case 'noExpiration':
      return { start, end: null };
    case 'afterDuration': {
      const end = checkStorable(addDuration(start, expiration.duration), 'schedule.expiration.duration');
      if (end.getTime() <= start.getTime()) throw invalid('the duration must be longer than zero');
      return { start, end };
    }
    case 'afterDateTime': {
      const end = new Date(expiration.endDateTime);
      if (end.getTime() <= start.getTime()) {
        throw invalid('the schedule ends before it starts', [
          { path: 'schedule.expiration.endDateTime', message: 'must be after the start (and after now)' },
        ]);
      }
      return { start, end };
    }
  }
}
