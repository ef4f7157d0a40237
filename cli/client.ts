/**
 * The HTTP client of the Elevate API: a bearer token from --token / ELEVATE_TOKEN or the token cache
 * (renewed when it has expired, and once more when the API answers 401), JSON in and out, and every
 * error answer turned into an ApiError carrying the problem+json.
 */
import { randomUUID } from 'node:crypto';
import { type Credentials, expiryOf, normalizeUrl, type Store } from './config.ts';
import { ApiError, CliError, NotLoggedIn, type Problem } from './errors.ts';
import { refresh } from './oidc.ts';
import { observeServerDate } from './output.ts';
import { printableDeep } from './text.ts';

/** Renew this long before the token's expiry, so it does not expire in flight. */
const SKEW_MS = 30_000;

export interface Page<T> {
  items: T[];
  nextToken: string | null;
}

async function send(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(60_000) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new CliError(`cannot reach the API at ${new URL(url).origin}: ${cause}`);
  }
}

/** A problem from any error answer: problem+json as is; API Gateway's `{"message"}` or text made into one. */
export function toProblem(status: number, text: string): Problem {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
  } catch {
    // not JSON
  }
  const fallbackCode =
    status === 401 ? 'Unauthenticated' : status === 403 ? 'Forbidden' : status === 404 ? 'NotFound' : `HTTP${status}`;
  const detail =
    typeof body.detail === 'string'
      ? body.detail
      : typeof body.message === 'string'
        ? body.message
        : text.trim().slice(0, 200) || undefined;
  return {
    status,
    code: typeof body.code === 'string' ? body.code : fallbackCode,
    ...(detail !== undefined && { detail }),
    ...(typeof body.title === 'string' && { title: body.title }),
    ...(typeof body.type === 'string' && { type: body.type }),
    ...(Array.isArray(body.errors) && { errors: body.errors as Problem['errors'] }),
  };
}

/** Where the bearer token comes from. */
export class TokenSource {
  constructor(
    readonly api: string,
    private readonly store: Store,
    /** --token or ELEVATE_TOKEN: used as is, never renewed. */
    private readonly explicit: string | undefined,
  ) {}

  get renewable(): boolean {
    return this.explicit === undefined;
  }

  async token(forceRenew = false): Promise<string> {
    if (this.explicit !== undefined) return this.explicit;
    const creds = await this.store.credentials(this.api);
    if (!creds) throw new NotLoggedIn(`not logged in to ${this.api}: run \`elevate login\` (or pass --token)`);
    const expired = creds.expiresAt !== undefined && new Date(creds.expiresAt).getTime() - SKEW_MS < Date.now();
    if (!expired && !forceRenew) return creds.accessToken;
    const renewed = await this.renew(creds);
    await this.store.saveCredentials(this.api, renewed);
    return renewed.accessToken;
  }

  private async renew(creds: Credentials): Promise<Credentials> {
    if (creds.source === 'local') {
      const token = await localToken(this.api, creds.options);
      return { ...creds, accessToken: token, expiresAt: expiryOf(token) };
    }
    if (!creds.refreshToken) throw new NotLoggedIn('the session has expired: run `elevate login`');
    const answer = await refresh({
      tokenEndpoint: creds.tokenEndpoint,
      clientId: creds.clientId,
      refreshToken: creds.refreshToken,
    });
    return {
      ...creds,
      accessToken: answer.access_token,
      expiresAt: expiryOf(answer.access_token, answer.expires_in),
      // An issuer that rotates refresh tokens sends a new one; one that does not keeps the old one valid.
      refreshToken: answer.refresh_token ?? creds.refreshToken,
      ...(answer.id_token && { idToken: answer.id_token }),
    };
  }
}

/** POST /_local/token of the local runtime. */
export async function localToken(api: string, options: Record<string, unknown>): Promise<string> {
  const res = await send(`${normalizeUrl(api)}/_local/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(options),
  });
  const text = await res.text();
  if (res.status === 404) {
    throw new CliError(
      `${api} has no /_local/token: it is not the local runtime (use \`elevate login\` without --local)`,
    );
  }
  if (!res.ok) throw new ApiError(toProblem(res.status, text));
  const token = (JSON.parse(text) as { token?: unknown }).token;
  if (typeof token !== 'string') throw new CliError('the local runtime answered /_local/token without a token');
  return token;
}

export class ApiClient {
  constructor(
    readonly base: string,
    private readonly tokens: TokenSource,
    /**
     * Escape the control characters of every string in an answer (see text.ts): on for human output, where
     * the answer's strings end up in tables and lines; off for --json, whose document escapes them itself.
     */
    private readonly printable = true,
  ) {}

  /** `extra` headers: an `idempotency-key` of the caller's (policy-as-code derives its own) replaces the random one. */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    extra: Record<string, string> = {},
  ): Promise<{ status: number; body: T; replayed?: boolean }> {
    const attempt = async (forceRenew: boolean) => {
      const token = await this.tokens.token(forceRenew);
      const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${token}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (method === 'POST') headers['idempotency-key'] = randomUUID();
      Object.assign(headers, extra);
      return send(`${this.base}${path}`, {
        method,
        headers,
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    };
    let res = await attempt(false);
    if (res.status === 401 && this.tokens.renewable) {
      await res.body?.cancel();
      res = await attempt(true);
    }
    observeServerDate(res.headers.get('date'));
    const text = await res.text();
    if (!res.ok) throw new ApiError(toProblem(res.status, text));
    // The answer of an earlier call with the same Idempotency-Key, replayed (api.md).
    const replayed = res.headers.get('idempotent-replayed') === 'true';
    if (text === '') return { status: res.status, body: undefined as T, replayed };
    try {
      const body = JSON.parse(text) as T;
      return { status: res.status, body: this.printable ? printableDeep(body) : body, replayed };
    } catch {
      throw new CliError(`the API answered ${method} ${path} with something that is not JSON`);
    }
  }

  get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
    const qs = params.toString();
    return this.request<T>('GET', qs ? `${path}?${qs}` : path).then((r) => r.body);
  }

  post<T>(path: string, body: unknown = {}): Promise<{ status: number; body: T }> {
    return this.request<T>('POST', path, body);
  }
}

export const enc = encodeURIComponent;
