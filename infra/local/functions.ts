/**
 * The non-API Lambda functions the local runtime runs in-process: the workflow's (called by the local Step
 * Functions runner by its local name, `elevate-workflow`) and one per scheduled job (`functions/scheduled/
 * <fn>.ts`, from SCHEDULES). Each is imported with a plain string specifier so Vite (vitest) and Node both
 * resolve it; `checkFunctions` compares the table with the synthesized template, so a renamed entry or a
 * new function in the state machine fails the start with a clear message instead of a failed execution.
 */
import { randomUUID } from 'node:crypto';
import type { Template } from 'aws-cdk-lib/assertions';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { SCHEDULE_TIMEOUT_SECONDS, SCHEDULES } from '#functions/scheduled/schedules.ts';
import { localFunctions } from '#infra/template.ts';
import { clock } from '#shared/clock.ts';
import { FunctionEnvironments } from './function-env.ts';

/** A Lambda handler as the local runtime calls it: the event and a context. */
export type LocalHandler = (event: unknown, context: Context) => Promise<unknown>;

interface LocalFunctionModule {
  readonly entry: string;
  readonly load: () => Promise<{ handler: LocalHandler }>;
}

/** Functions the state machine calls, by local name (the template's AppFunction `localName`). */
const WORKFLOW_FUNCTIONS: Record<string, LocalFunctionModule> = {
  'elevate-workflow': {
    entry: 'functions/workflow/handler.ts',
    load: () => import('#functions/workflow/handler.ts'),
  },
};

type ScheduledFn = (typeof SCHEDULES)[number]['fn'];

/** One loader per SCHEDULES `fn` (the type makes a new entry in SCHEDULES a compile error here until added). */
const SCHEDULED_FUNCTIONS: Record<ScheduledFn, LocalFunctionModule> = {
  reconcile: {
    entry: 'functions/scheduled/reconcile.ts',
    load: () => import('#functions/scheduled/reconcile.ts'),
  },
  'audit-export': {
    entry: 'functions/scheduled/audit-export.ts',
    load: () => import('#functions/scheduled/audit-export.ts'),
  },
  reviews: {
    entry: 'functions/scheduled/reviews.ts',
    load: () => import('#functions/scheduled/reviews.ts'),
  },
  alerts: {
    entry: 'functions/scheduled/alerts.ts',
    load: () => import('#functions/scheduled/alerts.ts'),
  },
  drift: {
    entry: 'functions/scheduled/drift.ts',
    load: () => import('#functions/scheduled/drift.ts'),
  },
  digest: {
    entry: 'functions/scheduled/digest.ts',
    load: () => import('#functions/scheduled/digest.ts'),
  },
  'organization-sync': {
    entry: 'functions/scheduled/organization-sync.ts',
    load: () => import('#functions/scheduled/organization-sync.ts'),
  },
};

/** The outbox publisher, which the local stream poller calls as Lambda's event source mapping would. */
const OUTBOX_FUNCTION: LocalFunctionModule = {
  entry: 'functions/stream/outbox.ts',
  load: () => import('#functions/stream/outbox.ts') as Promise<{ handler: LocalHandler }>,
};

/** The mail feedback function, which the local SES stand-in calls as the stack's EventBridge rule would. */
const MAIL_FEEDBACK_FUNCTION: LocalFunctionModule = {
  entry: 'functions/mail/feedback.ts',
  load: () => import('#functions/mail/feedback.ts') as Promise<{ handler: LocalHandler }>,
};

/** A Lambda context good enough for the handlers (by default a 30 s timeout, like the deployed API functions). */
export function lambdaContext(functionName: string, requestId: string, region: string, timeoutMs = 30_000): Context {
  // getRemainingTimeInMillis is about the real invocation deadline, so it uses process time, not the clock.
  const deadline = performance.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, Math.round(deadline - performance.now())),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

function notFound(functionName: string): Error {
  const error = new Error(`Function not found: ${functionName} (the local runtime has no handler for it)`);
  error.name = 'ResourceNotFoundException';
  return error;
}

/** A scheduled job's local name (`elevate-<name>`), as in the template. */
const scheduledName = (schedule: (typeof SCHEDULES)[number]) => `elevate-${schedule.name}`;

/**
 * The functions of one local runtime: each invoked in-process, with a Lambda context and the environment the
 * template gives it (function-env.ts).
 */
export class LocalFunctions {
  readonly environments: FunctionEnvironments;

  constructor(
    template: Template,
    readonly region: string,
  ) {
    this.environments = new FunctionEnvironments(template);
  }

  /** Runs `work` as the function of `entry`, named `functionName`: with the environment the template gives it. */
  run<T>(entry: string, functionName: string, work: () => Promise<T>): Promise<T> {
    return this.environments.run(entry, functionName, work);
  }

