import { createHash, randomUUID } from 'node:crypto';
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type * as z from 'zod';
import { type OperationContract, successStatus } from '../api/contract/common.ts';
import type { Contract } from '../api/contract.ts';
import type { OperationsOf } from '../api/operations.ts';
import type { FunctionName, Route } from '../api/routes.ts';
import { routesOf } from '../api/routes.ts';
import { callerFromRequest } from '../auth/caller.ts';
import { type Deps, depsFromEnv } from '../deps.ts';
import { DomainError, forbidden, invalid } from '../domain/errors.ts';
import { isAdminAction, isGovernedOperation } from '../domain/gate.ts';
import { errorFields, type Log, withRequestLog } from '../log.ts';
import { isOverloaded } from '../retry.ts';
import { CallContext, type IdempotencyKey } from '../usecases/context.ts';
import { IdempotencyRace } from '../usecases/idempotency.ts';
import { claimOrReplay, releaseClaim, remembered } from './idempotency.ts';
import { fieldErrors, internalError, problem } from './problem.ts';

/**
 * The HTTP wrapper of every API function, a middy chain (`apiHandler`): route and caller → coarse authority gate of
 * the route table → parse and validate (strict zod schemas of the contract) → idempotency → the operation → response.
 * Typed domain errors become problem+json in one step; anything else is logged and is a 500.
 */
export interface Result {
  /** Absent: the operation's success status, as its contract gives it (`successStatus`). */
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface Input<Op extends keyof Contract> {
  ctx: CallContext;
  params: Out<Contract[Op] extends { params: infer S } ? S : undefined>;
  query: Out<Contract[Op] extends { query: infer S } ? S : undefined>;
  body: Out<Contract[Op] extends { body: infer S } ? S : undefined>;
}

/** A function's part of the contract (shared/api/contract/<fn>.ts): its operations' schemas, and only those. */
export type FunctionContract<F extends FunctionName> = Record<OperationsOf<F>, OperationContract>;

export type Operations<F extends FunctionName> = {
  [Op in OperationsOf<F>]: (input: Input<Op>) => Promise<Result>;
};

type Event = APIGatewayProxyEventV2WithJWTAuthorizer;
type Response = APIGatewayProxyStructuredResultV2;

const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,128}$/;

/** The operation's answer: with its contract's success status, unless `status` names another. */
export const ok = (body: unknown, status?: number): Result => (status === undefined ? { body } : { status, body });

/**
 * The API function of `fn`: a middy chain of named steps, each a thin wrapper over a function below or of the
 * use cases. Authority is checked before the input is validated (a caller who may not make a call learns that, not
 * what was malformed), so the order is: authenticate → readBody → gate → validateInput → idempotency → operation,
 * with problem+json and the request log around them (their onError/after run last).
 */
export function apiHandler<F extends FunctionName>(
  fn: F,
  contract: FunctionContract<F>,
  operations: Operations<F>,
  deps: () => Deps = depsFromEnv,
) {
  const routes = new Map(routesOf(fn).map((r) => [`${r.method} ${r.path}`, r]));
  const contracts = contract as Record<string, OperationContract>;
  // No early time-out answer from middy: a call that runs out of time ends as Lambda ends it, as before.
  const chain = middy<Event, Response, Error, ApiContext>({ timeoutEarlyInMillis: 0 })
    .use(requestLog())
    .use(problemJson())
    .use(authenticate(routes, contracts, deps))
    .use(readBody())
    .use(gate())
    .use(validateInput())
    .use(idempotency())
    .handler(operation(operations as Record<string, (i: unknown) => Promise<Result>>));
  return (event: Event, lambda?: Context): Promise<Response> => {
    const requestId = event.requestContext?.requestId ?? randomUUID();
    return withRequestLog(requestId, (log) => chain(event, callContext(lambda, newCall(requestId, log))));
  };
}

/** What the steps of one call share, carried on its Lambda context (`context.call`). */
export interface Call {
  requestId: string;
  started: number;
  log: Log;
  route?: Route;
  /** The route's operation contract (schemas, idempotency, success status). */
  contract?: OperationContract;
  ctx?: CallContext;
  /** The caller's name and e-mail being recorded (a change only); awaited before the call answers. */
  recording?: Promise<unknown>;
  raw: string;
  input?: { params: unknown; query: unknown; body: unknown };
  /**
   * A read's gate, still deciding: a GET's page is read at once beside the caller's authority (bench/README.md,
   * "reads behind a gate") and is used only once the gate has let the call through.
   */
  gate?: Promise<void>;
  /** The first call's response under the Idempotency-Key, when this call is its replay. */
  replayed?: Response;
  /** This call's claim on its Idempotency-Key, while it holds one. */
  claim?: string;
}

