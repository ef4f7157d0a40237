/**
 * The local issuer's sign-in for the web console: OpenID Connect authorization code with PKCE (RFC 7636, S256 only).
 * - `GET /_local/oidc/authorize?response_type=code&client_id&redirect_uri&state&code_challenge&code_challenge_method=S256`
 *   (and optionally `nonce`, and `acr_values=mfa` for a step-up sign-in) answers a development sign-in page (fields
 *   "Username", "Email", "Groups", a checkbox "MFA", a button "Sign in"); anyone can be anyone here, as with
 *   `npm run token`: it is the local runtime, never deployed. Asked for `acr_values=mfa`, the page says so and
 *   refuses a sign-in without MFA, as an identity provider enforcing a step-up policy would.
 * - `POST /_local/oidc/authorize` (the page's form) issues a one-time code (60 s) and redirects to `redirect_uri`
 *   with `code` and `state`.
 * - `POST /_local/oidc/token` (`grant_type=authorization_code`, `code`, `code_verifier`, `redirect_uri`, `client_id`)
 *   answers `{ access_token, id_token, token_type, expires_in }`: the same access token as `/_local/token` mints, and
 *   an ID token for the console (`aud` its client id, the authorization request's `nonce`).
 * The redirect URI must be on the runtime's own origin (no open redirect), the code is single-use, bound to its
 * client, redirect URI and challenge. The page has a strict CSP and no script.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { clock } from '#shared/clock.ts';
import type { HttpResult } from './http-event.ts';
import type { LocalIssuer, TokenOptions } from './issuer.ts';
import { invalid, jsonResult } from './results.ts';

/** The console's client id (config.json's clientId). */
export const CONSOLE_CLIENT_ID = 'elevate-console';
export const AUTHORIZE_PATH = '/_local/oidc/authorize';
export const TOKEN_PATH = '/_local/oidc/token';
const CODE_TTL_MS = 60_000;
const MAX_PENDING_CODES = 1000;
/** Token lifetime of a console sign-in (seconds). */
const CONSOLE_TOKEN_TTL_S = 3600;

interface PendingCode {
  clientId: string;
  redirectUri: string;
  challenge: string;
  nonce: string;
  token: TokenOptions;
  expiresAt: number;
}

const codes = new Map<string, PendingCode>();

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

interface AuthorizeParams {
  clientId: string;
  redirectUri: string;
  state: string;
  challenge: string;
  /** The client's nonce, echoed in the ID token ('' when none was sent). */
  nonce: string;
  /** A step-up sign-in: the client asked for MFA (`acr_values=mfa`). */
  mfaRequired: boolean;
}

/** The authorization request's parameters, or what is wrong with them. */
function authorizeParams(params: URLSearchParams, origin: string): AuthorizeParams | string {
  const clientId = params.get('client_id') ?? '';
  const redirectUri = params.get('redirect_uri') ?? '';
  const state = params.get('state') ?? '';
  const challenge = params.get('code_challenge') ?? '';
  const nonce = params.get('nonce') ?? '';
  const mfaRequired = (params.get('acr_values') ?? '').split(' ').includes('mfa');
  if (params.get('response_type') !== 'code') return 'response_type must be code';
  if (nonce.length > 256) return 'nonce must be at most 256 characters';
  if (clientId !== CONSOLE_CLIENT_ID) return `client_id must be ${CONSOLE_CLIENT_ID}`;
  if (params.get('code_challenge_method') !== 'S256') return 'code_challenge_method must be S256 (PKCE)';
  if (!/^[A-Za-z0-9_-]{43}$/.test(challenge)) return 'code_challenge must be a base64url SHA-256 (43 characters)';
  if (state.length < 8 || state.length > 256) return 'state must be 8 to 256 characters';
  let redirect: URL;
  try {
    redirect = new URL(redirectUri);
  } catch {
    return 'redirect_uri must be an absolute URL';
  }
  if (redirect.origin !== origin) return `redirect_uri must be on ${origin}`;
  return { clientId, redirectUri, state, challenge, nonce, mfaRequired };
}

/** The origin the browser reached the runtime at (the Host header, checked to be a loopback name). */
function ownOrigin(req: IncomingMessage, port: number): string {
  const host = req.headers.host ?? '';
  return /^(127\.0\.0\.1|localhost|\[::1\]):\d+$/.test(host) ? `http://${host}` : `http://127.0.0.1:${port}`;
}

