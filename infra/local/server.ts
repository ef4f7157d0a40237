/**
 * The local runtime: the same Lambda handlers as the deployed stack, behind a node:http server that does
 * what API Gateway (HTTP API + JWT authorizer) does, against DynamoDB Local and a table created from the
 * synthesized template. Under `/_local` it adds controls for development and tests (clock, tokens, mail,
 * events, scheduled jobs, JWKS). Never deployed.
 *
 * On the same port it also stands in for the AWS services the handlers call besides DynamoDB, so they keep
 * using the real SDK clients (the AWS_ENDPOINT_URL_<SERVICE> variables point here):
 * - Step Functions (JSON 1.0, `X-Amz-Target: AWSStepFunctions.*`): the synthesized state machine runs in
 *   LocalStepFunctions as `elevate-access`, its Lambda tasks call functions/workflow/handler.ts in-process;
 * - SES v2 SendEmail (`POST /v2/email/outbound-emails`) → `GET /_local/emails`;
 * - EventBridge PutEvents (JSON 1.1, `X-Amz-Target: AWSEvents.PutEvents`) → `GET /_local/events`;
 * - IAM Identity Center, its identity store and AWS Organizations (JSON 1.1, identity-center.ts), unless the
 *   environment names endpoints of its own for them (AWS_ENDPOINT_URL_SSO_ADMIN, _IDENTITYSTORE, _ORGANIZATIONS)
 *   → `GET /_local/identity-center`.
 * The scheduled jobs (functions/scheduled/schedules.ts) run on the clock (see scheduler.ts).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { SCHEDULES } from '#functions/scheduled/schedules.ts';
import { OUTBOX_STREAM_FILTER } from '#infra/constructs/outbox.ts';
import { stateMachineDefinition } from '#infra/synth.ts';
import { ROUTES, type Route, routeKey } from '#shared/api/routes.ts';
import { bearerToken } from '#shared/auth/caller.ts';
import { type Clock, clock, ManualClock, systemClock, useClock } from '#shared/clock.ts';
import { depsFromEnv } from '#shared/deps.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import {
  eventsRequest,
  isEventsRequest,
  isSesGetAccount,
  isSesSendEmail,
  LOCAL_MAIL_CONFIGURATION_SET,
  type SesFeedback,
  sesGetAccount,
  sesSendEmail,
} from './aws-standins.ts';
import { isConsolePath, serveConsole } from './console.ts';
import { type LocalRuntimeControls, routeLocal } from './controls.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from './dynamodb.ts';
import { checkFunctions, LocalFunctions, lambdaContext } from './functions.ts';
import { buildEvent, type HttpResult, matchRoute, toHttpResult } from './http-event.ts';
import * as idcStandIn from './identity-center.ts';
import { createIssuer, type LocalIssuer, UnauthenticatedError } from './issuer.ts';
import * as oidc from './oidc.ts';
import { notFound, problemResult, readBody } from './results.ts';
import { LOCAL_AUDIT_BUCKET, type LocalS3, startLocalS3 } from './s3.ts';
import { LocalScheduler } from './scheduler.ts';
import { registerSchedule } from './schedules.ts';
import { isSfnRequest, sfnRequestHandler } from './stepfunctions/endpoint.ts';
import { LocalStepFunctions } from './stepfunctions/runner.ts';
import { LocalStreamPoller } from './streams.ts';
import { ensureTable, localTemplate } from './table.ts';

export const DEFAULT_TABLE_NAME = 'elevate';
/** The SDK's own endpoint variables of the three provisioning clients. */
export const IDC_ENDPOINT_VARIABLES = [
  'AWS_ENDPOINT_URL_SSO_ADMIN',
  'AWS_ENDPOINT_URL_IDENTITYSTORE',
  'AWS_ENDPOINT_URL_ORGANIZATIONS',
] as const;
export const LOCAL_REGION = 'us-east-1';
/** The account id in local ARNs (state machine, executions, functions). */
export const LOCAL_ACCOUNT_ID = '000000000000';
/** The name the synthesized state machine is registered under. */
export const LOCAL_STATE_MACHINE_NAME = 'elevate-access';
/** EVENT_BUS_NAME in the local runtime. */
export const LOCAL_EVENT_BUS_NAME = 'elevate';
/** ELEVATE_SENDER_ADDRESS in the local runtime unless the environment sets one. */
export const LOCAL_SENDER_ADDRESS = 'elevate@localhost';

