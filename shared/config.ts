import { AsyncLocalStorage } from 'node:async_hooks';

/** Settings from the environment, read once per process. */
export interface Config {
  tableName: string;
  /**
   * AWS_LAMBDA_FUNCTION_NAME: set in a Lambda (and by the local runtime for each function it runs). There a port
   * whose setting is missing fails when called instead of skipping: a capability missing from the function's wiring
   * is an error, not silently dropped mail, events or workflow starts.
   */
  functionName: string | undefined;
  bootstrapAdmins: string[];
  /** How long an Idempotency-Key is remembered. */
  idempotencyTtlHours: number;
  /** Largest accepted request body, in bytes. */
  maxBodyBytes: number;
  /** The access workflow (unset: no workflow runs; the reconcile job keeps the time alone). */
  stateMachineArn: string | undefined;
  /** SES sender (unset: no mail is sent, and that is logged). */
  senderAddress: string | undefined;
  /** The SES configuration set every message is sent under (its bounce and complaint events are recorded). */
  mailConfigurationSet: string | undefined;
  /** The lifecycle event bus (unset: no events are published). */
  eventBusName: string | undefined;
  /** The API's base URL, for links in mail. */
  apiUrl: string;
  /** The web console's address, for links in mail (`<consoleUrl>/requests/{id}`); unset: mail has no console link. */
  consoleUrl: string | undefined;
  /** The audit export bucket (unset: exports fail with a clear message). */
  auditBucket: string | undefined;
  /** The function that runs audit exports, invoked asynchronously by POST /v1/audit-exports. */
  exportFunctionName: string | undefined;
  /**
   * The deployment's half of `governance.adminMfa` (ELEVATE_ADMIN_MFA, default true): `false` turns the MFA
   * requirement on admin changes off whatever the settings say, for identity providers that never report `amr`.
   */
  adminMfa: boolean;
  /**
   * IAM Identity Center (provisioning.md, "Configuration"): unset instance or identity store = not configured
   * (a role with targets cannot be granted: TargetNotReady).
   */
  identityCenter: IdentityCenterConfig | undefined;
  /** Slack (docs/slack.md): unset, Slack is off and nothing else changes. */
  slack: SlackConfig | undefined;
}

/**
 * Slack's credentials: the ARN of a Secrets Manager secret (deployed: ELEVATE_SLACK_SECRET_ARN), or the signing
 * secret and bot token themselves (locally: ELEVATE_SLACK_SIGNING_SECRET and ELEVATE_SLACK_BOT_TOKEN); `apiUrl` is
 * the Web API's base URL (ELEVATE_SLACK_API_URL; unset: Slack's own).
 */
export type SlackConfig = ({ secretArn: string } | { signingSecret: string; botToken: string }) & {
  apiUrl: string | undefined;
};

export function slackFromEnv(env: NodeJS.ProcessEnv): SlackConfig | undefined {
  const apiUrl = env.ELEVATE_SLACK_API_URL || undefined;
  if (env.ELEVATE_SLACK_SECRET_ARN) return { secretArn: env.ELEVATE_SLACK_SECRET_ARN, apiUrl };
  const signingSecret = env.ELEVATE_SLACK_SIGNING_SECRET;
  const botToken = env.ELEVATE_SLACK_BOT_TOKEN;
  if (!signingSecret && !botToken) return undefined;
  if (!signingSecret || !botToken) {
    throw new Error('ELEVATE_SLACK_SIGNING_SECRET and ELEVATE_SLACK_BOT_TOKEN are set together, or neither');
  }
  return { signingSecret, botToken, apiUrl };
}

export interface IdentityCenterConfig {
  instanceArn: string;
  identityStoreId: string;
  /** How a principal is found among the Identity Center users: its id is the UserName, or its e-mail the primary one. */
  userAttribute: 'userName' | 'email';
  /** The session fence (provisioning.md): on unless ELEVATE_FENCE_SESSIONS=false. */
  fenceSessions: boolean;
  /** The AWS access portal URL shown to users when access is ready (null: not shown). */
  accessPortalUrl: string | null;
}

export function identityCenterFromEnv(env: NodeJS.ProcessEnv): IdentityCenterConfig | undefined {
  const instanceArn = env.ELEVATE_IDC_INSTANCE_ARN;
  const identityStoreId = env.ELEVATE_IDENTITY_STORE_ID;
  if (!instanceArn || !identityStoreId) return undefined;
  const attribute = env.ELEVATE_IDC_USER_ATTRIBUTE || 'userName';
  if (attribute !== 'userName' && attribute !== 'email') {
    throw new Error(`ELEVATE_IDC_USER_ATTRIBUTE must be userName or email, not '${attribute}'`);
  }
  return {
    instanceArn,
    identityStoreId,
    userAttribute: attribute,
    fenceSessions: (env.ELEVATE_FENCE_SESSIONS ?? 'true').toLowerCase() !== 'false',
    accessPortalUrl: env.ELEVATE_ACCESS_PORTAL_URL || null,
  };
}

export const parseList = (text: string | undefined): string[] =>
  (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** `true`/`false` (any case), or the default when unset or empty; anything else is a deployment mistake. */
export function parseFlag(text: string | undefined, fallback: boolean, name: string): boolean {
  const value = (text ?? '').trim().toLowerCase();
  if (value === '') return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new Error(`${name} must be true or false, not '${text}'`);
}

const scoped = new AsyncLocalStorage<NodeJS.ProcessEnv>();

/**
 * The environment of the function that runs: the process's (one function per process in AWS), or the one the local
 * runtime gives the function it runs (`withFunctionEnv`: only the variables the template gives that function).
 */
export function functionEnv(): NodeJS.ProcessEnv {
  return scoped.getStore() ?? process.env;
}

/** Runs `work` (and all it sets off) with `env` as its function's environment (the local runtime's functions). */
export function withFunctionEnv<T>(env: NodeJS.ProcessEnv, work: () => T): T {
  return scoped.run(env, work);
}

export function configFromEnv(env: NodeJS.ProcessEnv = functionEnv()): Config {
  const tableName = env.TABLE_NAME;
  if (!tableName) throw new Error('TABLE_NAME is not set: the function needs the name of its DynamoDB table');
  return {
    tableName,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME || undefined,
    bootstrapAdmins: parseList(env.ELEVATE_BOOTSTRAP_ADMINS),
    idempotencyTtlHours: 24,
    maxBodyBytes: 64 * 1024,
    stateMachineArn: env.STATE_MACHINE_ARN || undefined,
    senderAddress: env.ELEVATE_SENDER_ADDRESS || undefined,
    mailConfigurationSet: env.ELEVATE_MAIL_CONFIGURATION_SET || undefined,
    eventBusName: env.EVENT_BUS_NAME || undefined,
    apiUrl: (env.ELEVATE_API_URL || 'https://elevate.example.com').replace(/\/$/, ''),
    consoleUrl: env.ELEVATE_CONSOLE_URL ? env.ELEVATE_CONSOLE_URL.replace(/\/$/, '') : undefined,
    auditBucket: env.AUDIT_BUCKET || undefined,
    exportFunctionName: env.EXPORT_FUNCTION_NAME || undefined,
    adminMfa: parseFlag(env.ELEVATE_ADMIN_MFA, true, 'ELEVATE_ADMIN_MFA'),
    identityCenter: identityCenterFromEnv(env),
    slack: slackFromEnv(env),
  };
}
