import { createHash, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type * as z from 'zod';
import type { FunctionName, Route } from '../../functions/api/routes.ts';
import { routesOf } from '../../functions/api/routes.ts';
import { CONTRACT, type Contract, type OperationContract, successStatus } from '../api/contract.ts';
import type { OperationId, OperationsOf } from '../api/operations.ts';
import { callerFromRequest } from '../auth/caller.ts';
import { type Deps, depsFromEnv } from '../deps.ts';
import { DomainError, forbidden, invalid } from '../domain/errors.ts';
import { isGovernedOperation } from '../domain/governance.ts';
import { IdempotencyRace } from '../store/records.ts';
import { Ctx, type IdempotencyKey } from '../usecases/context.ts';
import { proposeIfGoverned } from '../usecases/governance.ts';
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
  /** Absent: the operation's success status, as its contract gives it (`successStatus`). */
  status?: number;
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

/** The operation's answer: with its contract's success status, unless `status` names another. */
export const ok = (body: unknown, status?: number): Result => (status === undefined ? { body } : { status, body });

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
    // Awaited whatever the answer, so a Lambda never freezes with the write half done.
    let recording: Promise<unknown> | undefined;
    try {
      if (!route) throw new DomainError('NotFound', `no route ${event.routeKey}`);
      // The exact list claims come from the token of the Authorization header the authorizer verified.
      const caller = callerFromRequest(event.requestContext?.authorizer?.jwt?.claims, event.headers?.authorization);
      if (!caller) throw new DomainError('Unauthenticated', 'a valid bearer token with a subject is required');
      callerId = caller.id;
      const contract: OperationContract = CONTRACT[route.operationId as OperationId];
      const d = deps();
      const ctx = new Ctx(d, caller);
      ctx.successStatus = successStatus(contract);
      // The caller's name and e-mail are recorded by calls that may change something, never by a read: the
      // functions that only serve GETs hold read-only table access (infra/constructs/api.ts TABLE_ACCESS).
      recording =
        route.method === 'GET'
          ? undefined
          : recordCaller(d, caller).catch((error) =>
              log('warn', 'could not record caller', { callerId, ...errorFields(error) }),
            );
      // Authority first: a caller who may not make this call learns that (403, audited), not what was malformed.
      const raw = rawBody(event, d.config.maxBodyBytes);
      await gate(ctx, route, raw);
      const input = parse(event, contract, raw);
      const idempotency = idempotencyOf(event, contract, route.method);
      ctx.idempotency = idempotency;
      const held = idempotency && (await claimOrReplay(ctx, idempotency.key, idempotency.fingerprint));
      if (held && 'response' in held) {
        response = held.response;
      } else {
        const operation = (operations as Record<string, (i: unknown) => Promise<Result>>)[route.operationId];
        if (!operation) throw new DomainError('NotFound', `no operation ${route.operationId}`);
        if (held && idempotency) idempotency.claim = held.claim;
        let kept = false;
        try {
          // With governance.requireSecondAdmin, a governed change becomes a pending change (202) instead.
          const proposal = isGovernedOperation(route.operationId)
            ? await proposeIfGoverned(ctx, {
                operationId: route.operationId,
                method: route.method,
                path: event.rawPath ?? route.path,
                params: (event.pathParameters ?? {}) as Record<string, string>,
                body: jsonOf(raw),
              })
            : null;
          const result = proposal ? { status: 202, body: proposal } : await operation({ ctx, ...input });
          response = toResponse({ ...result, status: result.status ?? ctx.successStatus });
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
    await recording;
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

/** The body as text, refused at once when it is larger than the service takes. */
function rawBody(event: Event, maxBodyBytes: number): string {
  const raw = event.body
    ? event.isBase64Encoded
      ? Buffer.from(event.body, 'base64').toString('utf8')
      : event.body
    : '';
  if (Buffer.byteLength(raw) > maxBodyBytes) {
    throw new DomainError('PayloadTooLarge', `the body is larger than ${maxBodyBytes} bytes`);
  }
  return raw;
}

/** The body's JSON when it is JSON, else undefined (for looks before validation). */
function jsonOf(raw: string): unknown {
  try {
    return raw.trim() ? JSON.parse(raw) : undefined;
  } catch {
    return undefined;
  }
}

function parse(event: Event, contract: OperationContract, raw: string) {
  const params = validate(contract.params, event.pathParameters ?? {}, 'path');
  const query = validate(contract.query, event.queryStringParameters ?? {}, 'query');
  let body: unknown;
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

/**
 * The route table's coarse gate, before anything of the call is validated. An admin route needs an active
 * elevate-admin and, for a change, MFA (governance.adminMfa); a reader route elevate-admin or elevate-auditor. An
 * admin action of POST /v1/requests is held to the admin rule here too, so a non-admin's malformed admin request is
 * refused for its authority. A refused change is audited like any other refusal; refused reads are not.
 */
async function gate(ctx: Ctx, route: Route, raw: string): Promise<void> {
  const { access, operationId, method } = route;
  const change = method !== 'GET';
  const adminAction = adminActionOf(operationId, raw);
  try {
    if (access === 'admin' || adminAction) {
      if (!(await ctx.authority()).admin) throw forbidden('this operation needs an active elevate-admin assignment');
      if (change) await ctx.requireAdminMfa(`this ${adminAction ? `'${adminAction}' request` : 'change'}`);
    } else if (access === 'reader' && !(await ctx.isReader())) {
      throw forbidden('this operation needs an active elevate-admin or elevate-auditor assignment');
    }
  } catch (refusal) {
    if (change && refusal instanceof DomainError) await auditRefusal(ctx, operationId, raw, adminAction, refusal);
    throw refusal;
  }
}

/** `adminAssign`, ... when the call is a POST /v1/requests of an admin action (read from the raw JSON), else null. */
function adminActionOf(operationId: string, raw: string): string | null {
  if (operationId !== 'createRequest') return null;
  const action = (jsonOf(raw) as { action?: unknown } | undefined)?.action;
  return typeof action === 'string' && action.startsWith('admin') ? action : null;
}

async function auditRefusal(
  ctx: Ctx,
  operationId: string,
  raw: string,
  adminAction: string | null,
  refusal: DomainError,
) {
  if (!adminAction) {
    await ctx.store.transact([
      ctx.audit('authorization.refused', { principalId: ctx.caller.id }, { operationId, code: refusal.code }),
    ]);
    return;
  }
  // A refused request leaves its request.refused event, as createRequest's own refusals do (none for validateOnly).
  const body = (jsonOf(raw) ?? {}) as Record<string, unknown>;
  if (body.validateOnly === true) return;
  const text = (v: unknown) => (typeof v === 'string' && v.length <= 1024 ? v : null);
  await ctx.store.transact([
    ctx.audit(
      'request.refused',
      {
        principalId: text(body.principalId) ?? ctx.caller.id,
        roleId: text(body.roleId),
        scope: text(body.scope) ?? '/',
      },
      {
        action: adminAction,
        assignmentType: text(body.assignmentType),
        code: refusal.code,
        status: refusal.status,
        detail: refusal.message,
      },
    ),
  ]);
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

function toResponse(result: Result & { status: number }): Response {
  if (result.body === undefined) return { statusCode: result.status, headers: result.headers ?? {} };
  return {
    statusCode: result.status,
    headers: { 'content-type': 'application/json', ...result.headers },
    body: JSON.stringify(result.body),
  };
}
