/**
 * The local runtime's one HTTP port: what API Gateway (HTTP API + JWT authorizer) does in front of the API functions,
 * the `/_local` controls (controls.ts), and the AWS stand-ins the handlers' SDK clients reach on the same port
 * (Step Functions, SES, EventBridge, Lambda Invoke, Identity Center). Each request goes to the first of them that
 * takes it. Never deployed.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { ROUTES, type Route, routeKey, withoutToken } from '#shared/api/routes.ts';
import { bearerToken } from '#shared/auth/caller.ts';
import { clock } from '#shared/clock.ts';
import {
  eventsRequest,
  isEventsRequest,
  isSesGetAccount,
  isSesSendEmail,
  type SesFeedback,
  sesGetAccount,
  sesSendEmail,
} from './aws-standins.ts';
import { isConsolePath, serveConsole } from './console.ts';
import { type LocalRuntimeControls, routeLocal } from './controls.ts';
import { type LocalFunctions, lambdaContext } from './functions.ts';
import { buildEvent, type HttpResult, matchRoute, toHttpResult } from './http-event.ts';
import { LocalIdentityCenter } from './identity-center.ts';
import { type LocalIssuer, UnauthenticatedError } from './issuer.ts';
import * as oidc from './oidc.ts';
import { notFound, problemResult, readBody } from './results.ts';
import { isSfnRequest } from './stepfunctions/endpoint.ts';

/** What the HTTP port reaches of the runtime behind it (each part is there once the runtime started). */
export interface HttpRuntime {
  /** Resolves true once every phase started, false when the start failed. */
  readonly started: Promise<boolean>;
  /** The port the runtime listens on (API Gateway's event names it). */
  readonly port: number;
  readonly region: string;
  /** Log one line per request. */
  readonly log: boolean;
  functions(): LocalFunctions;
  issuer(): LocalIssuer;
  identityCenter(): LocalIdentityCenter | undefined;
  /** The Step Functions API of the workflow runner. */
  stepFunctions(): ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  /** Runs work after the answer, as an asynchronous Lambda invoke does; `idle()` and `stop()` wait for it. */
  inBackground(what: string, work: () => Promise<unknown>): void;
  /** The `/_local` controls' view of the runtime, except `authorize`, which this module provides. */
  readonly controls: Omit<LocalRuntimeControls, 'authorize'>;
}

/** A request as the runtime's routing sees it: method, path and query split, the body read. */
interface Incoming {
  readonly req: IncomingMessage;
  readonly method: string;
  readonly rawPath: string;
  readonly rawQueryString: string;
  readonly body: Buffer;
}

/** One AWS API (or the controls) answered on the runtime's port. */
interface StandIn {
  takes(runtime: HttpRuntime, request: Incoming): boolean;
  answer(runtime: HttpRuntime, request: Incoming): Promise<HttpResult> | HttpResult;
}

type ApiHandler = (
  event: APIGatewayProxyEventV2WithJWTAuthorizer,
  context: Context,
) => Promise<APIGatewayProxyResultV2<unknown>>;

const LAMBDA_INVOKE = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/** The API answers being sent, per runtime: settled once each response is written out. */
const answering = new WeakMap<HttpRuntime, Set<Promise<void>>>();

/**
 * Lambda Invoke (InvocationType Event): the function runs in-process after the answer. A scheduled job's (the
 * exports function starting an export job) at once; an API function's own (Slack's interactions function handing a
 * modal submission to its asynchronous run) once the API answers in flight at the invoke have been sent, so that,
 * as in AWS, the caller gets its answer without waiting for the work.
 */
function invokeLater(runtime: HttpRuntime, { rawPath, body }: Incoming): HttpResult {
  const name = decodeURIComponent(LAMBDA_INVOKE.exec(rawPath)?.[1] ?? '');
  const payload = body.length ? JSON.parse(body.toString('utf8')) : {};
  const api = /^elevate-local-([a-z-]+)$/.exec(name)?.[1];
  if (api) {
    const before = [...(answering.get(runtime) ?? [])];
    runtime.inBackground(name, async () => {
      await Promise.allSettled(before);
      const handler = (await loadHandler(api)) as unknown as (event: unknown, context: Context) => Promise<unknown>;
      return runtime
        .functions()
        .run(`functions/api/${api}.ts`, name, () =>
          handler(payload, lambdaContext(name, randomUUID(), runtime.region)),
        );
    });
  } else {
    runtime.inBackground(name, () => runtime.functions().invokeScheduled(name, payload));
  }
  return { status: 202, headers: { 'x-amzn-requestid': randomUUID() }, body: Buffer.alloc(0) };
}

