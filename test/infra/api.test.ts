import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { CAPACITY, THROTTLES, throttleClassOf, throttleLoad } from '#infra/constructs/api.ts';
import { AUDIT_DENIED_ACTIONS, INDEX_ACTIONS, READ_ACTIONS, WRITE_ACTIONS } from '#infra/constructs/data.ts';
import { synthTemplate } from '#infra/synth.ts';
import { FUNCTIONS, ROUTES } from '#shared/api/routes.ts';
import { DEFAULT_ACCEPTED_SCOPES } from '#shared/auth/scopes.ts';
import { AUDIT_KEY_PREFIXES } from '#shared/store/records.ts';
import { TABLE } from '#shared/store/table.ts';
import { idcCheckStatements } from '#test/support/idc-policy.ts';

let template: Template;

beforeAll(() => {
  template = synthTemplate({ bundling: false });
}, 60_000);

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
const resources = (type: string): Resources => template.findResources(type) as Resources;
const onlyKey = (found: Resources): string => {
  const keys = Object.keys(found);
  expect(keys).toHaveLength(1);
  return keys[0] as string;
};
const tableRef = () => ({ 'Fn::GetAtt': [onlyKey(resources('AWS::DynamoDB::GlobalTable')), 'Arn'] });
const functionLogicalId = (constructId: string): string =>
  onlyKey(
    Object.fromEntries(
      Object.entries(resources('AWS::Lambda::Function')).filter(([k]) =>
        new RegExp(`^Api${constructId}[0-9A-F]{8}$`).test(k),
      ),
    ),
  );
const policyOf = (constructId: string): unknown[] => {
  const found = Object.entries(resources('AWS::IAM::Policy')).filter(([k]) =>
    new RegExp(`^Api${constructId}RoleDefaultPolicy[0-9A-F]{8}$`).test(k),
  );
  expect(found).toHaveLength(1);
  const document = (found[0]?.[1].Properties.PolicyDocument ?? {}) as { Statement: unknown[] };
  return document.Statement;
};
const logStatement = (constructId: string) => {
  const logGroup = onlyKey(
    Object.fromEntries(
      Object.entries(resources('AWS::Logs::LogGroup')).filter(([k]) =>
        new RegExp(`^Api${constructId}LogGroup`).test(k),
      ),
    ),
  );
  return {
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Effect: 'Allow',
    Resource: { 'Fn::GetAtt': [logGroup, 'Arn'] },
  };
};

describe('api routes', () => {
  it('has one route per route-table entry, JWT-guarded unless public', () => {
    // Prepare
    const authorizer = onlyKey(resources('AWS::ApiGatewayV2::Authorizer'));

    // Assess
    template.resourceCountIs('AWS::ApiGatewayV2::Route', ROUTES.length);
    for (const route of ROUTES) {
      template.hasResourceProperties(
        'AWS::ApiGatewayV2::Route',
        route.access === 'public'
          ? { RouteKey: `${route.method} ${route.path}`, AuthorizationType: 'NONE', AuthorizerId: Match.absent() }
          : {
              RouteKey: `${route.method} ${route.path}`,
              AuthorizationType: 'JWT',
              AuthorizerId: { Ref: authorizer },
              AuthorizationScopes: { 'Fn::Split': [',', { Ref: 'OidcScopes' }] },
            },
      );
    }
  });

  it('sends each route to the function the route table names', () => {
    // Assess
    for (const route of ROUTES) {
      const [routeResource] = Object.values(resources('AWS::ApiGatewayV2::Route')).filter(
        (r) => r.Properties.RouteKey === `${route.method} ${route.path}`,
      );
      const target = routeResource?.Properties.Target as { 'Fn::Join': [string, unknown[]] };
      const integrationId = (target['Fn::Join'][1][1] as { Ref: string }).Ref;
      const integration = resources('AWS::ApiGatewayV2::Integration')[integrationId];
      const fn = route.fn.charAt(0).toUpperCase() + route.fn.slice(1);
      expect(integration?.Properties).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [functionLogicalId(`${fn}Function`), 'Arn'] },
      });
    }
  });

  it('wires the JWT authorizer to the OidcIssuer and OidcAudience parameters', () => {
    // Assess
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Issuer: { Ref: 'OidcIssuer' },
        Audience: { 'Fn::Split': [',', { Ref: 'OidcAudience' }] },
      },
    });
    template.hasParameter('OidcIssuer', { Type: 'String', Default: 'https://idp.example.com' });
    template.hasParameter('OidcAudience', { Type: 'String', Default: 'elevate-api' });
    template.hasParameter('OidcScopes', { Type: 'String', Default: DEFAULT_ACCEPTED_SCOPES, MinLength: 1 });
    template.hasParameter('BootstrapAdmins', { Type: 'String', Default: '' });
    template.hasParameter('SenderAddress', { Type: 'String' });
    template.hasParameter('AdminMfa', { Type: 'String', Default: 'true', AllowedValues: ['true', 'false'] });
  });

  it('access-logs the $default stage, CORS for the console only, the tightest throttle as the default of a route', () => {
    // Assess
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiAccessLogs'), 'Arn'] },
        Format: Match.stringLikeRegexp('\\$context\\.requestId'),
      },
    });
    // One browser origin: ConsoleUrl when given, else the console's own CloudFront address; bearer tokens only.
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: {
        AllowOrigins: [
          {
            'Fn::If': [
              'ConsoleUrlGiven',
              { Ref: 'ConsoleUrl' },
              {
                'Fn::Join': [
                  '',
                  ['https://', { 'Fn::GetAtt': [Match.stringLikeRegexp('^ConsoleDistribution'), 'DomainName'] }],
                ],
              },
            ],
          },
        ],
        AllowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
        AllowHeaders: ['authorization', 'content-type', 'idempotency-key'],
        ExposeHeaders: ['date', 'location', 'retry-after'],
        AllowCredentials: false,
      },
    });
    template.hasOutput('ApiUrl', {});
  });

  it('throttles every route by its class, from the route table', () => {
    // Prepare
    const stage = Object.values(resources('AWS::ApiGatewayV2::Stage'))[0];
    const settings = stage?.Properties.RouteSettings as Record<string, Record<string, number>>;

    // Assess
    expect(Object.keys(settings).sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    for (const route of ROUTES) {
      const limit = THROTTLES[throttleClassOf(route)];
      expect(settings[`${route.method} ${route.path}`]).toEqual({
        ThrottlingRateLimit: limit.rateLimit,
        ThrottlingBurstLimit: limit.burstLimit,
      });
    }
    expect(settings['GET /v1/access']).toEqual({ ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 });
    expect(settings['POST /v1/requests']).toEqual({ ThrottlingRateLimit: 25, ThrottlingBurstLimit: 50 });
    expect(settings['POST /v1/audit-exports']).toEqual({ ThrottlingRateLimit: 1, ThrottlingBurstLimit: 2 });
  });

  it('keeps the sum of the route limits within the table and Lambda budgets', () => {
    // Act
    const load = throttleLoad(ROUTES);

    // Assess
    expect(load.writesPerSecond).toBeLessThanOrEqual(CAPACITY.writeTransactionsPerSecond);
    expect(load.concurrency).toBeLessThanOrEqual(CAPACITY.lambdaConcurrency);
  });
});

