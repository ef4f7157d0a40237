/**
 * The OAuth scope an access token must carry for Elevate's API: the deploy parameter `OidcScopes` (the JWT
 * authorizer's `AuthorizationScopes` on every non-public route) and, locally, `ELEVATE_SCOPES`. An ID token
 * carries no scope, so requiring one keeps ID tokens out.
 */

/** The default accepted scope (a Cognito-style `<resource server>/<scope>`; any string your IdP issues will do). */
export const DEFAULT_ACCEPTED_SCOPES = 'elevate/api';

/** The scopes a token carries: `scope` (space-separated, RFC 8693/9068) or `scp` (an array or a string). */
export function scopesOf(claims: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const value of [claims.scope, claims.scp]) {
    if (typeof value === 'string') out.push(...value.split(' ').filter(Boolean));
    else if (Array.isArray(value)) out.push(...value.filter((v): v is string => typeof v === 'string'));
  }
  return out;
}

/** Comma-separated accepted scopes (the parameter's form) as a list; blanks dropped. */
export function parseScopes(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Whether the token carries at least one accepted scope, as API Gateway's JWT authorizer decides it for a route
 * with `AuthorizationScopes` (any one of them is enough). An empty accepted list accepts nothing.
 */
export function hasAcceptedScope(claims: Record<string, unknown>, accepted: readonly string[]): boolean {
  const held = new Set(scopesOf(claims));
  return accepted.some((s) => held.has(s));
}
