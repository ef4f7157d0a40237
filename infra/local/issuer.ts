/**
 * The local OIDC issuer: an RS256 key pair (persisted in `<dataDir>/issuer-key.json`, mode 0600, or kept in
 * memory for ':memory:'), a JWKS, a token minter, and a verifier that applies the rules of API Gateway's
 * HTTP API JWT authorizer:
 * - the header's `kid` must name a key of the JWKS, and the algorithm must be RS256 (so `alg: none` fails);
 * - `iss` must equal the configured issuer exactly;
 * - `aud` must contain one of the configured audiences (API Gateway falls back to `client_id` when there is
 *   no `aud`);
 * - `exp` must be in the future and `nbf` (when present) in the past, by the process clock `clock()` so the
 *   local manual clock governs expiry, with a small clock tolerance;
 * - `sub` is required (Elevate needs it as the principal id);
 * - the token must carry one of the accepted scopes in `scope` or `scp` (the authorizer's `AuthorizationScopes`,
 *   deploy parameter `OidcScopes`): `ELEVATE_SCOPES` (comma-separated), default `DEFAULT_ACCEPTED_SCOPES`. An ID
 *   token carries none and is refused. Minted tokens carry `openid` and the default scope.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose';
import { DEFAULT_ACCEPTED_SCOPES, hasAcceptedScope, parseScopes } from '#shared/auth/scopes.ts';
import { clock } from '#shared/clock.ts';

/** The local issuer (the `iss` claim). Deployed stacks configure their real IdP instead. */
export const LOCAL_ISSUER = 'https://elevate.local/issuer';
/** The audience (`aud`) of Elevate's API, locally and as the default of the deployed JWT authorizer. */
export const LOCAL_AUDIENCE = 'elevate-api';
/** Allowed clock skew when checking exp/nbf (seconds). */
export const CLOCK_TOLERANCE_S = 5;
/** Default token lifetime (seconds). */
export const DEFAULT_TOKEN_TTL_S = 3600;
export const ISSUER_KEY_FILE = 'issuer-key.json';
const ALG = 'RS256';

export interface TokenOptions {
  sub: string;
  email?: string;
  name?: string;
  groups?: string[];
  /** Adds 'mfa' to `amr` (['pwd', 'mfa']); otherwise `amr` is ['pwd']. */
  mfa?: boolean;
  /** Authentication-context ids (the `acrs` claim). */
  acrs?: string[];
  /** Lifetime in seconds (default 3600). */
  ttl?: number;
}

export interface MintOverrides {
  /** Issue at this time instead of `clock().now()`. */
  now?: Date;
  /** Override or add claims (tests: a wrong `aud` or `iss`). */
  claims?: JWTPayload;
}

export interface LocalIssuer {
  readonly issuer: string;
  readonly audience: string;
  readonly kid: string;
  mintToken(opts: TokenOptions, overrides?: MintOverrides): Promise<string>;
  /** Verify like API Gateway's JWT authorizer; resolves to the claims, rejects with an UnauthenticatedError. */
  verify(token: string): Promise<JWTPayload & { sub: string }>;
  jwks(): JSONWebKeySet;
}

/** The scopes the local authorizer accepts: `ELEVATE_SCOPES` (comma-separated) or the deployed default. */
export function acceptedScopes(env: NodeJS.ProcessEnv = process.env): string[] {
  return parseScopes(env.ELEVATE_SCOPES ?? DEFAULT_ACCEPTED_SCOPES);
}

/** A token that API Gateway's JWT authorizer would refuse (401). */
export class UnauthenticatedError extends Error {
  readonly code = 'Unauthenticated';
  constructor(detail: string) {
    super(detail);
    this.name = 'UnauthenticatedError';
  }
}

interface KeyFile {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

function isKeyFile(value: unknown): value is KeyFile {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return typeof v.kid === 'string' && typeof v.privateJwk === 'object' && typeof v.publicJwk === 'object';
}

export function issuerKeyPath(dataDir: string): string {
  return join(dataDir, ISSUER_KEY_FILE);
}

async function generateKeyFile(): Promise<KeyFile> {
  const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true, modulusLength: 2048 });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return { kid, privateJwk: await exportJWK(privateKey), publicJwk };
}

function readKeyFile(path: string): KeyFile {
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!isKeyFile(parsed)) throw new Error(`${path} is not an Elevate issuer key file; delete it to make a new key`);
  return parsed;
}

/**
 * The local issuer of `dataDir`: loads `<dataDir>/issuer-key.json`, or creates it (0600) if missing;
 * ':memory:' makes a fresh key that is never written.
 */
