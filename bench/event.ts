/**
 * API Gateway v2 events for the bench, built the way test/support/invoke.ts builds them (same route table,
 * same claim stringification), but split in two: the event is built before the timer starts and the
 * handler is called inside it, so a figure is the handler's time only.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type FunctionName, ROUTES } from '#functions/api/routes.ts';
import { matchRoute, queryParameters, stringifyClaims } from '#infra/local/http-event.ts';
import { ensureTable } from '#infra/local/table.ts';
import { authorizationOf } from '#test/support/invoke.ts';

export type ApiEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type Handler = (event: ApiEvent) => Promise<APIGatewayProxyStructuredResultV2>;

export interface Built {
  fn: FunctionName;
  event: ApiEvent;
}

let requests = 0;

/** The event API Gateway sends for `method pathAndQuery` by `as` (a subject signed in with MFA). */
export function apiEvent(method: string, pathAndQuery: string, opts: { as?: string; body?: unknown } = {}): Built {
  const [rawPath = '', rawQueryString = ''] = pathAndQuery.split('?');
  const matched = matchRoute(ROUTES, method, rawPath);
  if (matched.kind !== 'match') throw new Error(`no route for ${method} ${rawPath}`);
  const { route, pathParameters } = matched.match;
  const raw = opts.as ? { sub: opts.as, amr: ['pwd', 'mfa'] } : undefined;
  const claims = raw ? stringifyClaims(raw) : undefined;
  const routeKey = `${route.method} ${route.path}`;
  const event = {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    headers: { 'content-type': 'application/json', ...(raw && { authorization: authorizationOf(raw) }) },
    queryStringParameters: queryParameters(rawQueryString),
    pathParameters: Object.keys(pathParameters).length > 0 ? pathParameters : undefined,
    requestContext: {
      requestId: `bench-${++requests}`,
      routeKey,
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'elevate-bench' },
      ...(claims && { authorizer: { jwt: { claims, scopes: null } } }),
    },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    isBase64Encoded: false,
  };
  // The bench sends only what API Gateway sends to these routes; @types/aws-lambda marks more fields as
  // required (accountId, stage, ...) that the handlers never read.
  return { fn: route.fn, event: event as unknown as ApiEvent };
}

const handlers = new Map<FunctionName, Handler>();

/** The handler of functions/api/<fn>.ts, loaded once (as the Lambda runtime does per container). */
export async function handlerOf(fn: FunctionName): Promise<Handler> {
  const known = handlers.get(fn);
  if (known) return known;
  const mod: { handler?: unknown } = await import(`#functions/api/${fn}.ts`);
  if (typeof mod.handler !== 'function') throw new Error(`functions/api/${fn}.ts exports no handler`);
  const handler = mod.handler as Handler;
  handlers.set(fn, handler);
  return handler;
}

/** Calls the handler once; the parsed JSON body and the status (no timing here). */
export async function invoke(built: Built): Promise<{ status: number; body: unknown }> {
  const out = await (await handlerOf(built.fn))(built.event);
  const text = out.body ?? '';
  return { status: out.statusCode ?? 200, body: text ? (JSON.parse(text) as unknown) : undefined };
}

/**
 * A fresh table in a DynamoDB Local for a bench: the environment the handlers read points at it, and a raw
 * client of the bench's own (its calls are not counted in Store.stats) is returned for the floors.
 */
export async function benchTable(
  endpoint: string,
  prefix: string,
  region = 'us-east-1',
): Promise<{ tableName: string; raw: DynamoDBClient }> {
  const tableName = `${prefix}-${randomUUID()}`;
  Object.assign(process.env, {
    TABLE_NAME: tableName,
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
  const raw = new DynamoDBClient({ endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await ensureTable(raw, tableName);
  return { tableName, raw };
}
