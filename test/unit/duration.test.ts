import { describe, expect, it } from 'vitest';
import { addDuration, durationMs, exceeds, formatMs, isDuration, parseDuration } from '#shared/domain/duration.ts';

describe('ISO 8601 durations', () => {
  it.each(['PT8H', 'P14D', 'P1Y2M3DT4H5M6S', 'P2W', 'PT30M', 'P365D'])('accepts %s', (text) => {
    expect(isDuration(text)).toBe(true);
  });

  it.each(['', 'P', 'PT', '8H', 'P1H', 'PT1D', 'P-1D', 'P1.5D', 'p1d', 'P1DT', 'PT99999999999S'])(
    'rejects %j',
    (text) => {
      expect(isDuration(text)).toBe(false);
    },
  );

  it('names the bad text in its error', () => {
    expect(() => parseDuration('8 hours')).toThrow(/'8 hours' is not an ISO 8601 duration/);
  });

  it('turns fixed durations into milliseconds', () => {
    expect(durationMs('PT8H')).toBe(8 * 3_600_000);
    expect(durationMs('P1W1DT1M1S')).toBe(8 * 86_400_000 + 61_000);
  });

  it('refuses milliseconds for calendar units, which have no fixed length', () => {
    expect(() => durationMs('P1M')).toThrow(/years or months/);
  });

  it('adds months on the calendar, clamping to the end of a shorter month', () => {
    expect(addDuration(new Date('2026-01-31T10:00:00Z'), 'P1M').toISOString()).toBe('2026-02-28T10:00:00.000Z');
    expect(addDuration(new Date('2028-01-31T10:00:00Z'), 'P1M').toISOString()).toBe('2028-02-29T10:00:00.000Z');
    expect(addDuration(new Date('2026-11-26T10:00:00Z'), 'P1YT2H').toISOString()).toBe('2027-11-26T12:00:00.000Z');
  });

  it('says whether a span is longer than a maximum', () => {
    const start = new Date('2026-11-26T10:00:00Z');
    expect(exceeds(start, new Date('2026-11-26T18:00:00Z'), 'PT8H')).toBe(false);
    expect(exceeds(start, new Date('2026-11-26T18:00:01Z'), 'PT8H')).toBe(true);
  });

  it('formats milliseconds for people', () => {
    expect(formatMs(9_000_000)).toBe('2h 30m');
    expect(formatMs(0)).toBe('0s');
  });
});
