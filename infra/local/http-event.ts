/**
 * What API Gateway (HTTP API, payload format 2.0) does around a Lambda handler, reproduced for the local
 * runtime: route matching, the event it builds, the claim stringification of its JWT authorizer, and the
 * way it turns a handler's result into an HTTP response.
 */
import type { IncomingMessage } from 'node:http';
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyResultV2,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import { clock } from '#shared/clock.ts';

/** API Gateway's request payload limit (HTTP APIs): larger bodies get a 413. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

export interface RouteLike {
  readonly method: string;
  readonly path: string;
}

export interface RouteMatch<R extends RouteLike> {
  readonly route: R;
  readonly pathParameters: Record<string, string>;
}

export type MatchResult<R extends RouteLike> =
  | { kind: 'match'; match: RouteMatch<R> }
  | { kind: 'wrongMethod' }
  | { kind: 'none' }
  | { kind: 'badEncoding' };

function segmentsOf(path: string): string[] {
  return path.split('/').slice(1);
}

/**
 * Match method + raw path against route templates (`/v1/roles/{roleId}`). A static segment beats a
 * parameter where both match (API Gateway prefers the most specific route). Parameters are percent-decoded;
 * a malformed escape is `badEncoding`.
 */
export function matchRoute<R extends RouteLike>(routes: readonly R[], method: string, rawPath: string): MatchResult<R> {
  const segments = segmentsOf(rawPath);
  let best: { route: R; score: string; params: Record<string, string> } | undefined;
  let pathMatched = false;
  for (const route of routes) {
    const template = segmentsOf(route.path);
    if (template.length !== segments.length) continue;
    const rawParams: Record<string, string> = {};
    let score = '';
    let ok = true;
    for (let i = 0; i < template.length && ok; i++) {
      const t = template[i] as string;
      const s = segments[i] as string;
      const param = /^\{([A-Za-z0-9_]+)\}$/.exec(t);
      if (param?.[1]) {
        if (s === '') ok = false;
        else rawParams[param[1]] = s;
        score += '0';
      } else if (t === s) {
        score += '1';
      } else {
        ok = false;
      }
    }
    if (!ok) continue;
    pathMatched = true;
    if (route.method !== method) continue;
    if (!best || score > best.score) best = { route, score, params: rawParams };
  }
  if (!best) return pathMatched ? { kind: 'wrongMethod' } : { kind: 'none' };
  const pathParameters: Record<string, string> = {};
  try {
    for (const [name, value] of Object.entries(best.params)) pathParameters[name] = decodeURIComponent(value);
  } catch {
    return { kind: 'badEncoding' };
  }
  return { kind: 'match', match: { route: best.route, pathParameters } };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** API Gateway's queryStringParameters: values decoded, a repeated key's values joined with commas. */
export function queryParameters(rawQueryString: string): Record<string, string> | undefined {
  if (rawQueryString === '') return undefined;
  const out: Record<string, string> = {};
  for (const pair of rawQueryString.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = safeDecode(eq < 0 ? pair : pair.slice(0, eq));
    const value = safeDecode(eq < 0 ? '' : pair.slice(eq + 1));
    out[key] = key in out ? `${out[key]},${value}` : value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * API Gateway HTTP API's JWT authorizer hands the claims to the integration as strings: numbers and
 * booleans as their text, and arrays in Go's fmt form, space-separated inside brackets
 * (`groups: ['a', 'b']` arrives as `'[a b]'`; objects as `map[k:v]`). Handlers must parse that form, so the
 * local runtime reproduces it rather than passing real arrays.
 */
export function stringifyClaim(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map(stringifyClaim).join(' ')}]`;
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[${entries.map(([k, v]) => `${k}:${stringifyClaim(v)}`).join(' ')}]`;
  }
  return String(value);
}

export function stringifyClaims(claims: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(claims)) out[name] = stringifyClaim(value);
  return out;
}

const TEXT_TYPES = /^(text\/|application\/([\w.+-]*\+)?(json|xml|javascript|x-www-form-urlencoded)\b)/i;