describe('api functions', () => {
  it('runs one house-default function per API function, with the shared environment', () => {
    // Assess
    for (const fn of FUNCTIONS) {
      const id = functionLogicalId(`${fn.charAt(0).toUpperCase()}${fn.slice(1)}Function`);
      expect(resources('AWS::Lambda::Function')[id]?.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        MemorySize: 512,
        Timeout: 10,
        Environment: {
          Variables: {
            NODE_OPTIONS: '--enable-source-maps',
            TABLE_NAME: { Ref: onlyKey(resources('AWS::DynamoDB::GlobalTable')) },
            ELEVATE_BOOTSTRAP_ADMINS: { Ref: 'BootstrapAdmins' },
            ELEVATE_ISSUER: { Ref: 'OidcIssuer' },
            ELEVATE_AUDIENCE: { Ref: 'OidcAudience' },
            ELEVATE_ADMIN_MFA: { Ref: 'AdminMfa' },
          },
        },
      });
    }
  });

  it('logs every function to an explicit log group kept for a year', () => {
    // Assess
    const logGroups = Object.values(resources('AWS::Logs::LogGroup'));
    expect(logGroups.length).toBeGreaterThanOrEqual(FUNCTIONS.length + 1);
    for (const logGroup of logGroups) expect(logGroup.Properties.RetentionInDays).toBe(365);
    for (const fn of Object.values(resources('AWS::Lambda::Function'))) {
      const ref = (fn.Properties.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)?.LogGroup?.Ref;
      expect(Object.keys(resources('AWS::Logs::LogGroup'))).toContain(ref);
    }
  });

  it('gives a read/write function exactly its log stream and item-level table access, no Scan', () => {
    // Prepare
    const indexArns = TABLE.globalSecondaryIndexes.map((i) => ({
      'Fn::Join': ['', [tableRef(), `/index/${i.indexName}`]],
    }));

    // Assess
    expect(policyOf('RolesFunction')).toEqual([
      logStatement('RolesFunction'),
      { Action: [...READ_ACTIONS, ...WRITE_ACTIONS].sort(), Effect: 'Allow', Resource: tableRef() },
      { Action: INDEX_ACTIONS[0], Effect: 'Allow', Resource: indexArns },
      {
        Action: [...AUDIT_DENIED_ACTIONS].sort(),
        Condition: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': AUDIT_KEY_PREFIXES.map((p) => `${p}*`) } },
        Effect: 'Deny',
        Resource: tableRef(),
      },
      // PUT /v1/roles/{roleId}/targets checks that each permission set and group exists
      ...idcCheckStatements(),
    ]);
    expect(READ_ACTIONS).not.toContain('dynamodb:Scan');
  });

  it('gives meta no table access at all', () => {
    // Assess
    expect(policyOf('MetaFunction')).toEqual([logStatement('MetaFunction')]);
    expect(JSON.stringify(policyOf('MetaFunction'))).not.toContain('dynamodb:');
  });

  it('uses no AWS-managed policies', () => {
    // Assess
    for (const role of Object.values(resources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('bootstrap', () => {
  it('runs the bootstrap handler with the admins as a property, at each deploy', () => {
    // Assess
    template.hasResourceProperties('Custom::ElevateBootstrap', {
      ServiceToken: { 'Fn::GetAtt': [Match.stringLikeRegexp('^BootstrapProviderframeworkonEvent'), 'Arn'] },
      BootstrapAdmins: { Ref: 'BootstrapAdmins' },
      DeployNonce: Match.stringLikeRegexp('^\\d+$'),
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Action: [...READ_ACTIONS, ...WRITE_ACTIONS].sort(), Effect: 'Allow', Resource: tableRef() },
        ]),
      },
      Roles: [{ Ref: Match.stringLikeRegexp('^BootstrapHandlerRole') }],
    });
  });
});
