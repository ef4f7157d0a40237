import { describe, expect, it } from 'vitest';
import { DEFAULT_ACCEPTED_SCOPES, hasAcceptedScope, parseScopes, scopesOf } from '#shared/auth/scopes.ts';

describe('accepted token scopes', () => {
  it('reads scope (space-separated) and scp (array or string)', () => {
    // Assess
    expect(scopesOf({ scope: 'openid elevate/api' })).toEqual(['openid', 'elevate/api']);
    expect(scopesOf({ scp: ['a', 'b', 3] })).toEqual(['a', 'b']);
    expect(scopesOf({ scp: 'c' })).toEqual(['c']);
    expect(scopesOf({})).toEqual([]);
  });

  it('refuses an ID token (no scope) and a token without an accepted scope', () => {
    // Prepare
    const accepted = parseScopes(DEFAULT_ACCEPTED_SCOPES);

    // Assess
    expect(hasAcceptedScope({ sub: 'u', aud: 'elevate-api' }, accepted)).toBe(false);
    expect(hasAcceptedScope({ scope: 'openid profile' }, accepted)).toBe(false);
    expect(hasAcceptedScope({ scope: 'elevate/api-admin' }, accepted)).toBe(false);
    expect(hasAcceptedScope({ scope: `openid ${DEFAULT_ACCEPTED_SCOPES}` }, accepted)).toBe(true);
  });

  it('accepts any one of several scopes, and nothing when none is configured', () => {
    // Assess
    expect(hasAcceptedScope({ scp: ['b'] }, parseScopes(' a , b '))).toBe(true);
    expect(hasAcceptedScope({ scope: 'a' }, parseScopes(''))).toBe(false);
  });
});
