import { describe, expect, it } from 'vitest';
import { newId, ulid } from '#shared/ids.ts';

describe('ids', () => {
  it('sort by time, and keep their making order within one millisecond', () => {
    const at = new Date('2026-11-26T10:00:00.000Z');
    const ids = Array.from({ length: 1000 }, () => ulid(at));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(1000);
    expect(ulid(new Date(at.getTime() + 1)) > (ids.at(-1) as string)).toBe(true);
  });

  it('are valid execution names with a kind prefix', () => {
    expect(newId('req', new Date('2026-11-26T10:00:00Z'))).toMatch(/^req_[0-9A-HJKMNP-TV-Z]{26}$/);
  });
});
