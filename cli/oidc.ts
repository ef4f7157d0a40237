/**
 * OAuth 2.0 against the configured OIDC issuer: discovery, the device authorization grant (RFC 8628),
 * the refresh token grant, and token revocation (RFC 7009) when the issuer offers it.
 */
import { CliError, EXIT } from './errors.ts';

export interface Discovery {
  issuer?: string;
  device_authorization_endpoint?: string;
  token_endpoint?: string;
  revocation_endpoint?: string;
}

export interface TokenResponse {
  access_token: string;
  token_type?: string;
  expires_in?: number;
  refresh_token?: string;
  id_token?: string;
  scope?: string;
}

interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete?: string;
  expires_in: number;
  interval?: number;
}

async function readJsonAnswer(res: Response, what: string): Promise<Record<string, unknown>> {
  const text = await res.text();
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new CliError(`${what} answered ${res.status} with something that is not JSON`);
}

async function send(url: string, init: RequestInit, what: string): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new CliError(`cannot reach ${what} at ${url}: ${cause}`);
  }
}

export async function discover(issuer: string): Promise<Discovery> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const res = await send(url, { headers: { accept: 'application/json' } }, 'the OIDC issuer');
  if (!res.ok) throw new CliError(`OIDC discovery failed: ${url} answered ${res.status}`);
  return (await readJsonAnswer(res, 'OIDC discovery')) as Discovery;
}

const form = (fields: Record<string, string | undefined>) => {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) body.set(k, v);
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: body.toString(),
  };
};

const oauthError = (body: Record<string, unknown>, status: number) =>
  `${typeof body.error === 'string' ? body.error : `HTTP ${status}`}${
    typeof body.error_description === 'string' ? `: ${body.error_description}` : ''
  }`;

export interface DevicePrompt {
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string | undefined;
  expiresIn: number;
}

/**
 * The device flow: ask for a device code, show the user where to go (`prompt`), then poll the token
 * endpoint every `interval` seconds (5 unless the issuer says), 5 seconds slower after each `slow_down`,
 * until the user approves, denies, or the code expires.
 */
export async function deviceLogin(opts: {
  discovery: Discovery;
  clientId: string;
  scope: string;
  prompt: (p: DevicePrompt) => void;
  sleep?: (ms: number) => Promise<void>;
}): Promise<TokenResponse> {
  const { discovery, clientId } = opts;
  const sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  if (!discovery.device_authorization_endpoint || !discovery.token_endpoint) {
    throw new CliError('the OIDC issuer offers no device authorization grant (no device_authorization_endpoint)');
  }
  const res = await send(
    discovery.device_authorization_endpoint,
    form({ client_id: clientId, scope: opts.scope }),
    'the device authorization endpoint',
  );
  const body = await readJsonAnswer(res, 'the device authorization endpoint');
  if (!res.ok) throw new CliError(`device authorization refused: ${oauthError(body, res.status)}`);
  const auth = body as unknown as DeviceAuthorization;
  if (typeof auth.device_code !== 'string' || typeof auth.user_code !== 'string') {
    throw new CliError('the device authorization endpoint answered without a device_code and user_code');
  }
  opts.prompt({
    userCode: auth.user_code,
    verificationUri: auth.verification_uri,
    verificationUriComplete: auth.verification_uri_complete,
    expiresIn: auth.expires_in,
  });
  let interval = typeof auth.interval === 'number' && auth.interval >= 0 ? auth.interval : 5;
  const deadline = Date.now() + (typeof auth.expires_in === 'number' ? auth.expires_in : 900) * 1000;
  for (;;) {
    await sleep(interval * 1000);
    if (Date.now() > deadline) throw new CliError('the device code expired before the login was approved: try again');
    const poll = await send(
      discovery.token_endpoint,
      form({
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        device_code: auth.device_code,
        client_id: clientId,
      }),
      'the token endpoint',
    );
    const answer = await readJsonAnswer(poll, 'the token endpoint');
    if (poll.ok && typeof answer.access_token === 'string') return answer as unknown as TokenResponse;
    switch (answer.error) {
      case 'authorization_pending':
        continue;
      case 'slow_down':
        interval += 5;
        continue;
      case 'access_denied':
        throw new CliError('the login was denied at the identity provider', EXIT.unauthenticated);
      case 'expired_token':
        throw new CliError('the device code expired before the login was approved: try again');
      default:
        throw new CliError(`login failed: ${oauthError(answer, poll.status)}`);
    }
  }
}

/** The refresh token grant. Throws when the issuer refuses (then the user logs in again). */
export async function refresh(opts: {
  tokenEndpoint: string;
  clientId: string;
  refreshToken: string;
}): Promise<TokenResponse> {
  const res = await send(
    opts.tokenEndpoint,
    form({ grant_type: 'refresh_token', refresh_token: opts.refreshToken, client_id: opts.clientId }),
    'the token endpoint',
  );
  const body = await readJsonAnswer(res, 'the token endpoint');
  if (!res.ok || typeof body.access_token !== 'string') {
    throw new CliError(
      `the session could not be renewed (${oauthError(body, res.status)}): run \`elevate login\``,
      EXIT.unauthenticated,
    );
  }
  return body as unknown as TokenResponse;
}

/** Best effort: revoke a token at logout. */
export async function revoke(endpoint: string, clientId: string, token: string, hint: string): Promise<boolean> {
  try {
    const res = await fetch(endpoint, {
      ...form({ token, token_type_hint: hint, client_id: clientId }),
      signal: AbortSignal.timeout(10_000),
    });
    return res.ok;
  } catch {
    return false;
  }
}
