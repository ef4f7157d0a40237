/**
 * Sign-in: OpenID Connect authorization code with PKCE (S256) against the configured issuer. The access token is
 * kept in sessionStorage (this tab only, gone when it closes), sent only in the Authorization header, never put in
 * a URL or logged. The code and state come back in the callback's query and are removed from the address at once.
 */
export interface ConsoleConfig {
  /** The API's base URL ('' for the console's own origin). */
  apiUrl: string;
  /** The OIDC issuer; its discovery document names the endpoints unless these two are given. */
  issuer: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  clientId: string;
  /** Scopes to ask for (space-separated). */
  scope: string;
}

export interface Session {
  token: string;
  sub: string;
  name: string;
  mfa: boolean;
  expiresAt: number;
}

const TOKEN_KEY = 'elevate.session';
const FLOW_KEY = 'elevate.signin';
export const CALLBACK_PATH = '/callback';

const base64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

const randomString = (bytes: number): string => base64url(crypto.getRandomValues(new Uint8Array(bytes)));

async function endpoints(config: ConsoleConfig): Promise<{ authorize: string; token: string }> {
  if (config.authorizationEndpoint && config.tokenEndpoint) {
    return { authorize: config.authorizationEndpoint, token: config.tokenEndpoint };
  }
  const res = await fetch(`${config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`the issuer's discovery document answered ${res.status}`);
  const doc = (await res.json()) as { authorization_endpoint: string; token_endpoint: string };
  return { authorize: doc.authorization_endpoint, token: doc.token_endpoint };
}

/** Go to the issuer's sign-in; `returnTo` is where the console lands afterwards. */
export async function signIn(config: ConsoleConfig, returnTo: string): Promise<void> {
  const { authorize } = await endpoints(config);
  const verifier = randomString(48);
  const state = randomString(24);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem(FLOW_KEY, JSON.stringify({ verifier, state, returnTo }));
  const url = new URL(authorize, location.origin);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: `${location.origin}${CALLBACK_PATH}`,
    scope: config.scope,
    state,
    code_challenge: base64url(digest),
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url.toString());
}

function decodeClaims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1] ?? '';
  const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))) as Record<string, unknown>;
}

function sessionOf(token: string): Session {
  const claims = decodeClaims(token);
  const sub = String(claims.sub ?? '');
  return {
    token,
    sub,
    name: typeof claims.name === 'string' ? claims.name : sub,
    mfa: Array.isArray(claims.amr) && claims.amr.includes('mfa'),
    expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : 0,
  };
}

/** The callback: trade the code for a token; answers the path to land on. */
export async function completeSignIn(config: ConsoleConfig): Promise<string> {
  const params = new URLSearchParams(location.search);
  // The code leaves the address bar (and the history) before anything else happens.
  history.replaceState(null, '', CALLBACK_PATH);
  const flow = JSON.parse(sessionStorage.getItem(FLOW_KEY) ?? 'null') as {
    verifier: string;
    state: string;
    returnTo: string;
  } | null;
  sessionStorage.removeItem(FLOW_KEY);
  if (!flow || params.get('state') !== flow.state) throw new Error('the sign-in answer does not match this tab');
  const error = params.get('error');
  if (error) throw new Error(`the issuer refused the sign-in: ${error}`);
  const { token } = await endpoints(config);
  const res = await fetch(new URL(token, location.origin), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: params.get('code') ?? '',
      code_verifier: flow.verifier,
      redirect_uri: `${location.origin}${CALLBACK_PATH}`,
      client_id: config.clientId,
    }),
  });
  if (!res.ok) throw new Error(`the issuer's token endpoint answered ${res.status}`);
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) throw new Error('the issuer answered no access token');
  sessionStorage.setItem(TOKEN_KEY, body.access_token);
  return flow.returnTo.startsWith('/') && !flow.returnTo.startsWith('//') ? flow.returnTo : '/';
}

/** The signed-in session, unless there is none or it expired. */
export function currentSession(now = Date.now()): Session | undefined {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return undefined;
  try {
    const session = sessionOf(token);
    if (session.expiresAt > now) return session;
  } catch {
    // not a JWT: sign in again
  }
  sessionStorage.removeItem(TOKEN_KEY);
  return undefined;
}

export function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}
