import { invalid } from './errors.ts';

/**
 * ISO 8601 durations (`PT8H`, `P14D`, `P1Y2M`, `P2W`). Years and months are calendar units, so a
 * duration is applied to a start time (addDuration) rather than turned into milliseconds, except where
 * it has no calendar part (durationMs).
 */
export interface Duration {
  years: number;
  months: number;
  weeks: number;
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
}

const PATTERN =
  /^P(?:(\d{1,4})Y)?(?:(\d{1,4})M)?(?:(\d{1,4})W)?(?:(\d{1,5})D)?(?:T(?:(\d{1,6})H)?(?:(\d{1,7})M)?(?:(\d{1,9})S)?)?$/;

export function isDuration(text: string): boolean {
  return tryParseDuration(text) !== undefined;
}

export function tryParseDuration(text: string): Duration | undefined {
  const m = PATTERN.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return undefined;
  const [years, months, weeks, days, hours, minutes, seconds] = m.slice(1).map((v) => (v ? Number(v) : 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { years, months, weeks, days, hours, minutes, seconds };
}

export function parseDuration(text: string): Duration {
  const d = tryParseDuration(text);
  if (!d) throw invalid(`'${text}' is not an ISO 8601 duration such as PT8H or P14D`);
  return d;
}

const MS = { weeks: 604_800_000, days: 86_400_000, hours: 3_600_000, minutes: 60_000, seconds: 1000 } as const;

function fixedMs(d: Duration): number {
  return d.weeks * MS.weeks + d.days * MS.days + d.hours * MS.hours + d.minutes * MS.minutes + d.seconds * MS.seconds;
}

/** Milliseconds of a duration without calendar units; throws for years or months. */
export function durationMs(text: string | Duration): number {
  const d = typeof text === 'string' ? parseDuration(text) : text;
  if (d.years || d.months) throw invalid('a duration with years or months has no fixed length; use days or hours');
  return fixedMs(d);
}

/** start + duration, with years and months as calendar steps in UTC (31 Jan + P1M = 28/29 Feb, clamped). */
export function addDuration(start: Date, text: string | Duration): Date {
  const d = typeof text === 'string' ? parseDuration(text) : text;
  const t = new Date(start.getTime());
  if (d.years || d.months) {
    const day = t.getUTCDate();
    t.setUTCDate(1);
    t.setUTCMonth(t.getUTCMonth() + d.years * 12 + d.months);
    const lastDay = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() + 1, 0)).getUTCDate();
    t.setUTCDate(Math.min(day, lastDay));
  }
  return new Date(t.getTime() + fixedMs(d));
}

/** True when the span start..end is longer than `max` applied to start. */
export function exceeds(start: Date, end: Date, max: string | Duration): boolean {
  return end.getTime() > addDuration(start, max).getTime();
}

/** A short human form for mails and messages: 2h 30m, 14d. */
export function formatMs(ms: number): string {
  const parts: string[] = [];
  let rest = Math.max(0, Math.round(ms / 1000));
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n) parts.push(`${n}${unit}`);
  }
  return parts.join(' ') || '0s';
}