/** An SES bounce or complaint: the mail feedback function runs after the send's answer, as the rule's target. */
function deliverMailFeedback(runtime: HttpRuntime): (event: SesFeedback) => void {
  return (event) =>
    runtime.inBackground('elevate-mail-feedback', async () => {
      await new Promise((r) => setImmediate(r));
      return runtime.functions().invokeMailFeedback(event);
    });
}

/** API Gateway's JWT authorizer: the verified claims, or the 401 it would answer. */
async function authorize(
  runtime: HttpRuntime,
  req: IncomingMessage,
): Promise<{ claims: Record<string, unknown> } | HttpResult> {
  const unauthenticated = (detail: string) =>
    problemResult({ code: 'Unauthenticated', detail, headers: { 'www-authenticate': 'Bearer' } });
  const token = bearerToken(req.headers.authorization);
  if (!token) return unauthenticated('send Authorization: Bearer <token>');
  try {
    const claims = await runtime.issuer().verify(token);
    // Every principal that gets a token from the local issuer is a user of the local Identity Center.
    if (typeof claims.sub === 'string') {
      runtime.identityCenter()?.ensureUser(claims.sub, typeof claims.email === 'string' ? claims.email : null);
    }
    return { claims };
  } catch (error) {
    if (error instanceof UnauthenticatedError) return unauthenticated(error.message);
    throw error;
  }
}

/** The API functions' handlers, each module loaded on its first request. */
const handlers = new Map<string, Promise<ApiHandler>>();

function loadHandler(fn: string): Promise<ApiHandler> {
  let loading = handlers.get(fn);
  if (!loading) {
    // A plain specifier (not a template literal) so Vite's dynamic-import-vars does not freeze the file list at
    // transform time under vitest; Node and Vite both resolve the #functions alias.
    const specifier = `#functions/api/${fn}.ts`;
    loading = import(/* @vite-ignore */ specifier).then((mod: { handler?: unknown }) => {
      if (typeof mod.handler !== 'function') throw new Error(`functions/api/${fn}.ts exports no handler`);
      return mod.handler as ApiHandler;
    });
    loading.catch(() => handlers.delete(fn));
    handlers.set(fn, loading);
  }
  return loading;
}

/** What API Gateway and the API function answer a request to the API. */
async function api(runtime: HttpRuntime, { req, method, rawPath, rawQueryString, body }: Incoming) {
  const matched = matchRoute<Route>(ROUTES, method, rawPath);
  // API Gateway answers 404 both for an unknown path and for a known path with another method
  // (there is no route for that method+path); the local runtime does the same, so no 405 here.
  if (matched.kind === 'none' || matched.kind === 'wrongMethod') return notFound(`no route ${method} ${rawPath}`);
  if (matched.kind === 'badEncoding') return notFound(`the path ${rawPath} has a malformed percent-encoding`);
  const { route, pathParameters } = matched.match;

  let claims: Record<string, unknown> | undefined;
  if (!withoutToken(route)) {
    const auth = await authorize(runtime, req);
    if ('status' in auth) return auth;
    claims = auth.claims;
  }

  const requestId = randomUUID();
  const event = buildEvent({
    req,
    routeKey: routeKey(route),
    rawPath,
    rawQueryString,
    pathParameters,
    body,
    claims,
    requestId,
    now: clock().now(),
    port: runtime.port,
  });
  const handler = await loadHandler(route.fn);
  const functionName = `elevate-local-${route.fn}`;
  const result = await runtime
    .functions()
    .run(`functions/api/${route.fn}.ts`, functionName, () =>
      handler(event, lambdaContext(functionName, requestId, runtime.region)),
    );
  const http = toHttpResult(result);
  http.headers['apigw-requestid'] = requestId;
  return http;
}

