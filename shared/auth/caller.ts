/**
 * The caller, from the JWT claims that API Gateway's authorizer passes on (or the local server, which
 * passes them the same way). API Gateway's HTTP API hands claims over as strings and arrays as
 * '[a b c]'; tokens verified elsewhere may give real arrays. Both are read here, in one place.
 */
export interface Caller {
  id: string;
  email: string | null;
  name: string | null;
  groups: string[];
  /** Signed in with multi-factor authentication (`amr` contains `mfa`). */
  mfa: boolean;
  /** Authentication-context ids satisfied at sign-in (`acrs`). */
  acrs: string[];
  authTime: number | null;
}

export type Claims = Record<string, unknown>;

export function claimList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  if (typeof value !== 'string' || value === '') return [];
  const text = value.trim();
  if (text.startsWith('[') && text.endsWith(']')) {
    const inner = text.slice(1, -1).trim();
    if (inner.startsWith('"')) {
      try {
        const parsed: unknown = JSON.parse(text);
        if (Array.isArray(parsed)) return parsed.filter((v): v is string => typeof v === 'string');
      } catch {
        // not JSON: fall through to the space-separated form
      }
    }
    return inner.split(/[\s,]+/).filter(Boolean);
  }
  return [text];
}

const claimText = (value: unknown): string | null =>
  typeof value === 'string' && value.length > 0 && value.length <= 512 ? value : null;

export function callerFromClaims(claims: Claims | undefined): Caller | undefined {
  const sub = claimText(claims?.sub);
  if (!claims || !sub) return undefined;
  const authTime = Number(claims.auth_time);
  return {
    id: sub,
    email: claimText(claims.email),
    name: claimText(claims.name),
    groups: claimList(claims.groups),
    mfa: claimList(claims.amr).includes('mfa'),
    acrs: claimList(claims.acrs),
    authTime: Number.isFinite(authTime) && authTime > 0 ? authTime : null,
  };
}
