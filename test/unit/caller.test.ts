import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringifyClaims } from '#infra/local/http-event.ts';
import { bearerToken, callerFromRequest, exactList } from '#shared/auth/caller.ts';
import { authorizationOf } from '#test/support/invoke.ts';

/** What the function receives behind API Gateway's JWT authorizer: stringified claims and the verified header. */
const behindAuthorizer = (claims: Record<string, unknown>) =>
  callerFromRequest(stringifyClaims(claims), authorizationOf(claims));

describe('the caller of a request behind the JWT authorizer', () => {
  it('reads MFA from amr, the authentication contexts from acrs, and the groups, all from the token', () => {
    // Prepare
    const claims = { sub: 'alice', amr: ['pwd', 'mfa'], acrs: ['c1', 'c2'], auth_time: 1790000000, groups: ['ops'] };
    // Act
    const caller = behindAuthorizer(claims);
    // Assess
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

  it('keeps group names with spaces, commas, brackets and quotes exactly as the token holds them', () => {
    const groups = ['Not approvers', 'wannabe,approvers', '[x]', '"q"', '["a","b"]', 'map[k:v]', ''];
    expect(behindAuthorizer({ sub: 'mallory', groups })?.groups).toEqual(groups);
    // The authorizer alone cannot tell these apart: '[Not approvers wannabe,approvers ...]'.
    expect(stringifyClaims({ groups }).groups).toBe('[Not approvers wannabe,approvers [x] "q" ["a","b"] map[k:v] ]');
  });

  it('gives any list of strings back exactly (fuzzed)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme' }), { maxLength: 6 }),
        fc.string({ minLength: 1 }),
        (groups, sub) => {
          expect(behindAuthorizer({ sub, groups })?.groups).toEqual(groups);
        },
      ),
    );
  });

  it('holds no groups, no mfa and no acrs when the header is not the verified token', () => {
    const claims = { sub: 'alice', iss: 'https://idp', amr: ['mfa'], acrs: ['c1'], groups: ['approvers'] };
    const stringified = stringifyClaims(claims);
    const none = { groups: [], mfa: false, acrs: [] };
    // another subject's token (a payload swapped in), or another issuer's
    expect(callerFromRequest(stringified, authorizationOf({ ...claims, sub: 'bob' }))).toMatchObject(none);
    expect(callerFromRequest(stringified, authorizationOf({ ...claims, iss: 'https://evil' }))).toMatchObject(none);
    // no header, junk, two tokens joined (a repeated header), a payload that is not an object
    for (const header of [undefined, '', 'Bearer', 'Bearer a.b', 'Bearer !!.??.x', 'Basic YWxpY2U6cHc=']) {
      expect(callerFromRequest(stringified, header), String(header)).toMatchObject({ id: 'alice', ...none });
    }
    const valid = authorizationOf(claims);
    expect(callerFromRequest(stringified, `${valid},${valid.slice(7)}`)).toMatchObject(none);
    expect(callerFromRequest(stringified, `Bearer x.${Buffer.from('[1]').toString('base64url')}.y`)).toMatchObject(
      none,
    );
    // The same token, bare (API Gateway accepts it without the Bearer prefix): read.
    expect(callerFromRequest(stringified, valid.slice(7))?.groups).toEqual(['approvers']);
  });

  it('never splits a stringified list claim of the authorizer', () => {
    expect(callerFromRequest({ sub: 'a', groups: '[Not approvers]', amr: '[pwd mfa]' }, undefined)).toMatchObject({
      groups: [],
      mfa: false,
    });
    // A real array (a runtime that passes claims unstringified) is exact.
    expect(callerFromRequest({ sub: 'a', groups: ['x y'] }, undefined)?.groups).toEqual(['x y']);
  });

  it('does not take mfa from a claim that merely contains the letters', () => {
    expect(behindAuthorizer({ sub: 'a', amr: ['notmfa', 'no mfa'] })?.mfa).toBe(false);
  });

  it('reads a single-valued list claim as one value, and drops a list with a non-string in it', () => {
    expect(exactList('ops team')).toEqual(['ops team']);
    expect(exactList(['a', 1])).toEqual([]);
    expect(exactList({ a: 'b' })).toEqual([]);
    expect(exactList(undefined)).toEqual([]);
  });

  it('has no caller without a subject', () => {
    expect(callerFromRequest({ email: 'a@example.com' }, undefined)).toBeUndefined();
    expect(callerFromRequest({ sub: '' }, undefined)).toBeUndefined();
    expect(callerFromRequest(undefined, authorizationOf({ sub: 'a' }))).toBeUndefined();
  });

  it('reads the token of the header as the identity source does', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('abc')).toBe('abc');
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
