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
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SCHEDULES } from '#functions/scheduled/schedules.ts';
import { OUTBOX_STREAM_FILTERS } from '#infra/outbox-filter.ts';
import { stateMachineDefinition } from '#infra/template.ts';
import { type Clock, clock, ManualClock, systemClock, useClock } from '#shared/clock.ts';
import { depsFromEnv } from '#shared/deps.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { LOCAL_MAIL_CONFIGURATION_SET } from './aws-standins.ts';
import type { LocalRuntimeControls } from './controls.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from './dynamodb.ts';
import { checkFunctions, LocalFunctions } from './functions.ts';
import { type HttpRuntime, requestListener } from './http-server.ts';
import * as idcStandIn from './identity-center.ts';
import { createIssuer, type LocalIssuer } from './issuer.ts';
import { type Phase, type StartedPhases, startPhases } from './phases.ts';
import { LOCAL_AUDIT_BUCKET, type LocalS3, startLocalS3 } from './s3.ts';
import { LocalScheduler } from './scheduler.ts';
import { registerSchedule } from './schedules.ts';
import { LOCAL_SLACK_API_PATH, LOCAL_SLACK_BOT_TOKEN, LOCAL_SLACK_SIGNING_SECRET, LocalSlack } from './slack.ts';
import { sfnRequestHandler } from './stepfunctions/endpoint.ts';
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
  /**
   * Turns Slack on with the stand-in's credentials (LOCAL_SLACK_SIGNING_SECRET, LOCAL_SLACK_BOT_TOKEN) unless the
   * environment sets ELEVATE_SLACK_SIGNING_SECRET and ELEVATE_SLACK_BOT_TOKEN; off (and unset there), Slack is off.
   * @default false
   */
  slack?: boolean;
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
  /** The Slack Web API stand-in, served on `url` (`/_local/slack/...`). */
  readonly slack: LocalSlack;
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

/** Where a data folder keeps a part of the runtime, or ':memory:'. */
function kept(dataDir: string, part?: string): string {
  if (dataDir === ':memory:') return ':memory:';
  return part === undefined ? resolve(dataDir) : join(resolve(dataDir), part);
}

/**
 * The local runtime as a list of phases, each started in turn and stopped in the reverse order (see `phases()`),
 * and what its HTTP port and its `/_local` controls reach of it.
 */
class LocalRuntime implements HttpRuntime {
  readonly #opts: StartLocalOptions;
  readonly #dataDir: string;
  readonly tableName: string;
  readonly #admins: string[];
  readonly log: boolean;
  readonly #env = new EnvScope();
  readonly #refusals: { matching: string; times: number; error: string; refused: number }[] = [];
  /** Lambda functions invoked asynchronously (the audit export jobs, the mail feedback), until they end. */
  readonly #background = new Set<Promise<unknown>>();
  #markStarted: (ok: boolean) => void = () => {};
  readonly started = new Promise<boolean>((done) => {
    this.#markStarted = done;
  });