/** The AWS stand-ins (SigV4-signed by the SDK; the signature is not checked), the controls, then the API. */
const STAND_INS: readonly StandIn[] = [
  { takes: (_, { req }) => isEventsRequest(req), answer: (_, { req, body }) => eventsRequest(req, body) },
  {
    takes: (runtime, { req }) => runtime.identityCenter() !== undefined && LocalIdentityCenter.handles(req),
    answer: (runtime, { req, body }) => (runtime.identityCenter() as LocalIdentityCenter).request(req, body),
  },
  {
    takes: (_, { method, rawPath }) => isSesSendEmail(method, rawPath),
    answer: (runtime, { body }) => sesSendEmail(body, deliverMailFeedback(runtime), runtime.region),
  },
  { takes: (_, { method, rawPath }) => isSesGetAccount(method, rawPath), answer: () => sesGetAccount() },
  { takes: (_, { method, rawPath }) => method === 'POST' && LAMBDA_INVOKE.test(rawPath), answer: invokeLater },
  // The web console's sign-in at the local issuer (authorization code with PKCE, oidc.ts).
  {
    takes: (_, { method, rawPath }) => rawPath === oidc.AUTHORIZE_PATH && (method === 'GET' || method === 'POST'),
    answer: (runtime, { req, method, rawQueryString, body }) =>
      oidc.authorize(req, method, rawQueryString, body, runtime.port),
  },
  {
    takes: (_, { method, rawPath }) => rawPath === oidc.TOKEN_PATH && method === 'POST',
    answer: (runtime, { body }) => oidc.token(runtime.issuer(), body),
  },
  {
    takes: (_, { rawPath }) => rawPath === '/_local' || rawPath.startsWith('/_local/'),
    answer: (runtime, { req, method, rawPath, body }) =>
      routeLocal(
        { ...runtime.controls, authorize: (r) => authorize(runtime, r) },
        { req, method, path: rawPath, body },
      ),
  },
  // The web console at `/` for its own paths (console.ts); every other path is the API's (404 when none).
  {
    takes: (_, { method, rawPath }) => isConsolePath(method, rawPath),
    answer: (_, { rawPath }) => serveConsole(rawPath),
  },
  { takes: () => true, answer: api },
];

async function handle(runtime: HttpRuntime, req: IncomingMessage): Promise<HttpResult> {
  const method = (req.method ?? 'GET').toUpperCase();
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQueryString = q < 0 ? '' : url.slice(q + 1);
  const body = await readBody(req);
  if (body === 'tooLarge') {
    return problemResult({ code: 'PayloadTooLarge', detail: 'the request body is over 10 MB' });
  }
  // The port is reserved, not accepting, until the runtime started; this guards a start that failed after it listened.
  if (!(await runtime.started)) {
    return problemResult({ code: 'Unavailable', detail: 'the local runtime failed to start' });
  }
  const request: Incoming = { req, method, rawPath, rawQueryString, body };
  const standIn = STAND_INS.find((s) => s.takes(runtime, request)) as StandIn;
  return standIn.answer(runtime, request);
}

/** Step Functions API calls (the handlers' SFNClient): the endpoint reads the body itself. */
function stepFunctionsRequest(runtime: HttpRuntime, req: IncomingMessage, res: ServerResponse): void {
  runtime.started.then((ok) => {
    const sfn = runtime.stepFunctions();
    if (ok && sfn) sfn(req, res);
    else {
      res.writeHead(503, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: 'ServiceUnavailable', message: 'the local runtime failed to start' }));
    }
  });
}

function send(req: IncomingMessage, res: ServerResponse, result: HttpResult): void {
  try {
    // The API's Date header by the runtime's clock (in AWS, the service's time): clients reckon time left
    // from it. The AWS stand-ins keep the real time, as AWS does (the SDK corrects its signing clock by it).
    if (/^\/(v1|_local)\//.test(req.url ?? '')) res.setHeader('date', clock().now().toUTCString());
    res.writeHead(result.status, result.headers);
    res.end(result.body);
  } catch (error) {
    // e.g. a header value API Gateway would also refuse
    console.error(`[elevate-local] ${req.method} ${req.url}: the handler's response cannot be sent:`, error);
    const fallback = problemResult({ code: 'InternalError', detail: 'the handler returned an invalid response' });
    if (!res.headersSent) res.writeHead(fallback.status, fallback.headers);
    res.end(fallback.body);
  }
}

/** The node:http request listener of the runtime's port. */
export function requestListener(runtime: HttpRuntime): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (isSfnRequest(req)) return stepFunctionsRequest(runtime, req, res);
    // Request timing for the log line is process-level wall time, not the Elevate clock.
    const t0 = performance.now();
    if (/^\/v1\//.test(req.url ?? '')) {
      const inFlight = answering.get(runtime) ?? new Set<Promise<void>>();
      answering.set(runtime, inFlight);
      const sent = new Promise<void>((done) => res.once('close', () => done()));
      inFlight.add(sent);
      void sent.then(() => inFlight.delete(sent));
    }
    handle(runtime, req)
      .catch((error: unknown) => {
        console.error(`[elevate-local] ${req.method} ${req.url} failed:`, error);
        return problemResult({ code: 'InternalError', detail: 'the handler failed; see the server log' });
      })
      .then((result) => {
        send(req, res, result);
        if (runtime.log) {
          console.log(`${req.method} ${req.url} ${res.statusCode} ${Math.round(performance.now() - t0)}ms`);
        }
      });
  };
}
