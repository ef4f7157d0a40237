/**
 * The e2e harness: the local runtime in-process on a free port with ':memory:' data, on the run's shared
 * DynamoDB Local (no Java per file) with a table of its own, a manual clock by default; and a tiny typed
 * HTTP client that talks to it with fetch, as a client would.
 */
import type { TokenOptions } from '#infra/local/issuer.ts';
import { type LocalServer, type StartLocalOptions, startLocal } from '#infra/local/server.ts';
import { dynamoEndpoint, uniqueTableName } from './table.ts';

/**
 * startLocal with test defaults: port 0, ':memory:', the shared DynamoDB Local, a unique table, a manual clock,
 * no request log, bootstrap admin 'admin'. Any option can be overridden.
 */
export function startTestServer(opts: StartLocalOptions = {}): Promise<LocalServer> {
  return startLocal({
    port: 0,
    dataDir: ':memory:',
    dynamoEndpoint: dynamoEndpoint(),
    tableName: uniqueTableName('e2e'),
    clock: 'manual',
    log: false,
    bootstrapAdmins: ['admin'],
    ...opts,
  });
}

export interface ApiResponse<T = unknown> {
  readonly status: number;
  /** Lower-cased response headers. */
  readonly headers: Record<string, string>;
  /** Parsed JSON for a JSON content type (application/json, application/problem+json), else the text. */
  readonly body: T;
}

export type RequestHeaders = Record<string, string>;

export interface ApiClient {
  get<T = unknown>(path: string, headers?: RequestHeaders): Promise<ApiResponse<T>>;
  delete<T = unknown>(path: string, headers?: RequestHeaders): Promise<ApiResponse<T>>;
  post<T = unknown>(path: string, body?: unknown, headers?: RequestHeaders): Promise<ApiResponse<T>>;
  put<T = unknown>(path: string, body?: unknown, headers?: RequestHeaders): Promise<ApiResponse<T>>;
  patch<T = unknown>(path: string, body?: unknown, headers?: RequestHeaders): Promise<ApiResponse<T>>;
  /** Any method, with a raw string body (no JSON encoding) when body is a string. */
  request<T = unknown>(method: string, path: string, body?: unknown, headers?: RequestHeaders): Promise<ApiResponse<T>>;
}

export interface AnonymousApiClient extends ApiClient {
  /** A client that sends a fresh token of the server's issuer (minted at the server's clock) with every request. */
  as(token: TokenOptions | string): ApiClient;
  /** A client that sends this exact bearer token (expired, forged, ...). */
  withToken(token: string): ApiClient;
}

type ServerLike = Pick<LocalServer, 'url' | 'issuer'>;

function client(server: ServerLike, authorization: () => Promise<string | undefined>): ApiClient {
  const request = async <T>(method: string, path: string, body?: unknown, headers: RequestHeaders = {}) => {
    const auth = await authorization();
    const init: RequestInit = {
      method,
      headers: {
        ...(auth && { authorization: `Bearer ${auth}` }),
        ...(body !== undefined && typeof body !== 'string' && { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    };
    const res = await fetch(`${server.url}${path}`, init);
    const text = await res.text();
    const responseHeaders: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      responseHeaders[name] = value;
    });
    const json = /\bjson\b/i.test(res.headers.get('content-type') ?? '') && text !== '';
    return { status: res.status, headers: responseHeaders, body: (json ? JSON.parse(text) : text) as T };
  };
  return {
    request,
    get: (path, headers) => request('GET', path, undefined, headers),
    delete: (path, headers) => request('DELETE', path, undefined, headers),
    post: (path, body, headers) => request('POST', path, body, headers),
    put: (path, body, headers) => request('PUT', path, body, headers),
    patch: (path, body, headers) => request('PATCH', path, body, headers),
  };
}

/** `api(server).get('/_local/clock')`, `api(server).as({ sub: 'admin', mfa: true }).post('/v1/roles', {...})`. */
export function api(server: ServerLike): AnonymousApiClient {
  const anonymous = client(server, async () => undefined);
  return {
    ...anonymous,
    as: (token) =>
      client(server, async () =>
        typeof token === 'string' ? server.issuer.mintToken({ sub: token }) : server.issuer.mintToken(token),
      ),
    withToken: (token) => client(server, async () => token),
  };
}

/** Mail SES would have sent (GET /_local/emails), oldest first. */
export interface SentEmail {
  readonly to: string[];
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly sentAt: string;
}

/** An event put on the bus (GET /_local/events), oldest first. */
export interface PutEvent {
  readonly id: string;
  readonly eventBusName: string;
  readonly source: string;
  readonly detailType: string;
  readonly detail: Record<string, unknown>;
  readonly time: string;
}

async function items<T>(server: Pick<LocalServer, 'url'>, path: string): Promise<T[]> {
  const res = await fetch(`${server.url}${path}`);
  if (!res.ok) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { items: T[] }).items;
}

/** Every mail the server sent so far (the local SES outbox). */
export function emails(server: Pick<LocalServer, 'url'>): Promise<SentEmail[]> {
  return items<SentEmail>(server, '/_local/emails');
}

/** Every lifecycle event the server put on its bus so far. */
export function events(server: Pick<LocalServer, 'url'>): Promise<PutEvent[]> {
  return items<PutEvent>(server, '/_local/events');
}

/**
 * Wait until what the clock set off has settled: due scheduled jobs have run and every workflow execution
 * waits on the clock or a token (or has ended). Advance the clock, then `await settle(server)`.
 */
export function settle(server: Pick<LocalServer, 'idle'>): Promise<void> {
  return server.idle();
}