export async function createIssuer(dataDir: string): Promise<LocalIssuer> {
  if (dataDir === ':memory:') return issuerFromKeyFile(await generateKeyFile());
  const path = issuerKeyPath(dataDir);
  if (existsSync(path)) return issuerFromKeyFile(readKeyFile(path));
  mkdirSync(dataDir, { recursive: true });
  const keyFile = await generateKeyFile();
  writeFileSync(path, `${JSON.stringify(keyFile, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return issuerFromKeyFile(keyFile);
}

/** The issuer of an existing key (the token script); throws when there is none yet. */
export async function loadIssuer(dataDir: string): Promise<LocalIssuer> {
  if (dataDir === ':memory:') {
    throw new Error(
      'ELEVATE_DATA_DIR is :memory:, so the server keeps its signing key in memory: use POST /_local/token',
    );
  }
  const path = issuerKeyPath(dataDir);
  if (!existsSync(path)) {
    throw new Error(
      `no issuer key at ${path} yet: start the local server first (npm start) with the same ELEVATE_DATA_DIR`,
    );
  }
  return issuerFromKeyFile(readKeyFile(path));
}

async function issuerFromKeyFile(keyFile: KeyFile): Promise<LocalIssuer> {
  const { kid } = keyFile;
  const privateKey = await importJWK(keyFile.privateJwk, ALG);
  const publicJwk: JWK = { ...keyFile.publicJwk, kid, alg: ALG, use: 'sig' };
  const jwks: JSONWebKeySet = { keys: [publicJwk] };
  const keySet = createLocalJWKSet(jwks);

  return {
    issuer: LOCAL_ISSUER,
    audience: LOCAL_AUDIENCE,
    kid,
    jwks: () => structuredClone(jwks),

    async mintToken(opts, overrides = {}) {
      const now = Math.floor((overrides.now ?? clock().now()).getTime() / 1000);
      const ttl = opts.ttl ?? DEFAULT_TOKEN_TTL_S;
      const claims: JWTPayload = {
        sub: opts.sub,
        ...(opts.email !== undefined && { email: opts.email }),
        ...(opts.name !== undefined && { name: opts.name }),
        groups: opts.groups ?? [],
        amr: opts.mfa ? ['pwd', 'mfa'] : ['pwd'],
        auth_time: now,
        acrs: opts.acrs ?? [],
        scope: `openid ${DEFAULT_ACCEPTED_SCOPES}`,
        iss: LOCAL_ISSUER,
        aud: LOCAL_AUDIENCE,
        iat: now,
        nbf: now,
        exp: now + ttl,
        ...overrides.claims,
      };
      return new SignJWT(claims).setProtectedHeader({ alg: ALG, typ: 'JWT', kid }).sign(privateKey);
    },

    async verify(token) {
      let header: ReturnType<typeof decodeProtectedHeader>;
      try {
        header = decodeProtectedHeader(token);
      } catch {
        throw new UnauthenticatedError('the bearer token is not a JWT');
      }
      if (header.alg !== ALG) throw new UnauthenticatedError(`the token's algorithm must be ${ALG}`);
      if (typeof header.kid !== 'string') throw new UnauthenticatedError('the token has no kid');
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keySet, {
          algorithms: [ALG],
          issuer: LOCAL_ISSUER,
          currentDate: clock().now(),
          clockTolerance: CLOCK_TOLERANCE_S,
        }));
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        const detail =
          code === 'ERR_JWT_EXPIRED'
            ? 'the token has expired'
            : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED'
              ? `the token's ${(error as { claim?: string }).claim ?? ''} claim is not accepted`
              : code === 'ERR_JWKS_NO_MATCHING_KEY'
                ? "the token's kid names no key of the issuer"
                : 'the token signature or format is invalid';
        throw new UnauthenticatedError(detail);
      }
      const audiences = payload.aud === undefined ? [] : Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      const audienceOk =
        payload.aud === undefined ? payload.client_id === LOCAL_AUDIENCE : audiences.includes(LOCAL_AUDIENCE);
      if (!audienceOk) throw new UnauthenticatedError("the token's aud claim is not accepted");
      if (typeof payload.exp !== 'number') throw new UnauthenticatedError('the token has no exp claim');
      if (typeof payload.sub !== 'string' || payload.sub === '') throw new UnauthenticatedError('the token has no sub');
      if (!hasAcceptedScope(payload, acceptedScopes())) {
        throw new UnauthenticatedError(
          `the token carries none of the accepted scopes (${acceptedScopes().join(', ')})`,
        );
      }
      return { ...payload, sub: payload.sub };
    },
  };
}
