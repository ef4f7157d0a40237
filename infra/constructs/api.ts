import { CfnOutput, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  type CfnApi,
  type CfnStage,
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  HttpRoute,
  HttpRouteKey,
  HttpStage,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AppFunction } from '#infra/constructs/app-function.ts';
import type { IDataTable } from '#infra/constructs/data.ts';
import { FUNCTIONS, type FunctionName, ROUTES, type Route } from '#shared/api/routes.ts';

/** What each API function may do to the table. */
export type TableAccess = 'none' | 'read' | 'readWrite';

/**
 * The table access of each API function. `meta` only serves the OpenAPI document. A function that serves only
 * GETs reads: a refused read is not audited, and the caller's profile is recorded only by calls that change
 * something (shared/http/api.ts). Every other function writes its changes and their audit events.
 */
export const TABLE_ACCESS: Readonly<Record<FunctionName, TableAccess>> = {
  meta: 'none',
  roles: 'readWrite',
  principals: 'readWrite',
  requests: 'readWrite',
  assignments: 'read',
  access: 'read',
  audit: 'read',
  exports: 'readWrite',
  reviews: 'readWrite',
  groups: 'readWrite',
  alerts: 'readWrite',
  governance: 'readWrite',
};

/** A request throttle: API Gateway answers 429 beyond it. */
export interface ApiThrottle {
  /** Steady-state requests per second. */
  readonly rateLimit: number;
  /** Requests allowed in a burst above the steady rate. */
  readonly burstLimit: number;
}

/**
 * What a route costs, by kind. HTTP APIs have no stage-wide limit: each route has its own, so the service's
 * ceiling is the sum over the routes, and that sum is what must fit the table and Lambda (`CAPACITY`).
 * - `check`: `GET /v1/access`, the hot path of every consuming system (one or two strongly consistent Queries);
 * - `poll`: what people and the CLI poll (`GET /v1/me/assignments`, `/v1/approvals`, `/v1/me/reviews`,
 *   `/v1/requests/{id}`, which `elevate ... --wait` polls);
 * - `read`: every other GET (a page may take up to 10 Queries);
 * - `request`: `POST /v1/requests` (one transaction with its audit events);
 * - `decide`: cancel, approve, deny, a review decision (one transaction each);
 * - `admin`: the other changes, made by administrators by hand (roles, policies, principals, groups, alerts,
 *   review definitions);
 * - `export`: `POST /v1/audit-exports`, which starts a job of up to 15 minutes;
 * - `public`: the OpenAPI document.
 */
export type ThrottleClass = 'check' | 'poll' | 'read' | 'request' | 'decide' | 'admin' | 'export' | 'public';

/** The limit of each route of a class. */
export const THROTTLES: Readonly<Record<ThrottleClass, ApiThrottle>> = {
  check: { rateLimit: 200, burstLimit: 400 },
  poll: { rateLimit: 25, burstLimit: 50 },
  read: { rateLimit: 10, burstLimit: 20 },
  request: { rateLimit: 25, burstLimit: 50 },
  decide: { rateLimit: 6, burstLimit: 12 },
  admin: { rateLimit: 2, burstLimit: 5 },
  export: { rateLimit: 1, burstLimit: 2 },
  public: { rateLimit: 5, burstLimit: 10 },
};

/** A route that no class names gets the stage default: the tightest limit a person still works with. */
export const DEFAULT_THROTTLE: ApiThrottle = { rateLimit: 5, burstLimit: 10 };

/**
 * Per class: the seconds a call holds a Lambda execution environment (an upper estimate of the warm p99 against
 * DynamoDB in-region; the local benchmarks put each under a tenth of these) and whether it writes a transaction.
 */
export const CLASS_COST: Readonly<Record<ThrottleClass, { seconds: number; writes: boolean }>> = {
  check: { seconds: 0.1, writes: false },
  poll: { seconds: 0.2, writes: false },
  read: { seconds: 0.3, writes: false },
  request: { seconds: 0.5, writes: true },
  decide: { seconds: 0.5, writes: true },
  admin: { seconds: 0.5, writes: true },
  export: { seconds: 0.3, writes: true },
  public: { seconds: 0.05, writes: false },
};