export interface StartLocalOptions {
  /** Port on 127.0.0.1; 0 picks a free one. Default 3000. */
  port?: number;
  /** Folder for the database and the issuer key, or ':memory:' (keeps nothing). Default '.elevate-data'. */
  dataDir?: string;
  /** Principal ids that get a permanent active elevate-admin assignment at start. Default ['admin']. */
  bootstrapAdmins?: string[];
  /** 'manual' installs a ManualClock that only moves through POST /_local/clock (or `clock.set/advance`). */
  clock?: 'manual' | 'system';
  /** Start the manual clock at this time (default: the system time at start). */
  clockStart?: Date;
  /** Log one line per request (errors are always logged). */
  log?: boolean;
  /** Table name. Default 'elevate'. */
  tableName?: string;
  /** Use this DynamoDB endpoint instead of starting DynamoDB Local. */
  dynamoEndpoint?: string;
  /**
   * How long the Identity Center stand-in's operations take, on the runtime's clock (ISO 8601).
   * @default - ELEVATE_LOCAL_IDC_LATENCY, else PT2S
   */
  identityCenterLatency?: string;
}

export interface LocalServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly tableName: string;
  readonly dynamoEndpoint: string;
  /** The process clock the server installed. */
  readonly clock: Clock;
  /** The same clock when it is manual (clock: 'manual'), else undefined. */
  readonly manualClock: ManualClock | undefined;
  readonly issuer: LocalIssuer;
  /** The ARN of the access workflow in the local Step Functions (its endpoint is `url`). */
  readonly stateMachineArn: string;
  /**
   * The Identity Center / identity store / Organizations stand-in, served on `url`; undefined when the environment
   * points the clients at endpoints of its own (AWS_ENDPOINT_URL_SSO_ADMIN and the others).
   */
  readonly identityCenter: idcStandIn.LocalIdentityCenter | undefined;
  /** The states an execution entered so far (what AWS bills as state transitions), by execution name. */
  statesEntered(executionName: string): readonly string[];
  /**
   * Test hook: the Lambda service refuses the workflow's next `times` invokes whose payload (as JSON) contains
   * `matching`, with `error` (e.g. `Lambda.TooManyRequestsException`, what Step Functions sees when the function is
   * throttled); the function does not run. Returns a live count of the refusals.
   */
  refuseWorkflowInvokes(spec: { matching: string; times: number; error: string }): { readonly refused: number };
  /**
   * Resolves once the work the clock set off has settled: the scheduled jobs that were due have run and every
   * workflow execution waits on the clock or a task token (or has ended). Tests advance the clock, then await it.
   */
  idle(): Promise<void>;
  /** Close the server (in-flight requests finish), stop DynamoDB Local if it was started, restore env and clock. */
  stop(): Promise<void>;
}

type ApiHandler = (
  event: APIGatewayProxyEventV2WithJWTAuthorizer,
  context: Context,
) => Promise<APIGatewayProxyResultV2<unknown>>;

/** Restores every environment variable it set. */
class EnvScope {
  readonly #saved = new Map<string, string | undefined>();
  set(name: string, value: string): void {
    if (!this.#saved.has(name)) this.#saved.set(name, process.env[name]);
    process.env[name] = value;
  }
  setDefault(name: string, value: string): void {
    if (process.env[name] === undefined) this.set(name, value);
  }
  restore(): void {
    for (const [name, value] of this.#saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    this.#saved.clear();
  }
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((done, fail) => {
    const onError = (error: Error) => fail(error);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      const address = server.address();
      done(address && typeof address === 'object' ? address.port : port);
    });
  });
}

/**
 * A port for the runtime: `port` itself, checked free now (EADDRINUSE when it is taken, so a taken port fails fast),
 * or for 0 one the system picks. A picked port stays reserved until `release` (just before the runtime listens): a
 * connection to it meanwhile is dropped at once, and no other listener of the process (DynamoDB Local, the S3
 * stand-in, a second runtime) can be handed it while this one starts.
 */
