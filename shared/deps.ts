import { type Clock, clock } from './clock.ts';
import { type Config, configFromEnv } from './config.ts';
import { log } from './log.ts';
import { EventBridgePublisher, type EventPublisher } from './ports/events.ts';
import { type IdentityCenter, SsoAdminIdentityCenter } from './ports/identity-center.ts';
import { AwsIdentityStore, type IdentityStore } from './ports/identity-store.ts';
import { type Mailer, SesMailer } from './ports/mailer.ts';
import { type ExportJobs, LambdaExportJobs, type ObjectStore, S3ObjectStore } from './ports/objects.ts';
import { AwsOrganizations, type Organizations } from './ports/organizations.ts';
import { type Slack, WebApiSlack } from './ports/slack.ts';
import { StepFunctionsWorkflow, type Workflow } from './ports/workflow.ts';
import { Store } from './store/store.ts';

/** What a use case needs from the outside world: the ports, built once per process. */
export interface Deps {
  store: Store;
  clock: Clock;
  config: Config;
  workflow: Workflow;
  mailer: Mailer;
  events: EventPublisher;
  /** The audit exports' bucket (AUDIT_BUCKET). */
  objects: ObjectStore;
  /** Starts an audit export job (an asynchronous invoke of EXPORT_FUNCTION_NAME). */
  exportJobs: ExportJobs;
  /** IAM Identity Center, its identity store and Organizations; undefined when Identity Center is not configured. */
  provisioning: ProvisioningPorts | undefined;
  /** Slack's Web API; undefined when Slack is not configured (nothing is posted, every interaction is refused). */
  slack: Slack | undefined;
}

export interface ProvisioningPorts {
  identityCenter: IdentityCenter;
  identityStore: IdentityStore;
  organizations: Organizations;
}

const built = new Map<string, Deps>();
/**
 * The adapters, one per table and setting per process, shared by every Deps that names both (so a test that reaches
 * a client through depsFromEnv() reaches the one the functions use). Per table: each local runtime of a test process
 * has its own table and its own endpoints, which a client reads when it is made.
 */
const adapters = new Map<string, unknown>();

function adapter<T>(config: Config, key: string, make: () => T): T {
  const id = `${config.tableName}|${key}`;
  if (!adapters.has(id)) adapters.set(id, make());
  return adapters.get(id) as T;
}

/** Follows whichever clock the process uses now (the local runtime may install a manual one later). */
const processClock: Clock = { now: () => clock().now(), sleep: (ms) => clock().sleep(ms) };

/**
 * A port whose setting is missing. In a Lambda (and in a function the local runtime runs), every call fails, naming
 * the setting and the capability that brings it (infra/stack.ts): a function wired without it fails loudly, in its
 * first local test. Elsewhere (a use case called directly by a test or a script), the call is skipped with a warning.
 */
function unconfigured(config: Config, what: string, setting: string, capability: string) {
  return async (): Promise<never | undefined> => {
    if (config.functionName) {
      throw new Error(
        `${setting} is not set: ${what} is not configured for ${config.functionName} ` +
          `(its wiring in infra/stack.ts lacks the '${capability}' capability)`,
      );
    }
    log('warn', `${what} is not configured; skipped`, { setting });
    return undefined;
  };
}

/** An export port that is not configured: every call fails, saying which setting is missing. */
const missing = (name: string) => async (): Promise<never> => {
  throw new Error(`${name} is not set: audit exports are not configured`);
};

function workflowOf(config: Config): Workflow {
  const arn = config.stateMachineArn;
  if (arn) return adapter(config, `workflow|${arn}`, () => new StepFunctionsWorkflow(arn));
  const skip = unconfigured(config, 'the workflow', 'STATE_MACHINE_ARN', 'start');
  const answer = unconfigured(config, 'the workflow', 'STATE_MACHINE_ARN', 'taskResponse');
  return {
    start: skip,
    stop: unconfigured(config, 'the workflow', 'STATE_MACHINE_ARN', 'stop'),
    succeed: async () => (await answer()) ?? false,
    fail: async () => (await answer()) ?? false,
  };
}

/**
 * Ports from the function's environment (`functionEnv`), one Deps per distinct configuration (Lambda: one; the local
 * runtime: one per function wiring and test table).
 */
export function depsFromEnv(): Deps {
  const config = configFromEnv();
  const key = JSON.stringify(config);
  let deps = built.get(key);
  if (!deps) {
    const { senderAddress, eventBusName, auditBucket, exportFunctionName, identityCenter } = config;
    deps = {
      store: adapter(config, `store|${config.tableName}`, () => Store.fromEnv(config.tableName)),
      clock: processClock,
      config,
      workflow: workflowOf(config),
      mailer: senderAddress
        ? adapter(
            config,
            `mail|${senderAddress}|${config.mailConfigurationSet ?? ''}`,
            () => new SesMailer(senderAddress, undefined, config.mailConfigurationSet),
          )
        : { send: unconfigured(config, 'mail', 'ELEVATE_SENDER_ADDRESS', 'mail') },
      events: eventBusName
        ? adapter(config, `events|${eventBusName}`, () => new EventBridgePublisher(eventBusName))
        : { publish: unconfigured(config, 'the event bus', 'EVENT_BUS_NAME', 'events') },
      // The S3 endpoint is read when the store is made: one per endpoint (the local tests run several S3s).
      objects: auditBucket
        ? adapter(
            config,
            `objects|${auditBucket}|${process.env.AWS_ENDPOINT_URL_S3 ?? ''}`,
            () => new S3ObjectStore(auditBucket),
          )
        : { upload: missing('AUDIT_BUCKET'), create: missing('AUDIT_BUCKET'), presignGet: missing('AUDIT_BUCKET') },
      exportJobs: exportFunctionName
        ? adapter(config, `exportJobs|${exportFunctionName}`, () => new LambdaExportJobs(exportFunctionName))
        : { start: missing('EXPORT_FUNCTION_NAME') },
      provisioning: identityCenter
        ? adapter(config, `provisioning|${identityCenter.instanceArn}|${identityCenter.identityStoreId}`, () => ({
            identityCenter: new SsoAdminIdentityCenter(identityCenter.instanceArn),
            identityStore: new AwsIdentityStore(identityCenter.identityStoreId),
            organizations: new AwsOrganizations(),
          }))
        : undefined,
      slack: config.slack
        ? adapter(config, `slack|${JSON.stringify(config.slack)}`, () => new WebApiSlack(config.slack as never))
        : undefined,
    };
    built.set(key, deps);
  }
  return deps;
}
