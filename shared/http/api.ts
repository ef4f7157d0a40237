import { createHash, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type * as z from 'zod';
import type { FunctionName } from '../../functions/api/routes.ts';
import { routesOf } from '../../functions/api/routes.ts';
import { CONTRACT, type Contract, type OperationContract } from '../api/contract.ts';
import type { OperationId, OperationsOf } from '../api/operations.ts';
import { type Caller, callerFromRequest } from '../auth/caller.ts';
import { type Deps, depsFromEnv } from '../deps.ts';
import { DomainError, forbidden, invalid } from '../domain/errors.ts';
import { IdempotencyRace } from '../store/records.ts';
import { Ctx, type IdempotencyKey } from '../usecases/context.ts';
import { recordCaller } from '../usecases/principals.ts';
import { claimOrReplay, releaseClaim, remembered } from './idempotency.ts';
import { errorFields, log, withLogContext } from './log.ts';
import { fieldErrors, internalError, problem } from './problem.ts';

/**
 * The HTTP wrapper of every API function: route → caller → parse and validate (strict zod schemas of
 * the contract) → coarse authority gate of the route table → idempotency → the operation → response.
 * Typed domain errors become problem+json here, in one place; anything else is logged and is a 500.
 */
export interface Result {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface Input<Op extends keyof Contract> {
  ctx: Ctx;
  params: Out<Contract[Op] extends { params: infer S } ? S : undefined>;
  query: Out<Contract[Op] extends { query: infer S } ? S : undefined>;
  body: Out<Contract[Op] extends { body: infer S } ? S : undefined>;
}

export type Operations<F extends FunctionName> = {
  [Op in OperationsOf<F>]: (input: Input<Op>) => Promise<Result>;
};

type Event = APIGatewayProxyEventV2WithJWTAuthorizer;
type Response = APIGatewayProxyStructuredResultV2;

const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,128}$/;

export const ok = (body: unknown, status = 200): Result => ({ status, body });

export function apiHandler<F extends FunctionName>(fn: F, operations: Operations<F>, deps: () => Deps = depsFromEnv) {
  const routes = new Map(routesOf(fn).map((r) => [`${r.method} ${r.path}`, r]));
  return (event: Event): Promise<Response> =>
    withLogContext({ requestId: event.requestContext?.requestId ?? randomUUID() }, () => handle(event));
  async function handle(event: Event): Promise<Response> {
    const started = performance.now();
    const requestId = event.requestContext?.requestId ?? randomUUID();
    const route = routes.get(event.routeKey);
    let response: Response;
    let callerId: string | undefined;
    try {
      if (!route) throw new DomainError('NotFound', `no route ${event.routeKey}`);
      // The exact list claims come from the token of the Authorization header the authorizer verified.
      const caller = callerFromRequest(event.requestContext?.authorizer?.jwt?.claims, event.headers?.authorization);
      if (!caller) throw new DomainError('Unauthenticated', 'a valid bearer token with a subject is required');
      callerId = caller.id;
      const contract: OperationContract = CONTRACT[route.operationId as OperationId];
      const d = deps();
      const input = parse(event, contract, d.config.maxBodyBytes);
      const idempotency = idempotencyOf(event, contract, route.method);
      const ctx = new Ctx(d, caller, idempotency);
      // The caller's name and e-mail are recorded by calls that may change something, never by a read: the
      // functions that only serve GETs hold read-only table access (infra/constructs/api.ts TABLE_ACCESS).
      const recording =
        route.method === 'GET'
          ? undefined
          : recordCaller(d, caller).catch((error) =>
              log('warn', 'could not record caller', { callerId, ...errorFields(error) }),
            );
      await gate(ctx, route.access, route.operationId, route.method);
      const held = idempotency && (await claimOrReplay(ctx, idempotency.key, idempotency.fingerprint));
      if (held && 'response' in held) {
        response = held.response;
      } else {
        const operation = (operations as Record<string, (i: unknown) => Promise<Result>>)[route.operationId];
        if (!operation) throw new DomainError('NotFound', `no operation ${route.operationId}`);
        if (held && idempotency) idempotency.claim = held.claim;
        let kept = false;
        try {
          response = toResponse(await operation({ ctx, ...input }));
          kept = ctx.remembered;
        } catch (error) {
          if (!(error instanceof IdempotencyRace) || !idempotency) throw error;
          // The claim was lost (its lease ran out) and another call answered: answer what it answered.
          response =
            (await remembered(ctx, idempotency.key, idempotency.fingerprint)) ??
            problem(new DomainError('Conflict', 'a request with this Idempotency-Key is in progress; retry'), {
              'retry-after': '1',
            });
        } finally {
          if (held && idempotency && !kept) await releaseClaim(ctx, idempotency.key, held.claim);
        }
      }
      await recording;
    } catch (error) {
      if (error instanceof DomainError) response = problem(error);
      else if (isOverloaded(error)) {
        // AWS said "not now" past the SDK's own retries: nothing was written, and a later retry will do.
        log('warn', 'a dependency is overloaded', { requestId, route: event.routeKey, ...errorFields(error) });
        response = problem(
          new DomainError('Unavailable', 'the service is busy; nothing was changed; retry in a moment'),
          { 'retry-after': '1' },
        );
      } else {
        log('error', 'unhandled error', { requestId, route: event.routeKey, ...errorFields(error) });
        response = internalError(requestId);
      }
    }
    log('debug', 'request', {
      requestId,
      route: event.routeKey,
      status: response.statusCode,
      callerId,
      ms: Math.round(performance.now() - started),
    });
    return response;
  }
}

const OVERLOADED = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
]);

