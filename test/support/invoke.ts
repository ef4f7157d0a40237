/**
 * Calls the Lambda handlers directly with the API Gateway v2 events API Gateway would send (claims
 * stringified the way its JWT authorizer does), for the integration tier: handler + DynamoDB Local,
 * no HTTP server in between.
 */
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { apiGatewayEvent, matchRoute } from '#infra/local/http-event.ts';
import { ROUTES } from '#shared/api/routes.ts';

export interface CallOptions {
  /** The caller: a subject (with MFA) or the full claims; none for an anonymous call. */
  as?: string | Record<string, unknown>;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface CallResult<T = unknown> {
  status: number;
  headers: Record<string, string>;
  body: T;
}

/**
 * The Authorization header of a request with these claims, as the function receives it behind the authorizer: the
 * function reads the exact list claims from it (the authorizer checked its signature, so this tier need not sign).
 */
export function authorizationOf(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `Bearer ${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.${part('not checked in this tier')}`;
}

type Handler = (event: APIGatewayProxyEventV2WithJWTAuthorizer) => Promise<APIGatewayProxyStructuredResultV2>;

const handlers = new Map<string, Handler>();

async function handlerOf(fn: string): Promise<Handler> {
  let h = handlers.get(fn);
  if (!h) {
    h = ((await import(`../../functions/api/${fn}.ts`)) as { handler: Handler }).handler;
    handlers.set(fn, h);
  }
  return h;
}

// biome-ignore lint/suspicious/noExplicitAny: test responses are read loosely; the assertions check their shape
export async function call<T = any>(
  method: string,
  pathAndQuery: string,
  opts: CallOptions = {},
): Promise<CallResult<T>> {
  const [rawPath = '', rawQueryString = ''] = pathAndQuery.split('?');
  const matched = matchRoute(ROUTES, method, rawPath);
  if (matched.kind !== 'match') throw new Error(`no route for ${method} ${rawPath}`);
  const { route, pathParameters } = matched.match;
  const claims = typeof opts.as === 'string' ? { sub: opts.as, amr: ['pwd', 'mfa'] } : opts.as;
  const body =
    opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  const event = apiGatewayEvent({
    routeKey: `${route.method} ${route.path}`,
    method,
    rawPath,
    rawQueryString,
    pathParameters,
    headers: {
      'content-type': 'application/json',
      ...(claims && { authorization: authorizationOf(claims) }),
      ...opts.headers,
    },
    ...(body !== undefined && { body }),
    ...(claims && { claims }),
    requestId: `test-${Math.random().toString(36).slice(2)}`,
    userAgent: 'vitest',
  });
  const out = await (await handlerOf(route.fn))(event);
  const text = out.body ?? '';
  return {
    status: out.statusCode ?? 200,
    headers: (out.headers ?? {}) as Record<string, string>,
    body: (text ? JSON.parse(text) : undefined) as T,
  };
}