  /** Invoke the outbox publisher with a batch of stream records; its partial batch response. */
  async invokeOutbox(records: unknown[]): Promise<{ batchItemFailures?: { itemIdentifier: string }[] }> {
    const { handler } = await OUTBOX_FUNCTION.load();
    const name = 'elevate-outbox';
    return (await this.run(OUTBOX_FUNCTION.entry, name, () =>
      handler({ Records: records }, lambdaContext(name, randomUUID(), this.region)),
    )) as { batchItemFailures?: { itemIdentifier: string }[] };
  }

  /** Invoke the mail feedback function with an SES bounce or complaint event (an EventBridge rule target). */
  async invokeMailFeedback(event: unknown): Promise<unknown> {
    const { handler } = await MAIL_FEEDBACK_FUNCTION.load();
    const name = 'elevate-mail-feedback';
    return this.run(MAIL_FEEDBACK_FUNCTION.entry, name, () =>
      handler(event, lambdaContext(name, randomUUID(), this.region)),
    );
  }

  /** Invoke a function of the state machine by its local name, in-process (the runner's LambdaInvoker). */
  async invokeWorkflow(functionName: string, payload: unknown): Promise<unknown> {
    const fn = WORKFLOW_FUNCTIONS[functionName];
    if (!fn) throw notFound(functionName);
    const { handler } = await fn.load();
    return this.run(fn.entry, functionName, () =>
      handler(payload, lambdaContext(functionName, randomUUID(), this.region)),
    );
  }

  /** A scheduled job's function invoked by its local name (`elevate-<name>`) with a payload (Lambda Invoke). */
  async invokeScheduled(functionName: string, payload: unknown): Promise<unknown> {
    const schedule = SCHEDULES.find((s) => scheduledName(s) === functionName);
    if (!schedule) throw notFound(functionName);
    const fn = SCHEDULED_FUNCTIONS[schedule.fn];
    const { handler } = await fn.load();
    const timeoutMs = SCHEDULE_TIMEOUT_SECONDS[schedule.name] * 1000;
    return this.run(fn.entry, functionName, () =>
      handler(payload, lambdaContext(functionName, randomUUID(), this.region, timeoutMs)),
    );
  }

  /** A scheduled job: its handler called with the event an EventBridge schedule rule sends. */
  scheduledJob(schedule: (typeof SCHEDULES)[number]): () => Promise<unknown> {
    const fn = SCHEDULED_FUNCTIONS[schedule.fn];
    const functionName = scheduledName(schedule);
    const timeoutMs = SCHEDULE_TIMEOUT_SECONDS[schedule.name] * 1000;
    return async () => {
      const { handler } = await fn.load();
      const event: ScheduledEvent = {
        version: '0',
        id: randomUUID(),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: '000000000000',
        time: clock().now().toISOString(),
        region: this.region,
        resources: [`arn:aws:events:${this.region}:000000000000:rule/${functionName}`],
        detail: {},
      };
      return this.run(fn.entry, functionName, () =>
        handler(event, lambdaContext(functionName, randomUUID(), this.region, timeoutMs)),
      );
    };
  }
}

/**
 * Throws unless every function the state machine calls has a local handler here, with the same entry file as
 * in the template, and every scheduled job's entry matches the template's.
 */
export function checkFunctions(template: Template, stateMachineFunctions: readonly string[]): void {
  const inTemplate = localFunctions(template);
  const problems: string[] = [];
  for (const name of new Set(stateMachineFunctions)) {
    const local = WORKFLOW_FUNCTIONS[name];
    const declared = inTemplate[name];
    if (!local) problems.push(`the state machine calls ${name}, which infra/local/functions.ts does not map`);
    else if (declared && declared.entry !== local.entry) {
      problems.push(`${name}: the template's entry is ${declared.entry}, the local runtime runs ${local.entry}`);
    }
  }
  const outbox = inTemplate['elevate-outbox'];
  if (outbox && outbox.entry !== OUTBOX_FUNCTION.entry) {
    problems.push(
      `elevate-outbox: the template's entry is ${outbox.entry}, the local runtime runs ${OUTBOX_FUNCTION.entry}`,
    );
  }
  const feedback = inTemplate['elevate-mail-feedback'];
  if (feedback && feedback.entry !== MAIL_FEEDBACK_FUNCTION.entry) {
    problems.push(
      `elevate-mail-feedback: the template's entry is ${feedback.entry}, the local runtime runs ${MAIL_FEEDBACK_FUNCTION.entry}`,
    );
  }
  for (const schedule of SCHEDULES) {
    const declared = inTemplate[`elevate-${schedule.name}`];
    const local = SCHEDULED_FUNCTIONS[schedule.fn];
    if (declared && declared.entry !== local.entry) {
      problems.push(
        `schedule ${schedule.name}: the template's entry is ${declared.entry}, the local runtime runs ${local.entry}`,
      );
    }
  }
  if (problems.length > 0)
    throw new Error(`the local runtime's functions do not match the template:\n${problems.join('\n')}`);
}