/** An AWS error that means "too busy now" (throttling, 503): the caller should retry, not report a bug. */
function isOverloaded(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return OVERLOADED.has(error.name) || status === 503;
}

function parse(event: Event, contract: OperationContract, maxBodyBytes: number) {
  const params = validate(contract.params, event.pathParameters ?? {}, 'path');
  const query = validate(contract.query, event.queryStringParameters ?? {}, 'query');
  let body: unknown;
  const raw = event.body
    ? event.isBase64Encoded
      ? Buffer.from(event.body, 'base64').toString('utf8')
      : event.body
    : '';
  if (Buffer.byteLength(raw) > maxBodyBytes) {
    throw new DomainError('PayloadTooLarge', `the body is larger than ${maxBodyBytes} bytes`);
  }
  if (contract.body) {
    const type = event.headers?.['content-type'];
    if (type && !/^application\/(.+\+)?json\b/i.test(type)) {
      throw new DomainError('UnsupportedMediaType', 'send the body as application/json');
    }
    if (!raw.trim()) throw invalid('a JSON body is required', [{ path: 'body', message: 'required' }]);
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw invalid('the body is not valid JSON', [{ path: 'body', message: 'invalid JSON' }]);
    }
    body = validate(contract.body, json, '');
  } else if (raw.trim() && raw.trim() !== '{}') {
    throw invalid('this operation takes no body', [{ path: 'body', message: 'not allowed' }]);
  }
  return { params, query, body };
}

function validate(schema: z.ZodType | undefined, value: unknown, where: string): unknown {
  if (!schema) {
    if (where === 'query' && value && Object.keys(value).length > 0) {
      throw invalid(
        'this operation takes no query parameters',
        Object.keys(value).map((k) => ({ path: `query.${k}`, message: 'unknown parameter' })),
      );
    }
    return undefined;
  }
  const result = schema.safeParse(value);
  if (!result.success) throw invalid(`the ${where || 'body'} is not valid`, fieldErrors(result.error.issues, where));
  return result.data;
}

async function gate(ctx: Ctx, access: string, operationId: string, method: string): Promise<void> {
  const authority = access === 'admin' || access === 'reader' ? await ctx.authority() : undefined;
  const allowed =
    access === 'admin' ? authority?.admin : access === 'reader' ? authority?.admin || authority?.auditor : true;
  if (allowed) return;
  const needs =
    access === 'admin' ? 'an active elevate-admin assignment' : 'an active elevate-admin or elevate-auditor assignment';
  const refusal = forbidden(`this operation needs ${needs}`);
  if (method !== 'GET') {
    // A refused change is audited like any other refusal; refused reads are not (they change nothing).
    await ctx.store.transact([
      ctx.audit('authorization.refused', { principalId: ctx.caller.id }, { operationId, code: refusal.code }),
    ]);
  }
  throw refusal;
}

function idempotencyOf(event: Event, contract: OperationContract, method: string): IdempotencyKey | undefined {
  const key = event.headers?.['idempotency-key'];
  if (key === undefined || !contract.idempotent || method !== 'POST') return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw invalid('Idempotency-Key is 1-128 letters, digits and ._:-', [
      { path: 'headers.idempotency-key', message: 'invalid' },
    ]);
  }
  const fingerprint = createHash('sha256')
    .update(`${event.routeKey}\n${event.body ?? ''}`)
    .digest('hex');
  return { key, fingerprint };
}

function toResponse(result: Result): Response {
  if (result.body === undefined) return { statusCode: result.status, headers: result.headers ?? {} };
  return {
    statusCode: result.status,
    headers: { 'content-type': 'application/json', ...result.headers },
    body: JSON.stringify(result.body),
  };
}

export type { Caller };