async function reservePort(port: number): Promise<{ port: number; release: () => Promise<void> }> {
  const probe = createServer();
  probe.on('connection', (socket) => socket.destroy());
  const free = await listen(probe, port);
  const release = () => new Promise<void>((done) => probe.close(() => done()));
  if (port !== 0) {
    // A chosen port: an early client is refused, never accepted and dropped.
    await release();
    return { port: free, release: async () => {} };
  }
  return { port: free, release };
}

/**
 * Start the local runtime. The port is checked first (a taken port fails fast), then DynamoDB, table, clock,
 * bootstrap; the server listens last, so a connection is accepted only once the runtime can answer it.
 */
export async function startLocal(opts: StartLocalOptions = {}): Promise<LocalServer> {
  const dataDir = opts.dataDir ?? '.elevate-data';
  const memory = dataDir === ':memory:';
  const tableName = opts.tableName ?? DEFAULT_TABLE_NAME;
  const admins = opts.bootstrapAdmins ?? ['admin'];
  const log = opts.log ?? false;

  let markStarted: (ok: boolean) => void = () => {};
  const started = new Promise<boolean>((done) => {
    markStarted = done;
  });
  let port = opts.port ?? 3000;
  const handlers = new Map<string, Promise<ApiHandler>>();
  let issuer: LocalIssuer | undefined;
  let manual: ManualClock | undefined;
  let runner: LocalStepFunctions | undefined;
  let scheduler: LocalScheduler | undefined;
  let stream: LocalStreamPoller | undefined;
  let sfn: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  let identityCenter: idcStandIn.LocalIdentityCenter | undefined;
  let functions: LocalFunctions | undefined;
  const unregister: (() => void)[] = [];
  const refusals: { matching: string; times: number; error: string; refused: number }[] = [];

  /** See LocalServer.idle. */
  const invocations = new Set<Promise<unknown>>();
  const settle = async (): Promise<void> => {
    await scheduler?.idle();
    await runner?.idle();
    // Lambda functions invoked asynchronously (the audit export jobs), including what they set off.
    while (invocations.size > 0) await Promise.allSettled([...invocations]);
    // The lifecycle events all that committed (the outbox, through the table's stream).
    await stream?.drain().catch((error: unknown) => console.warn(`[elevate-local] stream: ${String(error)}`));
  };

  /** An SES bounce or complaint: the mail feedback function runs after the send's answer, as the rule's target. */
  const deliverMailFeedback = (event: SesFeedback): void => {
    const run: Promise<unknown> = new Promise((r) => setImmediate(r))
      .then(() => {
        if (!functions) throw new Error('the local functions are not started');
        return functions.invokeMailFeedback(event);
      })
      .catch((error: unknown) => console.error('[elevate-local] elevate-mail-feedback failed:', error))
      .finally(() => invocations.delete(run));
    invocations.add(run);
  };

  const loadHandler = (fn: string): Promise<ApiHandler> => {
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
  };

  /** API Gateway's JWT authorizer: the verified claims, or the 401 it would answer. */
  const authorize = async (req: IncomingMessage): Promise<{ claims: Record<string, unknown> } | HttpResult> => {
    const unauthenticated = (detail: string) =>
      problemResult({ code: 'Unauthenticated', detail, headers: { 'www-authenticate': 'Bearer' } });
    const token = bearerToken(req.headers.authorization);
    if (!token) return unauthenticated('send Authorization: Bearer <token>');
    try {
      const claims = await (issuer as LocalIssuer).verify(token);
      // Every principal that gets a token from the local issuer is a user of the local Identity Center.
      if (typeof claims.sub === 'string') {
        identityCenter?.ensureUser(claims.sub, typeof claims.email === 'string' ? claims.email : null);
      }
      return { claims };
    } catch (error) {
      if (error instanceof UnauthenticatedError) return unauthenticated(error.message);
      throw error;
    }
  };

  /** What the `/_local` controls (controls.ts) reach of this runtime. */
  const controls: LocalRuntimeControls = {
    manualClock: () => manual,
    settle,
    issuer: () => issuer as LocalIssuer,
    drainStream: async () => {
      await stream?.drain().catch((error: unknown) => console.warn(`[elevate-local] stream: ${String(error)}`));
    },
    authorize,
    identityCenter: () => identityCenter,
  };

  const api = async (req: IncomingMessage, method: string, rawPath: string, rawQueryString: string, body: Buffer) => {
    const matched = matchRoute<Route>(ROUTES, method, rawPath);
    // API Gateway answers 404 both for an unknown path and for a known path with another method
    // (there is no route for that method+path); the local runtime does the same, so no 405 here.
    if (matched.kind === 'none' || matched.kind === 'wrongMethod') return notFound(`no route ${method} ${rawPath}`);
    if (matched.kind === 'badEncoding') return notFound(`the path ${rawPath} has a malformed percent-encoding`);
    const { route, pathParameters } = matched.match;

    let claims: Record<string, unknown> | undefined;
    if (route.access !== 'public') {
      const auth = await authorize(req);
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
      port,
    });
    const handler = await loadHandler(route.fn);
    const functionName = `elevate-local-${route.fn}`;
    const result = await (functions as LocalFunctions).run(`functions/api/${route.fn}.ts`, functionName, () =>
      handler(event, lambdaContext(functionName, requestId, process.env.AWS_REGION ?? LOCAL_REGION)),
    );
    const http = toHttpResult(result);
    http.headers['apigw-requestid'] = requestId;
    return http;
  };

  const handle = async (req: IncomingMessage): Promise<HttpResult> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQueryString = q < 0 ? '' : url.slice(q + 1);
    const body = await readBody(req);
    if (body === 'tooLarge') {
      return problemResult({ code: 'PayloadTooLarge', detail: 'the request body is over 10 MB' });
    }
    // The server listens once started; this only guards a start that failed after it listened.
    if (!(await started)) {
      return problemResult({ code: 'Unavailable', detail: 'the local runtime failed to start' });
    }
    // The AWS stand-ins (SigV4-signed by the SDK; the signature is not checked).
    if (isEventsRequest(req)) return eventsRequest(req, body);
    if (identityCenter && idcStandIn.LocalIdentityCenter.handles(req)) return identityCenter.request(req, body);
    if (isSesSendEmail(method, rawPath))
      return sesSendEmail(body, deliverMailFeedback, process.env.AWS_REGION ?? LOCAL_REGION);
    if (isSesGetAccount(method, rawPath)) return sesGetAccount();
    const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(rawPath);
    if (invoke?.[1] && method === 'POST') {
      // Lambda Invoke (the exports function starting an export job): run the function in-process after the
      // answer, as an asynchronous (`Event`) invoke does; `idle()` waits for it.
      const name = decodeURIComponent(invoke[1]);
      const payload = body.length ? JSON.parse(body.toString('utf8')) : {};
      const run: Promise<unknown> = (functions as LocalFunctions)
        .invokeScheduled(name, payload)
        .catch((error: unknown) => console.error(`[elevate-local] ${name} failed:`, error))
        .finally(() => invocations.delete(run));
      invocations.add(run);
      return { status: 202, headers: { 'x-amzn-requestid': randomUUID() }, body: Buffer.alloc(0) };
    }
    // The console's sign-in at the local issuer (authorization code with PKCE), and the console itself.
    if (rawPath === oidc.AUTHORIZE_PATH && (method === 'GET' || method === 'POST'))
      return oidc.authorize(req, method, rawQueryString, body, port);
    if (rawPath === oidc.TOKEN_PATH && method === 'POST') return oidc.token(issuer as LocalIssuer, body);
    if (rawPath === '/_local' || rawPath.startsWith('/_local/'))
      return routeLocal(controls, { req, method, path: rawPath, body });
    if (isConsolePath(method, rawPath)) return serveConsole(rawPath);
    return api(req, method, rawPath, rawQueryString, body);
  };

  const respond = (req: IncomingMessage, res: ServerResponse): void => {
    if (isSfnRequest(req)) {
      // Step Functions API calls (the handlers' SFNClient): the endpoint reads the body itself.
      started.then((ok) => {
        if (ok && sfn) sfn(req, res);
        else {
          res.writeHead(503, { 'content-type': 'application/x-amz-json-1.0' });
          res.end(JSON.stringify({ __type: 'ServiceUnavailable', message: 'the local runtime failed to start' }));
        }
      });
      return;
    }
    // Request timing for the log line is process-level wall time, not the Elevate clock.
    const t0 = performance.now();
    handle(req)
      .catch((error: unknown) => {
        console.error(`[elevate-local] ${req.method} ${req.url} failed:`, error);
        return problemResult({ code: 'InternalError', detail: 'the handler failed; see the server log' });
      })
      .then((result) => {
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
        if (log) {
          console.log(`${req.method} ${req.url} ${res.statusCode} ${Math.round(performance.now() - t0)}ms`);
        }
      });
  };

  const server = createServer(respond);
  const reserved = await reservePort(opts.port ?? 3000);
  port = reserved.port;

  const env = new EnvScope();
  const previousClock = clock();
  let dynamo: DynamoDbLocal | undefined;
  let s3: LocalS3 | undefined;
  let stateMachineArn = '';
  try {
    dynamo = await startDynamoDbLocal({
      endpoint: opts.dynamoEndpoint ?? null,
      dataDir: memory ? ':memory:' : join(resolve(dataDir), 'dynamodb'),
      // Synthesizing the template takes seconds: do it while the JVM starts, unless a kept database (which
      // most likely has the table already) makes it unnecessary.
      // The template is needed anyway (the state machine and its functions come from it).
      whileStarting: async () => {
        await localTemplate();
      },
    });
    if (!memory) mkdirSync(resolve(dataDir), { recursive: true });

    env.set('TABLE_NAME', tableName);
    env.set('AWS_ENDPOINT_URL_DYNAMODB', dynamo.endpoint);
    env.set('AWS_REGION', process.env.AWS_REGION ?? LOCAL_REGION);
    // DynamoDB Local (-sharedDb) accepts any credentials; set some so the SDK never looks further.
    env.setDefault('AWS_ACCESS_KEY_ID', 'local');
    env.setDefault('AWS_SECRET_ACCESS_KEY', 'local');
    env.set('ELEVATE_CLOCK', opts.clock === 'manual' ? 'manual' : 'system');
    env.set('ELEVATE_BOOTSTRAP_ADMINS', admins.join(','));
    env.setDefault('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');

    const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: process.env.AWS_REGION });
    try {
      await ensureTable(client, tableName);
    } finally {
      client.destroy();
    }

    if (opts.clock === 'manual') {
      // The manual clock starts at the real time unless told otherwise: reading the system time here is the
      // clock module's own systemClock, the one place allowed to.
      manual = new ManualClock(opts.clockStart ?? systemClock.now());
      useClock(manual);
    } else {
      useClock(systemClock);
    }

    const url = `http://127.0.0.1:${port}`;
    const region = process.env.AWS_REGION ?? LOCAL_REGION;
    const runnerClock = manual ?? systemClock;

    // The access workflow: the synthesized ASL in the local Step Functions, served on this port.
    const template = await localTemplate();
    const asl = stateMachineDefinition(template, { region, accountId: LOCAL_ACCOUNT_ID });
    checkFunctions(template, Object.values(asl.lambdaFunctionNames));
    const local = new LocalFunctions(template, region);
    functions = local;
    const workflow = new LocalStepFunctions({
      clock: runnerClock,
      lambda: (functionName, payload) => {
        const refusal = refusals.find((r) => r.refused < r.times && JSON.stringify(payload).includes(r.matching));
        if (refusal) {
          refusal.refused++;
          return Promise.reject(Object.assign(new Error('Rate exceeded.'), { name: refusal.error }));
        }
        return local.invokeWorkflow(functionName, payload);
      },
      region,
      accountId: LOCAL_ACCOUNT_ID,
    });
    runner = workflow;
    stateMachineArn = workflow.registerStateMachine(LOCAL_STATE_MACHINE_NAME, asl.definition);
    sfn = sfnRequestHandler(workflow);

    // Set before the first depsFromEnv() (bootstrap, below): the ports are built once per table.
    env.set('STATE_MACHINE_ARN', stateMachineArn);
    env.set('AWS_ENDPOINT_URL_SFN', url);
    env.setDefault('ELEVATE_SENDER_ADDRESS', LOCAL_SENDER_ADDRESS);
    env.setDefault('ELEVATE_MAIL_CONFIGURATION_SET', LOCAL_MAIL_CONFIGURATION_SET);
    env.set('AWS_ENDPOINT_URL_SESV2', url);
    env.set('EVENT_BUS_NAME', LOCAL_EVENT_BUS_NAME);
    env.set('AWS_ENDPOINT_URL_EVENTBRIDGE', url);
    env.set('ELEVATE_API_URL', url);
    // The audit exports: S3 stand-in (s3rver) and the export job, invoked through the Lambda stand-in above.
    s3 = await startLocalS3(memory ? ':memory:' : join(resolve(dataDir), 's3'));
    env.set('AWS_ENDPOINT_URL_S3', s3.endpoint);
    env.set('AUDIT_BUCKET', LOCAL_AUDIT_BUCKET);
    env.set('AWS_ENDPOINT_URL_LAMBDA', url);
    env.set('EXPORT_FUNCTION_NAME', 'elevate-audit-export');

    // IAM Identity Center, the identity store and Organizations: endpoints the environment names (an emulator,
    // with the instance and identity store it configures), else the in-process stand-in on this port.
    const ownEndpoints = IDC_ENDPOINT_VARIABLES.some((name) => process.env[name]);
    if (!ownEndpoints) {
      identityCenter = new idcStandIn.LocalIdentityCenter({
        clock: runnerClock,
        latency:
          opts.identityCenterLatency ?? process.env.ELEVATE_LOCAL_IDC_LATENCY ?? idcStandIn.DEFAULT_LOCAL_IDC_LATENCY,
      });
      for (const name of IDC_ENDPOINT_VARIABLES) env.set(name, url);
      env.set('ELEVATE_IDC_INSTANCE_ARN', idcStandIn.LOCAL_IDC_INSTANCE_ARN);
      env.set('ELEVATE_IDENTITY_STORE_ID', idcStandIn.LOCAL_IDENTITY_STORE_ID);
    }

    // The scheduled jobs: on demand (POST /_local/schedules/{name}/run) and on the clock, each due job after
    // the workflow timers of the same clock move have settled.
    const entries = SCHEDULES.map((schedule) => ({
      name: schedule.name,
      expression: schedule.expression,
      run: local.scheduledJob(schedule),
    }));
    for (const entry of entries) unregister.push(registerSchedule(entry.name, entry.run));
    scheduler = new LocalScheduler(entries, {
      clock: runnerClock,
      // With the system clock executions run on real time: no need (and no point) to wait for them.
      beforeEach: manual ? () => workflow.idle() : async () => {},
    });

    issuer = await createIssuer(memory ? ':memory:' : resolve(dataDir));
    await bootstrap(depsFromEnv(), admins);
    // The outbox: the table's stream to the publisher, as the deployed event source mapping does.
    stream = new LocalStreamPoller({
      endpoint: dynamo.endpoint,
      tableName,
      region,
      filter: OUTBOX_STREAM_FILTER,
      deliver: (records) => local.invokeOutbox(records),
    });
    await stream.start();
    markStarted(true);
    // Last: connections are accepted only now that every request can be answered.
    await reserved.release();
    await listen(server, port);
  } catch (error) {
    markStarted(false);
    await reserved.release();
    await stream?.stop();
    scheduler?.stop();
    for (const remove of unregister) remove();
    runner?.dispose();
    if (server.listening) await new Promise<void>((done) => server.close(() => done()));
    await s3?.stop();
    await dynamo?.stop();
    env.restore();
    useClock(previousClock);
    throw error;
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      scheduler?.stop();
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeIdleConnections();
        // In-flight requests get 10 s to finish (process-level timer, not the Elevate clock).
        setTimeout(() => server.closeAllConnections(), 10_000).unref();
      });
      // A job that was running finishes (or fails, now that the server is closed) before the rest stops.
      await scheduler?.idle();
      for (const remove of unregister) remove();
      runner?.dispose();
      while (invocations.size > 0) await Promise.allSettled([...invocations]);
      await stream?.drain().catch(() => undefined);
      await stream?.stop();
      await s3?.stop();
      await dynamo?.stop();
      env.restore();
      useClock(previousClock);
    })();
    return stopping;
  };

  const activeClock = manual ?? systemClock;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    tableName,
    dynamoEndpoint: dynamo.endpoint,
    clock: activeClock,
    manualClock: manual,
    issuer,
    stateMachineArn,
    identityCenter,
    statesEntered: (name) =>
      runner?.statesEntered(`${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`) ?? [],
    refuseWorkflowInvokes: (spec) => {
      const refusal = { ...spec, refused: 0 };
      refusals.push(refusal);
      return {
        get refused() {
          return refusal.refused;
        },
      };
    },
    idle: settle,
    stop,
  };
}