  port: number;
  #releasePort: () => Promise<void> = async () => {};
  #dynamo: DynamoDbLocal | undefined;
  #previousClock: Clock | undefined;
  manual: ManualClock | undefined;
  #functions: LocalFunctions | undefined;
  #runner: LocalStepFunctions | undefined;
  stateMachineArn = '';
  #sfn: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  #s3: LocalS3 | undefined;
  #identityCenter: idcStandIn.LocalIdentityCenter | undefined;
  readonly #slack = new LocalSlack(
    () => process.env.ELEVATE_SLACK_BOT_TOKEN,
    () => this.runnerClock.now(),
  );
  #issuer: LocalIssuer | undefined;
  #stream: LocalStreamPoller | undefined;
  #scheduler: LocalScheduler | undefined;
  readonly #unregister: (() => void)[] = [];
  readonly #server = createServer(requestListener(this));
  #phases: StartedPhases | undefined;

  constructor(opts: StartLocalOptions) {
    this.#opts = opts;
    this.#dataDir = opts.dataDir ?? '.elevate-data';
    this.tableName = opts.tableName ?? DEFAULT_TABLE_NAME;
    this.#admins = opts.bootstrapAdmins ?? ['admin'];
    this.log = opts.log ?? false;
    this.port = opts.port ?? 3000;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get region(): string {
    return process.env.AWS_REGION ?? LOCAL_REGION;
  }

  get dynamoEndpoint(): string {
    return (this.#dynamo as DynamoDbLocal).endpoint;
  }

  /** The clock the workflow runner, the scheduler and the stand-ins run on. */
  get runnerClock(): Clock {
    return this.manual ?? systemClock;
  }

  functions(): LocalFunctions {
    if (!this.#functions) throw new Error('the local functions are not started');
    return this.#functions;
  }

  issuer(): LocalIssuer {
    return this.#issuer as LocalIssuer;
  }

  identityCenter(): idcStandIn.LocalIdentityCenter | undefined {
    return this.#identityCenter;
  }

  stepFunctions(): ((req: IncomingMessage, res: ServerResponse) => void) | undefined {
    return this.#sfn;
  }

  inBackground(what: string, work: () => Promise<unknown>): void {
    const run: Promise<unknown> = work()
      .catch((error: unknown) => console.error(`[elevate-local] ${what} failed:`, error))
      .finally(() => this.#background.delete(run));
    this.#background.add(run);
  }

  async #backgroundDone(): Promise<void> {
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
  }

  /** Publishes what committed so far (the outbox, through the table's stream). */
  async drainStream(): Promise<void> {
    await this.#stream?.drain().catch((error: unknown) => console.warn(`[elevate-local] stream: ${String(error)}`));
  }

  /** See LocalServer.idle. */
  async settle(): Promise<void> {
    await this.#scheduler?.idle();
    await this.#runner?.idle();
    // Lambda functions invoked asynchronously (the audit export jobs), including what they set off.
    await this.#backgroundDone();
    // The lifecycle events all that committed (the outbox, through the table's stream).
    await this.drainStream();
  }

  readonly controls: Omit<LocalRuntimeControls, 'authorize'> = {
    manualClock: () => this.manual,
    settle: () => this.settle(),
    issuer: () => this.issuer(),
    drainStream: () => this.drainStream(),
    identityCenter: () => this.#identityCenter,
    slack: () => this.#slack,
  };

  /**
   * The runtime's parts, in the order they start (each after what it needs). The HTTP server listens once every
   * part that answers a request is up, and the scheduler starts last; stopping runs the list backwards: the scheduler
   * stops first (a running job finishes), then the server (in-flight requests finish), ... DynamoDB Local last.
   */
  phases(): Phase[] {
    return [
      { name: 'the port', start: () => this.#reservePort(), stop: () => this.#releasePort() },
      { name: 'the environment', start: () => {}, stop: () => this.#env.restore() },
      { name: 'DynamoDB', start: () => this.#startDynamoDb(), stop: () => this.#dynamo?.stop() },
      { name: 'the clock', start: () => this.#installClock(), stop: () => this.#restoreClock() },
      { name: 'the workflow runner', start: () => this.#startWorkflow(), stop: () => this.#runner?.dispose() },
      { name: 'the SES and EventBridge stand-ins', start: () => this.#mailAndEvents() },
      { name: 'the S3 stand-in', start: () => this.#startS3(), stop: () => this.#s3?.stop() },
      { name: 'the Lambda stand-in', start: () => this.#lambda() },
      { name: 'the Identity Center stand-in', start: () => this.#startIdentityCenter() },
      { name: 'the Slack stand-in', start: () => this.#startSlack() },
      { name: 'the issuer and bootstrap', start: () => this.#bootstrap() },
      { name: 'the table stream', start: () => this.#startStream(), stop: () => this.#stopStream() },
      { name: 'the HTTP server', start: () => this.#listen(), stop: () => this.#close() },
      { name: 'the scheduler', start: () => this.#startScheduler(), stop: () => this.#stopScheduler() },
    ];
  }

  /** Starts every phase; a failure stops those started (last first) and is thrown. */
  async start(): Promise<void> {
    try {
      this.#phases = await startPhases(this.phases());
    } catch (error) {
      this.#markStarted(false);
      throw error;
    }
    this.#markStarted(true);
  }

  stop(): Promise<void> {
    return this.#phases?.stop() ?? Promise.resolve();
  }

  async #reservePort(): Promise<void> {
    const reserved = await reservePort(this.port);
    this.port = reserved.port;
    this.#releasePort = reserved.release;
  }

  async #startDynamoDb(): Promise<void> {
    this.#dynamo = await startDynamoDbLocal({
      endpoint: this.#opts.dynamoEndpoint ?? null,
      dataDir: kept(this.#dataDir, 'dynamodb'),
      // Synthesizing the template takes seconds: do it while the JVM starts, unless a kept database (which
      // most likely has the table already) makes it unnecessary.
      // The template is needed anyway (the state machine and its functions come from it).
      whileStarting: async () => {
        await localTemplate();
      },
    });
    if (this.#dataDir !== ':memory:') mkdirSync(resolve(this.#dataDir), { recursive: true });
    const env = this.#env;
    env.set('TABLE_NAME', this.tableName);
    env.set('AWS_ENDPOINT_URL_DYNAMODB', this.#dynamo.endpoint);
    env.set('AWS_REGION', this.region);
    // DynamoDB Local (-sharedDb) accepts any credentials; set some so the SDK never looks further.
    env.setDefault('AWS_ACCESS_KEY_ID', 'local');
    env.setDefault('AWS_SECRET_ACCESS_KEY', 'local');
    env.set('ELEVATE_CLOCK', this.#opts.clock === 'manual' ? 'manual' : 'system');
    env.set('ELEVATE_BOOTSTRAP_ADMINS', this.#admins.join(','));
    env.setDefault('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');
    const client = new DynamoDBClient({ endpoint: this.#dynamo.endpoint, region: process.env.AWS_REGION });
    try {
      await ensureTable(client, this.tableName);
    } finally {
      client.destroy();
    }
  }

  #installClock(): void {
    this.#previousClock = clock();
    if (this.#opts.clock === 'manual') {
      // The manual clock starts at the real time unless told otherwise: reading the system time here is the
      // clock module's own systemClock, the one place allowed to.
      this.manual = new ManualClock(this.#opts.clockStart ?? systemClock.now());
      useClock(this.manual);
    } else {
      useClock(systemClock);
    }
  }

  #restoreClock(): void {
    if (this.#previousClock) useClock(this.#previousClock);
  }

  /** The access workflow: the synthesized ASL in the local Step Functions, served on this port. */
  async #startWorkflow(): Promise<void> {
    const template = await localTemplate();
    const asl = stateMachineDefinition(template, { region: this.region, accountId: LOCAL_ACCOUNT_ID });
    checkFunctions(template, Object.values(asl.lambdaFunctionNames));
    const functions = new LocalFunctions(template, this.region);
    this.#functions = functions;
    const runner = new LocalStepFunctions({
      clock: this.runnerClock,
      lambda: (functionName, payload) => {
        const refusal = this.#refusals.find((r) => r.refused < r.times && JSON.stringify(payload).includes(r.matching));
        if (refusal) {
          refusal.refused++;
          return Promise.reject(Object.assign(new Error('Rate exceeded.'), { name: refusal.error }));
        }
        return functions.invokeWorkflow(functionName, payload);
      },
      region: this.region,
      accountId: LOCAL_ACCOUNT_ID,
    });
    this.#runner = runner;
    this.stateMachineArn = runner.registerStateMachine(LOCAL_STATE_MACHINE_NAME, asl.definition);
    this.#sfn = sfnRequestHandler(runner);
    // Set before the first depsFromEnv() (bootstrap, below): the ports are built once per table.
    this.#env.set('STATE_MACHINE_ARN', this.stateMachineArn);
    this.#env.set('AWS_ENDPOINT_URL_SFN', this.url);
  }

  #mailAndEvents(): void {
    const env = this.#env;
    env.setDefault('ELEVATE_SENDER_ADDRESS', LOCAL_SENDER_ADDRESS);
    env.setDefault('ELEVATE_MAIL_CONFIGURATION_SET', LOCAL_MAIL_CONFIGURATION_SET);
    env.set('AWS_ENDPOINT_URL_SESV2', this.url);
    env.set('EVENT_BUS_NAME', LOCAL_EVENT_BUS_NAME);
    env.set('AWS_ENDPOINT_URL_EVENTBRIDGE', this.url);
    env.set('ELEVATE_API_URL', this.url);
    // The web console is served on the same port (console.ts): mail links to it.
    env.set('ELEVATE_CONSOLE_URL', this.url);
  }

  /** The audit exports' bucket (s3rver). */
  async #startS3(): Promise<void> {
    this.#s3 = await startLocalS3(kept(this.#dataDir, 's3'));
    this.#env.set('AWS_ENDPOINT_URL_S3', this.#s3.endpoint);
    this.#env.set('AUDIT_BUCKET', LOCAL_AUDIT_BUCKET);
  }

  /** Lambda Invoke on this port: the export job, run in-process (http-server.ts). */
  #lambda(): void {
    this.#env.set('AWS_ENDPOINT_URL_LAMBDA', this.url);
    this.#env.set('EXPORT_FUNCTION_NAME', 'elevate-audit-export');
  }

  /**
   * IAM Identity Center, the identity store and Organizations: endpoints the environment names (an emulator, with
   * the instance and identity store it configures), else the in-process stand-in on this port.
   */
  #startIdentityCenter(): void {
    if (IDC_ENDPOINT_VARIABLES.some((name) => process.env[name])) return;
    this.#identityCenter = new idcStandIn.LocalIdentityCenter({
      clock: this.runnerClock,
      latency:
        this.#opts.identityCenterLatency ??
        process.env.ELEVATE_LOCAL_IDC_LATENCY ??
        idcStandIn.DEFAULT_LOCAL_IDC_LATENCY,
    });
    for (const name of IDC_ENDPOINT_VARIABLES) this.#env.set(name, this.url);
    this.#env.set('ELEVATE_IDC_INSTANCE_ARN', idcStandIn.LOCAL_IDC_INSTANCE_ARN);
    this.#env.set('ELEVATE_IDENTITY_STORE_ID', idcStandIn.LOCAL_IDENTITY_STORE_ID);
  }

  /**
   * Slack's Web API: ELEVATE_SLACK_API_URL, else the stand-in on this port. Slack is on with the environment's
   * signing secret and bot token, or with the stand-in's when `slack` is set.
   */
  #startSlack(): void {
    this.#env.setDefault('ELEVATE_SLACK_API_URL', `${this.url}${LOCAL_SLACK_API_PATH}`);
    if (this.#opts.slack) {
      this.#env.setDefault('ELEVATE_SLACK_SIGNING_SECRET', LOCAL_SLACK_SIGNING_SECRET);
      this.#env.setDefault('ELEVATE_SLACK_BOT_TOKEN', LOCAL_SLACK_BOT_TOKEN);
    }
  }

  async #bootstrap(): Promise<void> {
    this.#issuer = await createIssuer(kept(this.#dataDir));
    await bootstrap(depsFromEnv(), this.#admins);
  }

  /** The outbox: the table's stream to the publisher, as the deployed event source mapping does. */
  async #startStream(): Promise<void> {
    const functions = this.functions();
    this.#stream = new LocalStreamPoller({
      endpoint: this.dynamoEndpoint,
      tableName: this.tableName,
      region: this.region,
      filters: OUTBOX_STREAM_FILTERS,
      deliver: (records) => functions.invokeOutbox(records),
    });
    await this.#stream.start();
  }

  async #stopStream(): Promise<void> {
    await this.#stream?.drain().catch(() => undefined);
    await this.#stream?.stop();
  }

  /** Connections are accepted only now that every request can be answered (the port was reserved until now). */
  async #listen(): Promise<void> {
    await this.#releasePort();
    await listen(this.#server, this.port);
  }

  /** In-flight requests finish (10 s at most), then the functions they invoked asynchronously. */
  async #close(): Promise<void> {
    await new Promise<void>((done) => {
      this.#server.close(() => done());
      this.#server.closeIdleConnections();
      // Process-level timer, not the Elevate clock.
      setTimeout(() => this.#server.closeAllConnections(), 10_000).unref();
    });
    await this.#backgroundDone();
  }

  /**
   * The scheduled jobs: on demand (POST /_local/schedules/{name}/run) and on the clock, each due job after the
   * workflow timers of the same clock move have settled.
   */
  #startScheduler(): void {
    const functions = this.functions();
    const runner = this.#runner as LocalStepFunctions;
    const entries = SCHEDULES.map((schedule) => ({
      name: schedule.name,
      expression: schedule.expression,
      run: functions.scheduledJob(schedule),
    }));
    for (const entry of entries) this.#unregister.push(registerSchedule(entry.name, entry.run));
    this.#scheduler = new LocalScheduler(entries, {
      clock: this.runnerClock,
      // With the system clock executions run on real time: no need (and no point) to wait for them.
      beforeEach: this.manual ? () => runner.idle() : async () => {},
    });
  }

  /** No job starts any more; a running one finishes. */
  async #stopScheduler(): Promise<void> {
    this.#scheduler?.stop();
    await this.#scheduler?.idle();
    for (const remove of this.#unregister.splice(0)) remove();
  }

  /** What a caller of startLocal holds. */
  view(): LocalServer {
    return {
      url: this.url,
      port: this.port,
      tableName: this.tableName,
      dynamoEndpoint: this.dynamoEndpoint,
      clock: this.runnerClock,
      manualClock: this.manual,
      issuer: this.issuer(),
      stateMachineArn: this.stateMachineArn,
      identityCenter: this.#identityCenter,
      slack: this.#slack,
      statesEntered: (name) =>
        this.#runner?.statesEntered(`${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`) ?? [],
      refuseWorkflowInvokes: (spec) => {
        const refusal = { ...spec, refused: 0 };
        this.#refusals.push(refusal);
        return {
          get refused() {
            return refusal.refused;
          },
        };
      },
      idle: () => this.settle(),
      stop: () => this.stop(),
    };
  }
}

/**
 * Start the local runtime, one phase after another (LocalRuntime.phases): the port is reserved first (a taken port
 * fails fast), then DynamoDB, the clock, the workflow runner, the AWS stand-ins, bootstrap and the stream; the server
 * listens once the runtime can answer every request, and the scheduler starts last. A phase that fails stops those
 * before it, last first.
 */
export async function startLocal(opts: StartLocalOptions = {}): Promise<LocalServer> {
  const runtime = new LocalRuntime(opts);
  await runtime.start();
  return runtime.view();
}