/**
 * What the routes, all at their limits at once, may ask of the rest of the stack:
 * - `writeTransactionsPerSecond`: every change appends to one of `AUDIT_SHARDS` (8) audit chain heads of the day,
 *   each a single item under a condition; at about 11 changes/s per head, two writers meet on a head in well under a
 *   third of the changes, and the store's retries absorb them. 90 transactions/s of ~6 items (~24 WCU each) is
 *   ~2,200 WCU/s, under the 4,000 WCU/s an on-demand table serves from its first day (raised from 80 for the
 *   per-scope policy routes).
 * - `lambdaConcurrency`: 160 concurrent executions, 16% of the default regional account limit of 1,000, so Elevate
 *   at its ceiling leaves the account's other functions room (reserve concurrency if you need a guarantee).
 */
export const CAPACITY = { writeTransactionsPerSecond: 90, lambdaConcurrency: 160 } as const;

const POLLED = new Set(['GET /v1/me/assignments', 'GET /v1/approvals', 'GET /v1/me/reviews', 'GET /v1/requests/{id}']);

/** The throttle class of a route, from the route table's method, path and access. */
export function throttleClassOf(route: Route): ThrottleClass {
  const key = `${route.method} ${route.path}`;
  if (route.access === 'public') return 'public';
  if (key === 'GET /v1/access') return 'check';
  if (POLLED.has(key)) return 'poll';
  if (route.method === 'GET') return 'read';
  if (key === 'POST /v1/requests') return 'request';
  if (key === 'POST /v1/audit-exports') return 'export';
  if (route.access === 'admin') return 'admin';
  return 'decide';
}

/** The load of all routes at their limits: write transactions per second and Lambda concurrency. */
export function throttleLoad(routes: readonly Route[]): { writesPerSecond: number; concurrency: number } {
  let writesPerSecond = 0;
  let concurrency = 0;
  for (const route of routes) {
    const cls = throttleClassOf(route);
    const rate = THROTTLES[cls].rateLimit;
    if (CLASS_COST[cls].writes) writesPerSecond += rate;
    concurrency += rate * CLASS_COST[cls].seconds;
  }
  return { writesPerSecond, concurrency };
}

/** The request headers the console sends (besides the CORS-safelisted ones). */
export const CORS_REQUEST_HEADERS = ['authorization', 'content-type', 'idempotency-key'] as const;
/** The response headers the console may read (besides the safelisted ones): the server's clock, where, when again. */
export const CORS_EXPOSED_HEADERS = ['date', 'location', 'retry-after'] as const;

export interface ApiProps {
  /** The table the API functions read and write (granted through its least-privilege grants). */
  readonly data: IDataTable;

  /** The OIDC issuer URL that the JWT authorizer trusts (the token's `iss`). */
  readonly jwtIssuer: string;

  /** The audiences the JWT authorizer accepts (any one must be in the token's `aud`). */
  readonly jwtAudience: string[];

  /**
   * Environment variables given to every API function.
   * @default - none beyond the house defaults
   */
  readonly environment?: Readonly<Record<string, string>>;

  /**
   * The accepted OAuth scopes (`AuthorizationScopes` on every non-public route): a token must carry one of them
   * in `scope` or `scp`, which an ID token never does.
   * @default - no scope is required (ID tokens are accepted too)
   */
  readonly jwtScopes?: string[];

  /**
   * The limit of each route, by its class (`throttleClassOf`).
   * @default THROTTLES
   */
  readonly throttles?: Readonly<Record<ThrottleClass, ApiThrottle>>;

  /**
   * How long the access log group keeps its events.
   * @default RetentionDays.ONE_YEAR
   */
  readonly accessLogRetention?: RetentionDays;

  /**
   * The routes to serve; each `fn` gets one function with the entry `functions/api/<fn>.ts`.
   * @default ROUTES (shared/api/routes.ts)
   */
  readonly routes?: readonly Route[];
}

const pascal = (name: string): string => name.charAt(0).toUpperCase() + name.slice(1);

const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    time: '$context.requestTime',
    ip: '$context.identity.sourceIp',
    userAgent: '$context.identity.userAgent',
    routeKey: '$context.routeKey',
    status: '$context.status',
    responseLength: '$context.responseLength',
    latencyMs: '$context.responseLatency',
    principal: '$context.authorizer.claims.sub',
    authorizerError: '$context.authorizer.error',
    integrationError: '$context.integrationErrorMessage',
  }),
);

/**
 * Elevate's HTTP API: an API Gateway HTTP API whose routes come from the route table, one `AppFunction`
 * per API function, a JWT authorizer (with the accepted scopes) on every route but the public ones, a
 * `$default` stage with a throttle per route (`THROTTLES` by `throttleClassOf`) and JSON access logs, and CORS for
 * one browser origin only, the web console's (`allowBrowserOrigin`): every other caller is a script or a back end.
 */