function signInPage(p: AuthorizeParams, error?: string): HttpResult {
  const hidden = (name: string, value: string) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in: Elevate local issuer</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/signin.css"></head>
<body><main class="signin"><h1>Sign in to Elevate (local issuer)</h1>
<p>Development sign-in: anyone can be anyone. Deployed stacks use your identity provider.</p>
${p.mfaRequired ? '<p class="hint">This sign-in must use MFA (the console asked for a step-up).</p>' : ''}
${error ? `<p role="alert" class="error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="${AUTHORIZE_PATH}">
${hidden('client_id', p.clientId)}${hidden('redirect_uri', p.redirectUri)}${hidden('state', p.state)}
${hidden('code_challenge', p.challenge)}${hidden('code_challenge_method', 'S256')}${hidden('response_type', 'code')}
${p.nonce ? hidden('nonce', p.nonce) : ''}${p.mfaRequired ? hidden('acr_values', 'mfa') : ''}
<label for="username">Username</label><input id="username" name="username" required autocomplete="username" maxlength="128">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="email" maxlength="254">
<label for="groups">Groups</label><input id="groups" name="groups" aria-describedby="groups-hint" maxlength="2000">
<p id="groups-hint" class="hint">Comma-separated group ids</p>
<label class="check"><input type="checkbox" name="mfa" value="true"> MFA</label>
<button type="submit">Sign in</button>
</form></main></body></html>`;
  return { status: error ? 400 : 200, headers: PAGE_HEADERS, body: Buffer.from(html) };
}

function sweep(now: number): void {
  for (const [code, pending] of codes) if (pending.expiresAt <= now) codes.delete(code);
}

/** GET: the sign-in page for a valid authorization request; POST: the form, then the redirect with a code. */
export function authorize(req: IncomingMessage, method: string, rawQuery: string, body: Buffer, port: number) {
  const params = new URLSearchParams(method === 'POST' ? body.toString('utf8') : rawQuery);
  const checked = authorizeParams(params, ownOrigin(req, port));
  if (typeof checked === 'string') return invalid(checked);
  if (method === 'GET') return signInPage(checked);
  const username = (params.get('username') ?? '').trim();
  if (!/^[A-Za-z0-9._@+-]{1,128}$/.test(username)) {
    return signInPage(checked, 'Username: 1 to 128 letters, digits or . _ @ + -');
  }
  const email = (params.get('email') ?? '').trim();
  const groups = (params.get('groups') ?? '')
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g !== '');
  if (groups.length > 50) return signInPage(checked, 'Groups: at most 50');
  const mfa = params.get('mfa') === 'true';
  if (checked.mfaRequired && !mfa) return signInPage(checked, 'This sign-in must use MFA: tick MFA');
  const now = clock().now().getTime();
  sweep(now);
  if (codes.size >= MAX_PENDING_CODES) return signInPage(checked, 'Too many sign-ins in progress; try again');
  const code = randomBytes(32).toString('base64url');
  codes.set(code, {
    clientId: checked.clientId,
    redirectUri: checked.redirectUri,
    challenge: checked.challenge,
    nonce: checked.nonce,
    token: {
      sub: username,
      name: username,
      ...(email !== '' && { email }),
      groups,
      mfa,
      ttl: CONSOLE_TOKEN_TTL_S,
    },
    expiresAt: now + CODE_TTL_MS,
  });
  const location = new URL(checked.redirectUri);
  location.searchParams.set('code', code);
  location.searchParams.set('state', checked.state);
  return {
    status: 303,
    headers: { location: location.toString(), 'cache-control': 'no-store' },
    body: Buffer.alloc(0),
  };
}

const tokenError = (error: string, description: string): HttpResult =>
  jsonResult(400, { error, error_description: description });

/** The token endpoint: a code, once, for the verifier of its challenge. */
export async function token(issuer: LocalIssuer, body: Buffer): Promise<HttpResult> {
  const params = new URLSearchParams(body.toString('utf8'));
  if (params.get('grant_type') !== 'authorization_code') {
    return tokenError('unsupported_grant_type', 'only authorization_code');
  }
  const code = params.get('code') ?? '';
  const pending = codes.get(code);
  // A code is spent by its first use, right or wrong (RFC 6749 §4.1.2: a code is single-use).
  codes.delete(code);
  if (!pending || pending.expiresAt <= clock().now().getTime()) {
    return tokenError('invalid_grant', 'the code is unknown, used or expired');
  }
  if (params.get('client_id') !== pending.clientId || params.get('redirect_uri') !== pending.redirectUri) {
    return tokenError('invalid_grant', 'the client or redirect_uri does not match the authorization request');
  }
  const verifier = params.get('code_verifier') ?? '';
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return tokenError('invalid_request', 'code_verifier is malformed');
  if (createHash('sha256').update(verifier).digest('base64url') !== pending.challenge) {
    return tokenError('invalid_grant', 'the code_verifier does not match the code_challenge');
  }
  const accessToken = await issuer.mintToken(pending.token);
  const idToken = await issuer.mintToken(pending.token, {
    claims: { aud: pending.clientId, scope: undefined, ...(pending.nonce && { nonce: pending.nonce }) },
  });
  const result = jsonResult(200, {
    access_token: accessToken,
    id_token: idToken,
    token_type: 'Bearer',
    expires_in: CONSOLE_TOKEN_TTL_S,
  });
  result.headers['cache-control'] = 'no-store';
  return result;
}