type ApiContext = Context & { call: Call };
type Step = MiddlewareObj<Event, Response, Error, ApiContext> & { name: string };

const newCall = (requestId: string, log: Log): Call => ({ requestId, started: performance.now(), log, raw: '' });

/** The invocation's context, with the call's state on top (the runtime's own object is left as it is). */
function callContext(lambda: Context | undefined, call: Call): ApiContext {
  return Object.assign(Object.create(lambda ?? null) as Context, { call });
}

/** The route, the caller and the call's CallContext are known after authenticate: a step after it may rely on them. */
function established(call: Call): { route: Route; contract: OperationContract; ctx: CallContext } {
  if (!call.route || !call.contract || !call.ctx) throw new Error('authenticate did not run before this step');
  return { route: call.route, contract: call.contract, ctx: call.ctx };
}

/** The route of the call and its caller (from the token the authorizer verified); a change records the caller. */
function authenticate(
  routes: Map<string, Route>,
  contracts: Record<string, OperationContract>,
  deps: () => Deps,
): Step {
  return {
    name: 'authenticate',
    before: ({ event, context: { call } }) => {
      const route = routes.get(event.routeKey);
      if (!route) throw new DomainError('NotFound', `no route ${event.routeKey}`);
      // The exact list claims come from the token of the Authorization header the authorizer verified.
      const caller = callerFromRequest(event.requestContext?.authorizer?.jwt?.claims, event.headers?.authorization);
      if (!caller) throw new DomainError('Unauthenticated', 'a valid bearer token with a subject is required');
      const contract = contracts[route.operationId];
      if (!contract) throw new Error(`no contract for ${route.operationId}`);
      const d = deps();
      call.route = route;
      call.contract = contract;
      call.ctx = new CallContext(d, caller, undefined, call.log);
      call.ctx.successStatus = successStatus(contract);
      // The caller's name and e-mail are recorded by calls that may change something, never by a read: the
      // functions that only serve GETs hold read-only table access (infra/constructs/api.ts TABLE_ACCESS).
      call.recording =
        route.method === 'GET'
          ? undefined
          : import('../usecases/principals.ts')
              .then(({ recordCaller }) => recordCaller(d, caller))
              .catch((error) =>
                call.log('warn', 'could not record caller', { callerId: caller.id, ...errorFields(error) }),
              );
    },
  };
}

/** The body as text, refused at once when it is larger than the service takes. */
function readBody(): Step {
  return {
    name: 'readBody',
    before: ({ event, context: { call } }) => {
      call.raw = rawBody(event, established(call).ctx.deps.config.maxBodyBytes);
    },
  };
}

/**
 * The route table's coarse authority gate (see `checkAuthority`). A change waits for it. A read (GET) does not: its
 * operation starts beside it, and `gated` answers the gate's refusal, never the page, when it refuses. Nothing leaks:
 * the refusal is the same 403, a read writes nothing, and the page read is waited for and dropped. A read's 400 (an
 * invalid query) also waits for the gate, so a caller without authority still learns only that it has none.
 */
function gate(): Step {
  return {
    name: 'gate',
    before: async ({ context: { call } }) => {
      const { ctx, route } = established(call);
      const decided = checkAuthority(ctx, route, call.raw);
      if (route.method !== 'GET') return decided;
      decided.catch(() => {}); // answered by `gated`, never an unhandled rejection
      call.gate = decided;
    },
  };
}

/** A read's operation, answered once the gate let it through; the gate's refusal (after the read settled) if not. */
async function gated<T>(call: Call, work: Promise<T>): Promise<T> {
  if (!call.gate) return work;
  // Handled from now on (a page that fails while the gate decides is no unhandled rejection); awaited below.
  work.catch(() => {});
  try {
    await call.gate;
  } catch (refusal) {
    await work.then(
      () => {},
      () => {},
    );
    throw refusal;
  }
  return work;
}

/** Path, query and body against the operation's strict zod schemas of the contract. */
function validateInput(): Step {
  return {
    name: 'validateInput',
    before: async ({ event, context: { call } }) => {
      const { contract } = established(call);
      try {
        call.input = parse(event, contract, call.raw);
      } catch (error) {
        // A read's gate, still deciding, answers first: a refused caller learns nothing of what it sent.
        if (call.gate) await call.gate;
        throw error;
      }
    },
  };
}

/**
 * Idempotency-Key (idempotency.ts): a call whose key already answered is answered the same; otherwise it claims
 * the key, and the operation's own transaction replaces the claim with its response (`CallContext.remember`). A claim the
 * call did not turn into a response is given up, whatever happened.
 */
