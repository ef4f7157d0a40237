import { describe, expect, it } from 'vitest';
import { callerFromClaims, claimList } from '#shared/auth/caller.ts';

describe('the caller from JWT claims', () => {
  it("reads API Gateway's stringified arrays as well as real ones", () => {
    expect(claimList('[pwd mfa]')).toEqual(['pwd', 'mfa']);
    expect(claimList('["pwd","mfa"]')).toEqual(['pwd', 'mfa']);
    expect(claimList(['pwd', 'mfa'])).toEqual(['pwd', 'mfa']);
    expect(claimList('ops')).toEqual(['ops']);
    expect(claimList(undefined)).toEqual([]);
  });

  it('knows MFA from amr and the authentication contexts from acrs', () => {
    const caller = callerFromClaims({
      sub: 'alice',
      amr: '[pwd mfa]',
      acrs: '[c1 c2]',
      auth_time: '1790000000',
      groups: '[ops]',
    });
    expect(caller).toEqual({
      id: 'alice',
      email: null,
      name: null,
      groups: ['ops'],
      mfa: true,
      acrs: ['c1', 'c2'],
      authTime: 1790000000,
    });
  });

  it('has no caller without a subject', () => {
    expect(callerFromClaims({ email: 'a@example.com' })).toBeUndefined();
    expect(callerFromClaims({ sub: '' })).toBeUndefined();
    expect(callerFromClaims(undefined)).toBeUndefined();
  });

  it('does not take mfa from a claim that merely contains the letters', () => {
    expect(callerFromClaims({ sub: 'a', amr: '[notmfa]' })?.mfa).toBe(false);
  });
});
