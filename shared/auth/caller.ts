/**
 * The caller, from the request API Gateway's JWT authorizer let through (or the local server, which does the same).
 *
 * API Gateway's HTTP API hands the claims to the function as strings, and an array as one string in Go's form
 * (`groups: ['a b', 'c']` arrives as `'[a b c]'`): the values of an array cannot be read back from it. Group
 * membership (and `amr`, `acrs`) is therefore read from the token itself: the function receives the very
 * `Authorization` header the authorizer verified, so decoding that token's payload gives its exact claims without a
 * second signature check. The payload is used only when its `sub` (and `iss`) are the authorizer's; otherwise, or
 * when the header cannot be read, the caller holds no groups, no `amr` and no `acrs` (never a wrong one).
 */
export interface Caller {
  id: string;
  email: string | null;
  name: string | null;
  /** The identity-provider groups of the token, exactly as it holds them. */
  groups: string[];
  /** Signed in with multi-factor authentication (`amr` contains `mfa`). */
  mfa: boolean;
  /** Authentication-context ids satisfied at sign-in (`acrs`). */
  acrs: string[];
  authTime: number | null;
}

export type Claims = Record<string, unknown>;

/**
 * The exact values of a list claim: a JSON array of strings, or one string (a single value). Anything else (an
 * array with a non-string in it, a number, an object) is no value at all.
 */
export function exactList(value: unknown): string[] {
  if (typeof value === 'string') return value === '' ? [] : [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return [...value];
  return [];
}

const claimText = (value: unknown): string | null =>
  typeof value === 'string' && value.length > 0 && value.length <= 512 ? value : null;

/** A compact JWS: three base64url parts (the signature may be empty). No commas, spaces or other characters. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]*$/;

/** The token of an Authorization header as API Gateway's identity source reads it: `Bearer <token>` or the token. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization.trim());
  return m?.[1] ?? (/\s/.test(authorization.trim()) ? undefined : authorization.trim());
}

/**
 * The payload of the token in the Authorization header, if it is the token the authorizer verified: a well-formed
 * compact JWS whose payload is a JSON object with the authorizer's `sub` (and `iss`, when the authorizer shows one).
 */
export function verifiedPayload(authorization: string | undefined, claims: Claims): Claims | undefined {
  const token = bearerToken(authorization);
  const m = token ? COMPACT_JWS.exec(token) : null;
  if (!m?.[1]) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(m[1], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
  const p = payload as Claims;
  if (typeof p.sub !== 'string' || p.sub !== claims.sub) return undefined;
  if (typeof claims.iss === 'string' && p.iss !== claims.iss) return undefined;
  return p;
}

/**
 * The caller of a request: `claims` are the authorizer's (`requestContext.authorizer.jwt.claims`), `authorization`
 * the request's Authorization header. Scalar claims come from the authorizer (strings pass unchanged); list claims
 * from the verified token's payload, or from the authorizer only where it gives a real array (never a Go string).
 */
export function callerFromRequest(claims: Claims | undefined, authorization: string | undefined): Caller | undefined {
  const sub = claimText(claims?.sub);
  if (!claims || !sub) return undefined;
  const payload = verifiedPayload(authorization, claims);
  const list = (name: string): string[] =>
    payload ? exactList(payload[name]) : Array.isArray(claims[name]) ? exactList(claims[name]) : [];
  const authTime = Number(claims.auth_time);
  return {
    id: sub,
    email: claimText(claims.email),
    name: claimText(claims.name),
    groups: list('groups'),
    mfa: list('amr').includes('mfa'),
    acrs: list('acrs'),
    authTime: Number.isFinite(authTime) && authTime > 0 ? authTime : null,
  };
}