export class Api extends Construct {
  /** The HTTP API. */
  public readonly httpApi: HttpApi;

  /** The `$default` stage (throttling and access logs). */
  public readonly stage: HttpStage;

  /** The JWT authorizer guarding every non-public route. */
  public readonly authorizer: HttpJwtAuthorizer;

  /** The API functions, by name. */
  public readonly functions: Readonly<Record<FunctionName, AppFunction>>;

  /** The stage's base URL (ends with `/`). */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const routes = props.routes ?? ROUTES;
    const throttles = props.throttles ?? THROTTLES;

    this.httpApi = new HttpApi(this, 'HttpApi', {
      apiName: 'elevate',
      description: 'Elevate: just-in-time privileged access',
      createDefaultStage: false,
    });

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: DEFAULT_THROTTLE,
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs), format: ACCESS_LOG_FORMAT },
    });
    this.url = this.stage.url;
    // Each route's own limit (HttpStage has no prop for route settings; the L1 property takes them by route key).
    (this.stage.node.defaultChild as CfnStage).routeSettings = Object.fromEntries(
      routes.map((route) => {
        const limit = throttles[throttleClassOf(route)];
        return [
          `${route.method} ${route.path}`,
          { ThrottlingRateLimit: limit.rateLimit, ThrottlingBurstLimit: limit.burstLimit },
        ];
      }),
    );

    this.authorizer = new HttpJwtAuthorizer('JwtAuthorizer', props.jwtIssuer, {
      authorizerName: 'elevate-jwt',
      jwtAudience: props.jwtAudience,
    });
    const none = new HttpNoneAuthorizer();

    const functions = {} as Record<FunctionName, AppFunction>;
    const integrations = {} as Record<FunctionName, HttpLambdaIntegration>;
    for (const fn of FUNCTIONS) {
      const fnRoutes = routes.filter((r) => r.fn === fn);
      if (fnRoutes.length === 0) continue;
      const fnc = new AppFunction(this, `${pascal(fn)}Function`, {
        entry: `functions/api/${fn}.ts`,
        description: `elevate api: ${fnRoutes.map((r) => r.operationId).join(', ')}`,
        ...(props.environment === undefined ? {} : { environment: props.environment }),
      });
      if (TABLE_ACCESS[fn] === 'readWrite') props.data.grantReadWriteData(fnc);
      else if (TABLE_ACCESS[fn] === 'read') props.data.grantReadData(fnc);
      functions[fn] = fnc;
      integrations[fn] = new HttpLambdaIntegration(`${pascal(fn)}Integration`, fnc);
    }
    this.functions = functions;

    for (const route of routes) {
      const integration = integrations[route.fn];
      if (integration === undefined) {
        throw new Error(`route ${route.operationId}: function ${route.fn} is not in FUNCTIONS; add it there`);
      }
      const isPublic = route.access === 'public';
      const authorizer: IHttpRouteAuthorizer = isPublic ? none : this.authorizer;
      const httpRoute = new HttpRoute(this, pascal(route.operationId), {
        httpApi: this.httpApi,
        routeKey: HttpRouteKey.with(route.path, HttpMethod[route.method]),
        integration,
        authorizer,
        ...(isPublic || props.jwtScopes === undefined ? {} : { authorizationScopes: props.jwtScopes }),
      });
      if (isPublic) {
        Validations.of(httpRoute).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `${route.method} ${route.path} is public by design (route table access 'public'): it serves only the API description, no data`,
        });
      }
    }

    new CfnOutput(this, 'Url', { key: 'ApiUrl', value: this.url, description: 'Base URL of the Elevate HTTP API' });
  }

  /**
   * Lets the web console, served from `origin`, call the API from the browser (CORS; API Gateway answers the
   * preflight itself, before the authorizer). Only bearer tokens: no credentials mode, no cookies.
   */
  public allowBrowserOrigin(origin: string): void {
    (this.httpApi.node.defaultChild as CfnApi).corsConfiguration = {
      allowOrigins: [origin],
      allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowHeaders: [...CORS_REQUEST_HEADERS],
      exposeHeaders: [...CORS_EXPOSED_HEADERS],
      allowCredentials: false,
      maxAge: 3600,
    };
  }

  /** The function serving the named API function's routes; throws if the API does not have it. */
  public functionOf(fn: FunctionName): AppFunction {
    const found = this.functions[fn];
    if (found === undefined) throw new Error(`api function ${fn} does not exist; check the route table`);
    return found;
  }
}
