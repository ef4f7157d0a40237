import { CfnOutput, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
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
import { FUNCTIONS, type FunctionName, ROUTES, type Route } from '#functions/api/routes.ts';
import { AppFunction } from '#infra/constructs/app-function.ts';
import type { IDataTable } from '#infra/constructs/data.ts';

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
};

/** Stage-wide request throttling. */
export interface ApiThrottle {
  /** Steady-state requests per second. */
  readonly rateLimit: number;
  /** Requests allowed in a burst above the steady rate. */
  readonly burstLimit: number;
}

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
   * The default stage's throttling. Sized for an access-management API used by people and a few scripts;
   * API Gateway answers 429 beyond it.
   * @default { rateLimit: 50, burstLimit: 100 }
   */
  readonly throttle?: ApiThrottle;

  /**
   * How long the access log group keeps its events.
   * @default RetentionDays.ONE_YEAR
   */
  readonly accessLogRetention?: RetentionDays;

  /**
   * The routes to serve; each `fn` gets one function with the entry `functions/api/<fn>.ts`.
   * @default ROUTES (functions/api/routes.ts)
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
 * per API function, a JWT authorizer on every route but the public ones, a throttled `$default` stage
 * with JSON access logs, and no CORS (callers are scripts and back ends, not browsers on other origins).
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
    const throttle = props.throttle ?? { rateLimit: 50, burstLimit: 100 };

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
      throttle,
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs), format: ACCESS_LOG_FORMAT },
    });
    this.url = this.stage.url;

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

  /** The function serving the named API function's routes; throws if the API does not have it. */
  public functionOf(fn: FunctionName): AppFunction {
    const found = this.functions[fn];
    if (found === undefined) throw new Error(`api function ${fn} does not exist; check the route table`);
    return found;
  }
}
