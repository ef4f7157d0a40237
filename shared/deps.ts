import { type Clock, clock } from './clock.ts';
import { type Config, configFromEnv } from './config.ts';
import { log } from './http/log.ts';
import { EventBridgePublisher, type EventPublisher } from './ports/events.ts';
import { type IdentityCenter, SsoAdminIdentityCenter } from './ports/identity-center.ts';
import { AwsIdentityStore, type IdentityStore } from './ports/identity-store.ts';
import { type Mailer, SesMailer } from './ports/mailer.ts';
import { AwsOrganizations, type Organizations } from './ports/organizations.ts';
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
  /** IAM Identity Center, its identity store and Organizations; undefined when Identity Center is not configured. */
  provisioning: ProvisioningPorts | undefined;
}

export interface ProvisioningPorts {
  identityCenter: IdentityCenter;
  identityStore: IdentityStore;
  organizations: Organizations;
}

const built = new Map<string, Deps>();

/** Follows whichever clock the process uses now (the local runtime may install a manual one later). */
const processClock: Clock = { now: () => clock().now() };

/** A port that is not configured in this environment: says so once per call, does nothing else. */
const unconfigured = (what: string) => async () => {
  log('warn', `${what} is not configured; skipped`);
};

/** Ports from the environment, cached per table (Lambda: one; local tests: one per test table). */
export function depsFromEnv(): Deps {
  const config = configFromEnv();
  let deps = built.get(config.tableName);
  if (!deps) {
    const workflow: Workflow = config.stateMachineArn
      ? new StepFunctionsWorkflow(config.stateMachineArn)
      : {
          start: unconfigured('the workflow'),
          stop: unconfigured('the workflow'),
          succeed: async () => false,
          fail: async () => false,
        };
    deps = {
      store: Store.fromEnv(config.tableName),
      clock: processClock,
      config,
      workflow,
      mailer: config.senderAddress
        ? new SesMailer(config.senderAddress, undefined, config.mailConfigurationSet)
        : { send: unconfigured('mail (ELEVATE_SENDER_ADDRESS)') },
      events: config.eventBusName
        ? new EventBridgePublisher(config.eventBusName)
        : { publish: unconfigured('the event bus') },
      provisioning: config.identityCenter
        ? {
            identityCenter: new SsoAdminIdentityCenter(config.identityCenter.instanceArn),
            identityStore: new AwsIdentityStore(config.identityCenter.identityStoreId),
            organizations: new AwsOrganizations(),
          }
        : undefined,
    };
    built.set(config.tableName, deps);
  }
  return deps;
}
