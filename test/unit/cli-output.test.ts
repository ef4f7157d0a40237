import { describe, expect, it } from 'vitest';
import { observeServerDate, serverNow, until } from '../../cli/output.ts';

/** The CLI reckons time left by the server's clock (its `Date` header), not this machine's. */
describe('elevate CLI: time left', () => {
  it("counts the time left from the server's Date header, whatever the laptop's clock says", () => {
    // Prepare: the laptop is 3 hours ahead of the server
    const server = Date.parse('2026-12-01T10:00:00Z');
    const laptop = server + 3 * 3_600_000;

    // Act
    observeServerDate(new Date(server).toUTCString(), laptop);

    // Assess: an end 8 hours after the server's now has 8 hours left, not 5
    expect(serverNow(laptop)).toBe(server);
    expect(until('2026-12-01T18:00:00Z', serverNow(laptop))).toBe('until 2026-12-01 18:00Z (8h left)');
    expect(until('2026-12-01T09:00:00Z', serverNow(laptop))).toBe('ended 2026-12-01 09:00Z');
  });

  it('keeps the last good offset when a Date header is missing or malformed', () => {
    // Prepare
    const server = Date.parse('2026-12-01T10:00:00Z');
    observeServerDate(new Date(server).toUTCString(), server - 60_000);

    // Act
    observeServerDate(undefined, 0);
    observeServerDate('not a date', 0);

    // Assess: still one minute ahead of the laptop
    expect(serverNow(0)).toBe(60_000);
  });
});
