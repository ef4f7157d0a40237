import {
  CfnCondition,
  CfnOutput,
  CfnParameter,
  Duration,
  Fn,
  SecretValue,
  Stack,
  type StackProps,
  Token,
  Validations,
} from 'aws-cdk-lib';
import { EventBus } from 'aws-cdk-lib/aws-events';
import type { IRole, Role } from 'aws-cdk-lib/aws-iam';
import { AnyPrincipal, Effect, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { SCHEDULE_TIMEOUT_SECONDS } from '#functions/scheduled/schedules.ts';
import { Api } from '#infra/constructs/api.ts';
import type { AppFunction } from '#infra/constructs/app-function.ts';
import { AuditBucket } from '#infra/constructs/audit-bucket.ts';
import { Bootstrap } from '#infra/constructs/bootstrap.ts';
import { ConsoleHosting } from '#infra/constructs/console-hosting.ts';
import { DataTable } from '#infra/constructs/data.ts';
import { IdentityCenterAccess } from '#infra/constructs/identity-center.ts';
import { MailSender } from '#infra/constructs/mail.ts';
import { Monitoring } from '#infra/constructs/monitoring.ts';
import { OutboxPublisher } from '#infra/constructs/outbox.ts';
import { Schedules, type ScheduleTableAccess } from '#infra/constructs/schedules.ts';
import { SlackClientLayer } from '#infra/constructs/slack-layer.ts';
import { AccessWorkflow } from '#infra/constructs/workflow.ts';
import type { FunctionName } from '#shared/api/routes.ts';
import { DEFAULT_ACCEPTED_SCOPES } from '#shared/auth/scopes.ts';
import { EVENT_SOURCE } from '#shared/ports/events.ts';

/** The parameters' defaults, each overridable with a context value (`cdk synth -c oidcIssuer=...`). */
export const PARAMETER_DEFAULTS = {
  oidcIssuer: 'https://idp.example.com',
  oidcAudience: 'elevate-api',
  oidcScopes: DEFAULT_ACCEPTED_SCOPES,
  bootstrapAdmins: '',
  senderAddress: 'elevate@example.com',
  identityCenterInstanceArn: '',
  identityStoreId: '',
  identityCenterUserAttribute: 'userName',
  fenceSessions: 'true',
  accessPortalUrl: '',
  adminMfa: 'true',
  consoleUrl: '',
  consoleClientId: 'elevate-console',
  consoleAuthorizationEndpoint: '',
  consoleTokenEndpoint: '',
} as const;

export type ParameterContextKey = keyof typeof PARAMETER_DEFAULTS;

/**
 * `https://<host>` of an https URL given as a parameter (a CSP source expression), or '' when it is empty. The URL
 * is padded before the split so that the host's index exists in both branches of the condition.
 */
function originOf(scope: Stack, id: string, url: string): string {
  const empty = new CfnCondition(scope, `${id}Empty`, { expression: Fn.conditionEquals(url, '') });
  const host = Fn.select(2, Fn.split('/', Fn.join('', [url, '///'])));
  return Token.asString(Fn.conditionIf(empty.logicalId, '', Fn.join('', ['https://', host])));
}

/** The name of the lifecycle event bus. */
export const EVENT_BUS_NAME = 'elevate';

/**
 * What a function may do beyond its table access; each capability brings its environment variable and its
 * grant together, so a function never holds a setting it may not use:
 *
 * - `start`: STATE_MACHINE_ARN; states:StartExecution on the machine.
 * - `stop`: STATE_MACHINE_ARN; states:StopExecution on the machine's executions.
 * - `taskResponse`: STATE_MACHINE_ARN (the workflow port needs it to exist); states:SendTask* (on `*`).
 * - `events`: EVENT_BUS_NAME; events:PutEvents on the bus.
 * - `mail`: ELEVATE_SENDER_ADDRESS and ELEVATE_MAIL_CONFIGURATION_SET; ses:SendEmail on the sender address's
 *   identity and the configuration set.
 * - `auditWrite`: AUDIT_BUCKET; s3:PutObject (+ multipart) under `audit/` (the export job).
 * - `auditRead`: AUDIT_BUCKET; s3:GetObject under `audit/` (presigned downloads).
 * - `exportStart`: EXPORT_FUNCTION_NAME; lambda:InvokeFunction on the audit-export function.
 * - `idcCheck`: the Identity Center settings; the pre-grant checks' reads (IdentityCenterAccess.grantCheck).
 * - `idcProvision`: the Identity Center settings; account assignments and memberships, with the IAM actions AWS
 *   documents for them (IdentityCenterAccess.grantProvision).
 * - `idcFence`: the Identity Center settings; the session fence: the permission set's inline policy and its
 *   provisioning (IdentityCenterAccess.grantFence).
 * - `idcDrift`: the Identity Center settings; the drift job's listing (and, in remove mode, deleting) of what AWS
 *   has of the managed permission sets and groups (IdentityCenterAccess.grantDrift).
 * - `organizationRead`: the Identity Center settings; the organization-sync walk (grantOrganizationRead).
 * - `invokeSelf`: lambda:InvokeFunction on the function itself (unqualified ARN only), in a policy of its own (the
 *   function's default policy would make the function depend on its own ARN): Slack's interactions function hands
 *   a modal submission to its own asynchronous run (InvocationType Event) and answers Slack at once (docs/slack.md).
 * - `slack`: ELEVATE_SLACK_SECRET_ARN (empty while the Slack parameters are) and the Slack client's layer;
 *   secretsmanager:GetSecretValue on the Slack secret (docs/slack.md).
 */
export type Capability =
  | 'start'
  | 'stop'
  | 'taskResponse'
  | 'events'
  | 'mail'
  | 'auditWrite'
  | 'auditRead'
  | 'exportStart'
  | 'idcCheck'
  | 'idcProvision'
  | 'idcFence'
  | 'idcDrift'
  | 'organizationRead'
  | 'invokeSelf'
  | 'slack';

/** The capabilities of the API functions (the others have none): `requests` serves the POSTs that decide. */
export const API_CAPABILITIES: Readonly<Partial<Record<FunctionName, readonly Capability[]>>> = {
  requests: ['start', 'taskResponse', 'stop', 'mail', 'idcCheck', 'slack'],
  // Slack's interactions: a decision, as POST /v1/requests/{id}/approve|deny makes it, after the answer (invokeSelf).
  slack: ['start', 'taskResponse', 'stop', 'mail', 'idcCheck', 'slack', 'invokeSelf'],
  roles: ['idcCheck'],
  exports: ['auditRead', 'exportStart'],
  reviews: ['mail'],
  // An approved pending change runs its original call: an admin request (workflow, mail, the pre-grant checks)
  // or new targets (which must exist in Identity Center). Its lifecycle events go out through the outbox.
  governance: ['start', 'stop', 'mail', 'idcCheck', 'slack'],
};

/** The capabilities of the workflow handler (its own STATE_MACHINE_ARN comes from AccessWorkflow). */
export const WORKFLOW_CAPABILITIES: readonly Capability[] = [
  'taskResponse',
  'mail',
  'idcProvision',
  'idcFence',
  'slack',
];

/**
 * The capabilities of the outbox publisher: it alone puts lifecycle events on the bus (the others write them
 * into the table with their change, see OutboxPublisher).
 */
export const OUTBOX_CAPABILITIES: readonly Capability[] = ['events'];

/** The capabilities of each scheduled job, by name (a job not listed has none). */
export const SCHEDULE_CAPABILITIES: Readonly<Record<string, readonly Capability[]>> = {
  // idcCheck: a scheduled start it grants finds the principal's Identity Center user (provisioning.md); the
  // provisioning itself is the workflow's. idcFence: it takes out the session fences whose time has come
  // (fence.ts, unfenceDue).
  reconcile: ['start', 'taskResponse', 'mail', 'exportStart', 'idcCheck', 'idcFence', 'slack'],
  'audit-export': ['auditWrite'],
  reviews: ['mail'],
  alerts: ['mail'],
  digest: ['mail'],
  'organization-sync': ['organizationRead'],
  drift: ['idcDrift'],
};

/**
 * The table access of each scheduled job (a job not listed reads and writes): the digest reads, mails and keeps only
 * its own progress record (a digest cut short by its time budget goes on from it).
 */
export const SCHEDULE_TABLE_ACCESS: Readonly<Record<string, ScheduleTableAccess>> = {
  reconcile: 'readWrite',
  'audit-export': 'readWrite',
  reviews: 'readWrite',
  alerts: 'readWrite',
  digest: 'readAndOwnProgress',
};

/**
 * The window in which each scheduled job must have run at least once, or its "did not run" alarm fires: three of
 * reconcile's 5-minute runs, two of the hourly jobs', one day of the daily export. The weekly digest has none (its
 * errors are alarmed; a missed digest costs nothing that the next one does not catch up).
 */
export const MISSED_RUN_WINDOWS: Readonly<Record<string, Duration | undefined>> = {
  reconcile: Duration.minutes(15),
  reviews: Duration.hours(2),
  alerts: Duration.hours(2),
  'audit-export': Duration.days(1),
  drift: Duration.hours(2),
};

export interface ElevateStackProps extends StackProps {
  /**
   * Passed to the bootstrap custom resource so it runs at each deploy.
   * @default - the synthesis time
   */
  readonly deployNonce?: string;
}

/**
 * Elevate: the table, the HTTP API, the access workflow, the scheduled jobs, the lifecycle event bus, mail
 * and the break-glass bootstrap.
 *
 * Every function gets TABLE_NAME, ELEVATE_BOOTSTRAP_ADMINS, ELEVATE_ISSUER, ELEVATE_AUDIENCE and ELEVATE_ADMIN_MFA; the API,
 * workflow and scheduled functions also ELEVATE_API_URL (the API's base URL, for links in mail; no cycle:
 * the URL refers to the HTTP API resource only, which refers to no function); the rest comes with the
 * capabilities (see `Capability`).
 */
export class ElevateStack extends Stack {
  public readonly data: DataTable;
  public readonly api: Api;
  public readonly bootstrap: Bootstrap;
  public readonly webConsole: ConsoleHosting;
  public readonly bus: EventBus;
  public readonly mail: MailSender;
  public readonly workflow: AccessWorkflow;
  public readonly schedules: Schedules;
  public readonly audit: AuditBucket;
  public readonly outbox: OutboxPublisher;
  public readonly monitoring: Monitoring;
  public readonly identityCenter: IdentityCenterAccess;
  /** The Identity Center settings every function with an Identity Center capability gets. */
  private readonly idcEnvironment: Record<string, string>;
  /** Slack's credentials (docs/slack.md), and what a function with the `slack` capability gets. */
  public readonly slackSecret: Secret;
  private readonly slackEnvironment: Record<string, string>;
  /** `@slack/web-api` for the functions with the `slack` capability (no bundle carries it). */
  public readonly slackClient: SlackClientLayer;

  constructor(scope: Construct, id: string, props: ElevateStackProps = {}) {
    super(scope, id, props);

    const fromContext = (key: ParameterContextKey): string => {
      const value: unknown = this.node.tryGetContext(key);
      if (value === undefined) return PARAMETER_DEFAULTS[key];
      if (typeof value !== 'string') throw new Error(`context ${key} must be a string; pass it as -c ${key}=...`);
      return value;
    };

    const issuer = new CfnParameter(this, 'OidcIssuer', {
      type: 'String',
      description: 'Issuer URL of the OIDC provider whose JWTs the API accepts (the iss claim)',
      default: fromContext('oidcIssuer'),
      allowedPattern: '^https://\\S+$',
      constraintDescription: 'must be an https URL',
    });
    const audience = new CfnParameter(this, 'OidcAudience', {
      type: 'String',
      description: 'Comma-separated audiences the API accepts (the aud claim)',
      default: fromContext('oidcAudience'),
      minLength: 1,
    });
    const scopes = new CfnParameter(this, 'OidcScopes', {
      type: 'String',
      description:
        'Comma-separated OAuth scopes; a token must carry one in its scope (or scp) claim, so ID tokens are refused',
      default: fromContext('oidcScopes'),
      minLength: 1,
    });
    const bootstrapAdmins = new CfnParameter(this, 'BootstrapAdmins', {
      type: 'String',
      description: 'Comma-separated principal ids (sub) of the break-glass admins; empty for none',
      default: fromContext('bootstrapAdmins'),
    });
    const consoleUrl = new CfnParameter(this, 'ConsoleUrl', {
      type: 'String',
      description:
        "The web console's address for the links in approval and review mail and the API's CORS origin (e.g. https://elevate.example.com when a custom domain fronts the console); empty: the console's own CloudFront address",
      default: fromContext('consoleUrl'),
    });
    const consoleClientId = new CfnParameter(this, 'ConsoleClientId', {
      type: 'String',
      description:
        "The console's OAuth client id at the issuer (a public client: authorization code with PKCE, no secret; its redirect URI is <console>/callback)",
      default: fromContext('consoleClientId'),
      minLength: 1,
    });
    const consoleAuthorize = new CfnParameter(this, 'ConsoleAuthorizationEndpoint', {
      type: 'String',
      description:
        "The issuer's authorization endpoint for the console's sign-in; empty: read from the issuer's discovery document",
      default: fromContext('consoleAuthorizationEndpoint'),
      allowedPattern: '^$|^https://\\S+$',
    });
    const consoleToken = new CfnParameter(this, 'ConsoleTokenEndpoint', {
      type: 'String',
      description:
        "The issuer's token endpoint for the console's sign-in; empty: read from the issuer's discovery document",
      default: fromContext('consoleTokenEndpoint'),
      allowedPattern: '^$|^https://\\S+$',
    });
    const senderAddress = new CfnParameter(this, 'SenderAddress', {
      type: 'String',
      description: 'The SES-verified address Elevate sends mail from',
      default: fromContext('senderAddress'),
    });

    const adminMfa = new CfnParameter(this, 'AdminMfa', {
      type: 'String',
      description:
        'true: every change made with elevate-admin authority needs MFA (amr contains mfa), as governance.adminMfa ' +
        'says; false: never (for identity providers that do not report amr)',
      default: fromContext('adminMfa'),
      allowedValues: ['true', 'false'],
    });

    const retention = new CfnParameter(this, 'AuditRetentionDays', {
      type: 'Number',
      description: 'Object Lock retention (compliance mode) of the audit exports, in days',
      default: 400,
      minValue: 1,
    });

    const idcInstance = new CfnParameter(this, 'IdentityCenterInstanceArn', {
      type: 'String',
      description:
        'The IAM Identity Center instance grants are provisioned into (arn:aws:sso:::instance/ssoins-...); empty: roles cannot have targets',
      default: fromContext('identityCenterInstanceArn'),
      allowedPattern: '^$|^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}$',
      constraintDescription: 'must be empty or an Identity Center instance ARN',
    });
    const identityStore = new CfnParameter(this, 'IdentityStoreId', {
      type: 'String',
      description: "The instance's identity store (d-...); empty with the instance",
      default: fromContext('identityStoreId'),
      allowedPattern: '^$|^d-[0-9a-f]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
    });
    const userAttribute = new CfnParameter(this, 'IdentityCenterUserAttribute', {
      type: 'String',
      description:
        "How a principal is found among the Identity Center users: its id is the UserName, or its e-mail the user's primary e-mail",
      default: fromContext('identityCenterUserAttribute'),
      allowedValues: ['userName', 'email'],
    });
    const fenceSessions = new CfnParameter(this, 'FenceSessions', {
      type: 'String',
      description:
        'End the live AWS sessions of removed access (the session fence in the permission set inline policy)',
      default: fromContext('fenceSessions'),
      allowedValues: ['true', 'false'],
    });
    const portal = new CfnParameter(this, 'AccessPortalUrl', {
      type: 'String',
      description: 'The AWS access portal URL shown to users when access is ready; empty: not shown',
      default: fromContext('accessPortalUrl'),
      allowedPattern: '^$|^https://\\S+$',
    });
    this.identityCenter = new IdentityCenterAccess(this, 'IdentityCenter', {
      instanceArn: idcInstance.valueAsString,
      identityStoreId: identityStore.valueAsString,
    });
    this.idcEnvironment = this.identityCenter.environment({
      ELEVATE_IDC_USER_ATTRIBUTE: userAttribute.valueAsString,
      ELEVATE_FENCE_SESSIONS: fenceSessions.valueAsString,
      ELEVATE_ACCESS_PORTAL_URL: portal.valueAsString,
    });

    const slackSigningSecret = new CfnParameter(this, 'SlackSigningSecret', {
      type: 'String',
      noEcho: true,
      description: "The Slack app's signing secret (docs/slack.md); empty with the bot token: Slack is off",
      default: '',
    });
    const slackBotToken = new CfnParameter(this, 'SlackBotToken', {
      type: 'String',
      noEcho: true,
      description: "The Slack app's bot token (xoxb-...); empty with the signing secret: Slack is off",
      default: '',
      allowedPattern: '^$|^xoxb-[A-Za-z0-9-]+$',
    });
    const slackOn = new CfnCondition(this, 'SlackOn', {
      expression: Fn.conditionAnd(
        Fn.conditionNot(Fn.conditionEquals(slackSigningSecret.valueAsString, '')),
        Fn.conditionNot(Fn.conditionEquals(slackBotToken.valueAsString, '')),
      ),
    });
    // Read at a function's cold start and cached (shared/ports/slack.ts). Kept even while Slack is off (empty).
    this.slackSecret = new Secret(this, 'SlackSecret', {
      description:
        "Elevate's Slack app: signing secret and bot token (from the SlackSigningSecret and SlackBotToken parameters)",
      secretObjectValue: {
        signingSecret: SecretValue.cfnParameter(slackSigningSecret),
        botToken: SecretValue.cfnParameter(slackBotToken),
      },
    });
    Validations.of(this.slackSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        "Slack's signing secret and bot token are issued by Slack, not by a rotation function: rotate them in the Slack app and deploy them as the parameters",
    });
    this.slackClient = new SlackClientLayer(this, 'SlackClient');
    this.slackEnvironment = {
      ELEVATE_SLACK_SECRET_ARN: Fn.conditionIf(slackOn.logicalId, this.slackSecret.secretArn, '').toString(),
    };

    this.data = new DataTable(this, 'Data');
    this.audit = new AuditBucket(this, 'Audit', { retentionDays: retention.valueAsNumber });

    const environment: Record<string, string> = {
      TABLE_NAME: this.data.table.tableName,
      ELEVATE_BOOTSTRAP_ADMINS: bootstrapAdmins.valueAsString,
      ELEVATE_ISSUER: issuer.valueAsString,
      ELEVATE_AUDIENCE: audience.valueAsString,
      ELEVATE_ADMIN_MFA: adminMfa.valueAsString,
    };

    this.api = new Api(this, 'Api', {
      data: this.data,
      jwtIssuer: issuer.valueAsString,
      jwtAudience: Fn.split(',', audience.valueAsString),
      jwtScopes: Fn.split(',', scopes.valueAsString),
      environment,
    });

    this.bootstrap = new Bootstrap(this, 'Bootstrap', {
      data: this.data,
      bootstrapAdmins: bootstrapAdmins.valueAsString,
      environment,
      ...(props.deployNonce === undefined ? {} : { deployNonce: props.deployNonce }),
    });

    this.bus = new EventBus(this, 'Bus', {
      eventBusName: EVENT_BUS_NAME,
      description: 'Elevate lifecycle events: requests, decisions, grants, expiries',
    });
    this.mail = new MailSender(this, 'Mail', {
      senderAddress: senderAddress.valueAsString,
      data: this.data,
      environment,
    });

    // The console: its own address unless ConsoleUrl names another (a custom domain in front of it).
    this.webConsole = new ConsoleHosting(this, 'Console', {
      accessLogs: this.audit.accessLogs,
      config: {
        apiUrl: this.api.httpApi.apiEndpoint,
        issuer: issuer.valueAsString,
        clientId: consoleClientId.valueAsString,
        scope: Fn.join(' ', ['openid', Fn.join(' ', Fn.split(',', scopes.valueAsString))]),
        authorizationEndpoint: consoleAuthorize.valueAsString,
        tokenEndpoint: consoleToken.valueAsString,
      },
      // The CSP's connect-src: the region's API Gateway hosts (naming this API's would make a cycle: its CORS
      // names the console), the issuer's origin (discovery), the token endpoint's origin.
      connectSources: [
        Fn.join('', ['https://*.execute-api.', this.region, '.', this.urlSuffix]),
        originOf(this, 'Issuer', issuer.valueAsString),
        originOf(this, 'TokenEndpoint', consoleToken.valueAsString),
      ],
      ...(props.deployNonce === undefined ? {} : { deployNonce: props.deployNonce }),
    });
    const consoleUrlGiven = new CfnCondition(this, 'ConsoleUrlGiven', {
      expression: Fn.conditionNot(Fn.conditionEquals(consoleUrl.valueAsString, '')),
    });
    const effectiveConsoleUrl = Token.asString(
      Fn.conditionIf(consoleUrlGiven.logicalId, consoleUrl.valueAsString, this.webConsole.url),
    );
    this.api.allowBrowserOrigin(effectiveConsoleUrl);
    new CfnOutput(this, 'ConsoleOutputUrl', {
      key: 'ConsoleUrl',
      value: effectiveConsoleUrl,
      description: 'The web console (register <ConsoleUrl>/callback as the redirect URI of ConsoleClientId)',
    });

    const withApiUrl = { ...environment, ELEVATE_API_URL: this.api.url, ELEVATE_CONSOLE_URL: effectiveConsoleUrl };
    this.workflow = new AccessWorkflow(this, 'Workflow', { data: this.data, environment: withApiUrl });
    this.schedules = new Schedules(this, 'Schedules', {
      data: this.data,
      environment: withApiUrl,
      timeouts: Object.fromEntries(
        Object.entries(SCHEDULE_TIMEOUT_SECONDS).map(([job, seconds]) => [job, Duration.seconds(seconds)]),
      ),
      tableAccess: SCHEDULE_TABLE_ACCESS,
      // Its S3 writes to the Object Lock bucket run on the SDK they were tested with, not the runtime's.
      bundleAwsSdk: ['audit-export'],
    });

    for (const [fn, fnc] of Object.entries(this.api.functions)) {
      fnc.addEnvironment('ELEVATE_API_URL', this.api.url);
      fnc.addEnvironment('ELEVATE_CONSOLE_URL', effectiveConsoleUrl);
      this.wire(fnc, API_CAPABILITIES[fn as FunctionName] ?? []);
    }
    this.wire(this.workflow.handler, WORKFLOW_CAPABILITIES);
    for (const [name, fnc] of Object.entries(this.schedules.functions))
      this.wire(fnc, SCHEDULE_CAPABILITIES[name] ?? []);
    this.outbox = new OutboxPublisher(this, 'Outbox', { data: this.data, environment });
    this.wire(this.outbox.handler, OUTBOX_CAPABILITIES);

    const alarmEmail = new CfnParameter(this, 'AlarmEmail', {
      type: 'String',
      description: 'The address the alarm topic mails (it confirms the subscription once); empty for none',
      default: '',
    });
    const pascal = (name: string) => name.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase());
    this.monitoring = new Monitoring(this, 'Monitoring', {
      functions: {
        ...Object.fromEntries(Object.entries(this.api.functions).map(([fn, f]) => [`Api${pascal(fn)}`, f])),
        ...Object.fromEntries(Object.entries(this.schedules.functions).map(([job, f]) => [`Job${pascal(job)}`, f])),
        Workflow: this.workflow.handler,
        Outbox: this.outbox.handler,
        Bootstrap: this.bootstrap.handler,
        ConsolePublisher: this.webConsole.handler,
        MailFeedback: this.mail.feedback,
      },
      schedules: Object.fromEntries(
        Object.entries(this.schedules.functions).map(([job, fn]) => {
          const window = MISSED_RUN_WINDOWS[job];
          return [pascal(job), window === undefined ? { fn } : { fn, window }];
        }),
      ),
      stateMachine: this.workflow.stateMachine,
      table: this.data.table,
      deadLetterQueues: {
        OutboxDeadLetters: this.outbox.deadLetters,
        JobFailures: this.schedules.failures,
        MailFeedbackFailures: this.mail.feedbackFailures,
      },
      alarmEmail,
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.monitoring.topic.topicArn,
      description: 'The SNS topic every alarm notifies (subscribe more endpoints to it)',
    });
    this.guardBus();

    new CfnOutput(this, 'StateMachineArn', {
      value: this.workflow.stateMachine.stateMachineArn,
      description: 'ARN of the Elevate access workflow',
    });
    new CfnOutput(this, 'AuditBucketName', {
      value: this.audit.bucket.bucketName,
      description: 'The audit export bucket (verify with npm run audit:verify -- s3://<bucket>/audit/)',
    });
    new CfnOutput(this, 'EventBusName', { value: this.bus.eventBusName, description: 'The lifecycle event bus' });
  }

  /**
   * The bus's resource policy: nobody but the roles of Elevate's own publishing functions may put an event of
   * source `elevate` on it, whatever their identity policies allow (an explicit deny beats any allow). Other
   * sources stay open to whoever the account lets put events, so provisioners can share the bus.
   */
  private guardBus(): void {
    this.bus.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OnlyElevatePublishesElevateEvents',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        conditions: {
          StringEquals: { 'events:source': EVENT_SOURCE },
          ArnNotEquals: { 'aws:PrincipalArn': this.publishers.map((role) => role.roleArn) },
        },
      }),
    );
  }

  /** The roles of the functions that publish lifecycle events (the `events` capability). */
  private readonly publishers: IRole[] = [];

  /** Gives the function the environment variables and the grants of its capabilities. */
  private wire(fn: AppFunction, capabilities: readonly Capability[]): void {
    const has = (c: Capability): boolean => capabilities.includes(c);
    // The workflow handler already has the machine's ARN (built from its name: the machine refers to it).
    if ((has('start') || has('stop') || has('taskResponse')) && fn !== this.workflow.handler) {
      fn.addEnvironment('STATE_MACHINE_ARN', this.workflow.stateMachine.stateMachineArn);
    }
    if (has('start')) this.workflow.grantStart(fn);
    if (has('taskResponse')) this.workflow.grantTaskResponse(fn);
    if (has('stop')) this.workflow.grantStop(fn);
    if (has('events')) {
      fn.addEnvironment('EVENT_BUS_NAME', this.bus.eventBusName);
      this.bus.grantPutEventsTo(fn);
      if (fn.role) this.publishers.push(fn.role);
    }
    if (has('mail')) {
      fn.addEnvironment('ELEVATE_SENDER_ADDRESS', this.mail.senderAddress);
      fn.addEnvironment('ELEVATE_MAIL_CONFIGURATION_SET', this.mail.configurationSet.configurationSetName);
      this.mail.grantSendEmail(fn);
      // A role with task responses already acknowledges Resource "*" (TASK_RESPONSE_REASON); one per resource.
      if (!has('taskResponse')) {
        Validations.of(fn.role as Role).acknowledge({
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'ses:GetAccount (the send quota the mailer paces itself by) takes no resource; IAM only accepts ' +
            'Resource "*" for it, and it reads nothing but the account sending limits',
        });
      }
    }
    if (has('idcCheck') || has('idcProvision') || has('idcFence') || has('idcDrift') || has('organizationRead')) {
      for (const [name, value] of Object.entries(this.idcEnvironment)) fn.addEnvironment(name, value);
    }
    if (has('idcCheck')) this.identityCenter.grantCheck(fn);
    if (has('idcProvision')) this.identityCenter.grantProvision(fn);
    if (has('idcFence')) this.identityCenter.grantFence(fn);
    if (has('idcDrift')) this.identityCenter.grantDrift(fn);
    if (has('organizationRead')) this.identityCenter.grantOrganizationRead(fn);
    if (has('slack')) {
      for (const [name, value] of Object.entries(this.slackEnvironment)) fn.addEnvironment(name, value);
      this.slackSecret.grantRead(fn);
      fn.addLayers(this.slackClient.layer);
    }
    if (has('invokeSelf')) {
      // Its asynchronous run: Lambda retries a failed one twice; an event older than the lease of a submission
      // (shared/usecases/slack.ts) is worth nothing to the approver waiting in Slack after 15 minutes. A run that
      // still fails goes to the jobs' failure queue (alarmed, JobFailures), never lost silently.
      fn.configureAsyncInvoke({
        retryAttempts: 2,
        maxEventAge: Duration.minutes(15),
        onFailure: new SqsDestination(this.schedules.failures),
      });
      new Policy(this, `${fn.node.id}InvokeSelf`, {
        roles: [fn.role as IRole],
        statements: [new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] })],
      });
    }
    if (has('auditWrite') || has('auditRead')) fn.addEnvironment('AUDIT_BUCKET', this.audit.bucket.bucketName);
    if (has('auditWrite')) this.audit.grantWriteExports(fn);
    if (has('auditRead')) this.audit.grantReadExports(fn);
    if (has('exportStart')) {
      const job = this.schedules.functionOf('audit-export');
      fn.addEnvironment('EXPORT_FUNCTION_NAME', job.functionName);
      job.grantInvoke(fn);
      Validations.of(fn.role as Role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(job.node.defaultChild as CfnFunction)}.Arn>:*]`,
        reason:
          'grantInvoke allows lambda:InvokeFunction on the audit-export function and its qualified ARNs; the ' +
          'wildcard only covers versions and aliases of that one function',
      });
    }
  }
}