function idempotency(): Step {
  const release = async (call: Call) => {
    const claim = call.claim;
    call.claim = undefined;
    const key = call.ctx?.idempotency;
    if (claim && key && call.ctx) await releaseClaim(call.ctx, key.key, claim);
  };
  return {
    name: 'idempotency',
    before: async ({ event, context: { call } }) => {
      const { ctx, route, contract } = established(call);
      const key = idempotencyOf(event, contract, route.method);
      ctx.idempotency = key;
      if (!key) return;
      const held = await claimOrReplay(ctx, key.key, key.fingerprint);
      if ('response' in held) call.replayed = held.response;
      else call.claim = key.claim = held.claim;
    },
    after: async ({ context: { call } }) => {
      if (call.claim && !established(call).ctx.remembered) await release(call);
      call.claim = undefined;
    },
    onError: async (request) => {
      const { call } = request.context;
      const key = call.ctx?.idempotency;
      try {
        if (request.error instanceof IdempotencyRace && key && call.ctx) {
          // The claim was lost (its lease ran out) and another call answered: answer what it answered.
          request.response =
            (await remembered(call.ctx, key.key, key.fingerprint)) ??
            problem(new DomainError('Conflict', 'a request with this Idempotency-Key is in progress; retry'), {
              'retry-after': '1',
            });
        }
        await release(call);
      } catch (error) {
        request.response = null;
        request.error = error as Error;
      }
    },
  };
}

/** The operation (or, with governance.requireSecondAdmin, a governed change proposed instead: 202). */
function operation(operations: Record<string, (i: unknown) => Promise<Result>>) {
  return async (event: Event, { call }: ApiContext): Promise<Response> => {
    if (call.replayed) return call.replayed;
    const { ctx, route } = established(call);
    const run = operations[route.operationId];
    if (!run) throw new DomainError('NotFound', `no operation ${route.operationId}`);
    // The governance use case (and the change graph it reaches: requests, provisioning) is loaded by the first
    // governed call, not at cold start: most functions never make one (bench/README.md, cold init).
    const proposal = isGovernedOperation(route.operationId)
      ? await (await import('../usecases/governance.ts')).proposeIfGoverned(ctx, {
          operationId: route.operationId,
          method: route.method,
          path: event.rawPath ?? route.path,
          params: (event.pathParameters ?? {}) as Record<string, string>,
          ...(event.queryStringParameters ? { query: event.queryStringParameters as Record<string, string> } : {}),
          body: jsonOf(call.raw),
        })
      : null;
    const result = proposal
      ? { status: 202, body: proposal }
      : await gated(call, (async () => run({ ctx, ...call.input }))());
    return toResponse({ ...result, status: result.status ?? ctx.successStatus });
  };
}

/**
 * Every error becomes problem+json here, in one place: a typed domain error its own status; AWS saying "not now"
 * past the SDK's retries a 503 (nothing was written); anything else is logged and is a 500 naming the request id.
 */
function problemJson(): Step {
  return {
    name: 'problemJson',
    onError: (request) => {
      if (request.response) return; // a later step answered the error itself
      const { call } = request.context;
      const error = request.error;
      const route = request.event.routeKey;
      if (error instanceof DomainError) request.response = problem(error);
      else if (isOverloaded(error)) {
        call.log('warn', 'a dependency is overloaded', { route, ...errorFields(error) });
        request.response = problem(
          new DomainError('Unavailable', 'the service is busy; nothing was changed; retry in a moment'),
          { 'retry-after': '1' },
        );
      } else {
        call.log('error', 'unhandled error', { route, ...errorFields(error) });
        request.response = internalError(call.requestId);
      }
    },
  };
}

/** Outermost: waits for the caller's record (a Lambda never freezes with the write half done), logs the call. */
function requestLog(): Step {
  const done = async ({ event, response, context: { call } }: Parameters<NonNullable<Step['after']>>[0]) => {
    await call.recording;
    call.log('debug', 'request', {
      route: event.routeKey,
      status: response?.statusCode,
      callerId: call.ctx?.caller.id,
      ms: Math.round(performance.now() - call.started),
    });
  };
  return { name: 'requestLog', after: done, onError: done };
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
async function checkAuthority(ctx: CallContext, route: Route, raw: string): Promise<void> {
  const { access, operationId, method } = route;
  const change = method !== 'GET';
  const adminAction = adminActionOf(operationId, raw);
  try {
    if (access === 'admin' || adminAction) {
      // A change also needs the settings (MFA): read beside the authority (one round trip), used once it is known.
      if (change) ctx.settings().catch(() => {});
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
  return typeof action === 'string' && isAdminAction(action) ? action : null;
}

async function auditRefusal(
  ctx: CallContext,
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
