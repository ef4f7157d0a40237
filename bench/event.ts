/**
 * API Gateway v2 events for the bench, built by the one builder (infra/local/http-event.ts apiGatewayEvent, same route table,
 * same claim stringification), but split in two: the event is built before the timer starts and the
 * handler is called inside it, so a figure is the handler's time only.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { apiGatewayEvent, matchRoute } from '#infra/local/http-event.ts';
import { ensureTable } from '#infra/local/table.ts';
import { type FunctionName, ROUTES } from '#shared/api/routes.ts';
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
  const event = apiGatewayEvent({
    routeKey: `${route.method} ${route.path}`,
    method,
    rawPath,
    rawQueryString,
    pathParameters,
    headers: { 'content-type': 'application/json', ...(raw && { authorization: authorizationOf(raw) }) },
    ...(opts.body !== undefined && { body: JSON.stringify(opts.body) }),
    ...(raw && { claims: raw }),
    requestId: `bench-${++requests}`,
    userAgent: 'elevate-bench',
  });
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
