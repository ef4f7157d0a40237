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

/**
 * Resolves a requested schedule against now. A start in the past means now (an assignment cannot be
 * back-dated); with no expiration given, `fallback` decides (the policy's default duration, or permanent).
 */
export function resolveSchedule(input: ScheduleInput | undefined, now: Date, fallback: Expiration): ResolvedSchedule {
  const requested = input?.startDateTime ? new Date(input.startDateTime) : now;
  const start = requested.getTime() < now.getTime() ? now : requested;
  return resolveExpiration(start, input?.expiration ?? fallback);
}

/** The end of a schedule that starts at `start`. */
export function resolveExpiration(start: Date, expiration: Expiration): ResolvedSchedule {
  switch (expiration.type) {
    case 'noExpiration':
      return { start, end: null };
    case 'afterDuration': {
      const end = addDuration(start, expiration.duration);
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