/** True when API Gateway passes a body of this content type as text (else base64 with isBase64Encoded). */
export function isTextContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && TEXT_TYPES.test(contentType.trim());
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** requestContext.time's format: `12/Mar/2020:19:03:58 +0000`. */
export function apiGatewayTime(at: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(at.getUTCDate())}/${MONTHS[at.getUTCMonth()]}/${at.getUTCFullYear()}:${p(at.getUTCHours())}:${p(at.getUTCMinutes())}:${p(at.getUTCSeconds())} +0000`;
}

/** Lower-cased headers, repeated headers joined with commas (as API Gateway does); cookies split out. */
export function eventHeaders(req: IncomingMessage): { headers: Record<string, string>; cookies: string[] | undefined } {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    if (name === 'cookie') {
      for (const c of value.split(';')) if (c.trim() !== '') cookies.push(c.trim());
      continue;
    }
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  return { headers, cookies: cookies.length > 0 ? cookies : undefined };
}

/**
 * One request as API Gateway (HTTP API, payload 2.0, JWT authorizer) hands it to the integration: the one event
 * builder of the local server, the handler tests, the fuzz test and the bench.
 */
export interface ApiRequest {
  /** The route key of the matched route, `METHOD /path/{param}`. */
  routeKey: string;
  method: string;
  rawPath: string;
  /** @default '' */
  rawQueryString?: string;
  /** @default - parsed from rawQueryString (queryParameters) */
  queryStringParameters?: Record<string, string>;
  /** @default - none */
  pathParameters?: Record<string, string>;
  /** Lower-cased header names. @default {} */
  headers?: Record<string, string>;
  /** @default - none */
  cookies?: string[];
  /** @default - no body */
  body?: string;
  /** @default false */
  isBase64Encoded?: boolean;
  /** Verified claims (stringified here as the authorizer does), or undefined for a route without an authorizer. */
  claims?: Record<string, unknown>;
  requestId: string;
  /** @default - the clock's time */
  now?: Date;
  /** @default '127.0.0.1' */
  sourceIp?: string;
  /** @default 'HTTP/1.1' */
  protocol?: string;
  /** @default - the user-agent header, else '' */
  userAgent?: string;
  /** @default - the host header, else '127.0.0.1' */
  domainName?: string;
}

/** The event API Gateway (HTTP API, payload 2.0, JWT authorizer) sends to the integration. */
export function apiGatewayEvent(request: ApiRequest): APIGatewayProxyEventV2WithJWTAuthorizer {
  const headers = request.headers ?? {};
  const now = request.now ?? clock().now();
  const domainName = request.domainName ?? headers.host ?? '127.0.0.1';
  const rawQueryString = request.rawQueryString ?? '';
  const queryStringParameters = request.queryStringParameters ?? queryParameters(rawQueryString);
  const pathParameters = request.pathParameters ?? {};
  const requestContext = {
    accountId: '000000000000',
    apiId: 'local',
    domainName,
    domainPrefix: domainName.split('.')[0] ?? domainName,
    http: {
      method: request.method,
      path: request.rawPath,
      protocol: request.protocol ?? 'HTTP/1.1',
      sourceIp: request.sourceIp ?? '127.0.0.1',
      userAgent: request.userAgent ?? headers['user-agent'] ?? '',
    },
    requestId: request.requestId,
    routeKey: request.routeKey,
    stage: '$default',
    time: apiGatewayTime(now),
    timeEpoch: now.getTime(),
    // API Gateway sends no authorizer block on routes without an authorizer (public routes); the type
    // from @types/aws-lambda makes it mandatory, hence the cast below.
    ...(request.claims && { authorizer: { jwt: { claims: stringifyClaims(request.claims), scopes: null } } }),
  };
  const event = {
    version: '2.0',
    routeKey: request.routeKey,
    rawPath: request.rawPath,
    rawQueryString,
    ...(request.cookies && { cookies: request.cookies }),
    headers,
    ...(queryStringParameters && { queryStringParameters }),
    requestContext,
    ...(request.body !== undefined && { body: request.body }),
    ...(Object.keys(pathParameters).length > 0 && { pathParameters }),
    isBase64Encoded: request.isBase64Encoded ?? false,
  };
  return event as APIGatewayProxyEventV2WithJWTAuthorizer;
}

export interface EventInput {
  req: IncomingMessage;
  routeKey: string;
  rawPath: string;
  rawQueryString: string;
  pathParameters: Record<string, string>;
  body: Buffer | undefined;
  /** Verified claims (stringified here), or undefined for a route without an authorizer. */
  claims: Record<string, unknown> | undefined;
  requestId: string;
  now: Date;
  port: number;
}

/** The event of a request the local server received (its headers, socket and body as API Gateway reads them). */
export function buildEvent(input: EventInput): APIGatewayProxyEventV2WithJWTAuthorizer {
  const { req } = input;
  const { headers, cookies } = eventHeaders(req);
  const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  headers['x-forwarded-for'] ??= sourceIp;
  headers['x-forwarded-port'] ??= String(input.port);
  headers['x-forwarded-proto'] ??= 'http';
  const hasBody = input.body !== undefined && input.body.length > 0;
  const isBase64Encoded = hasBody && !isTextContentType(headers['content-type']);
  return apiGatewayEvent({
    routeKey: input.routeKey,
    method: req.method ?? 'GET',
    rawPath: input.rawPath,
    rawQueryString: input.rawQueryString,
    pathParameters: input.pathParameters,
    headers,
    ...(cookies && { cookies }),
    ...(hasBody && { body: (input.body as Buffer).toString(isBase64Encoded ? 'base64' : 'utf8') }),
    isBase64Encoded,
    ...(input.claims && { claims: input.claims }),
    requestId: input.requestId,
    now: input.now,
    sourceIp,
    protocol: `HTTP/${req.httpVersion}`,
    domainName: headers.host ?? `127.0.0.1:${input.port}`,
  });
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

function isStructured(result: object): result is APIGatewayProxyStructuredResultV2 {
  return 'statusCode' in result;
}

/**
 * Turn a handler's result into the HTTP response as API Gateway does for payload 2.0: a structured result
 * is used as is (cookies become set-cookie headers, isBase64Encoded bodies are decoded); a string or any
 * other JSON value is a 200 with that JSON as body.
 */
export function toHttpResult(result: APIGatewayProxyResultV2<unknown>): HttpResult {
  if (result === undefined || result === null) {
    return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('null') };
  }
  if (typeof result === 'string' || typeof result !== 'object' || !isStructured(result)) {
    const text = typeof result === 'string' ? result : JSON.stringify(result);
    return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(text) };
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name.toLowerCase()] = String(value);
  if (result.cookies && result.cookies.length > 0) headers['set-cookie'] = [...result.cookies];
  const body =
    result.body === undefined ? Buffer.alloc(0) : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  return { status: result.statusCode ?? 200, headers, body };
}
