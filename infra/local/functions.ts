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
import { localFunctions } from '#infra/synth.ts';
import { clock } from '#shared/clock.ts';

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

/** Invoke the mail feedback function with an SES bounce or complaint event (an EventBridge rule target). */
export async function invokeMailFeedbackFunction(event: unknown, region: string): Promise<unknown> {
  const { handler } = await MAIL_FEEDBACK_FUNCTION.load();
  return handler(event, lambdaContext('elevate-mail-feedback', randomUUID(), region));
}

/** Invoke the outbox publisher with a batch of stream records; its partial batch response. */
export async function invokeOutboxFunction(
  records: unknown[],
  region: string,
): Promise<{ batchItemFailures?: { itemIdentifier: string }[] }> {
  const { handler } = await OUTBOX_FUNCTION.load();
  return (await handler({ Records: records }, lambdaContext('elevate-outbox', randomUUID(), region))) as {
    batchItemFailures?: { itemIdentifier: string }[];
  };
}

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

/** Invoke a function of the state machine by its local name, in-process (the runner's LambdaInvoker). */
export async function invokeWorkflowFunction(functionName: string, payload: unknown, region: string): Promise<unknown> {
  const fn = WORKFLOW_FUNCTIONS[functionName];
  if (!fn) throw notFound(functionName);
  const { handler } = await fn.load();
  return handler(payload, lambdaContext(functionName, randomUUID(), region));
}

/** A scheduled job's function invoked by its local name (`elevate-<name>`) with a payload (Lambda Invoke). */
export async function invokeScheduledFunction(functionName: string, payload: unknown, region: string) {
  const schedule = SCHEDULES.find((s) => `elevate-${s.name}` === functionName);
  if (!schedule) throw notFound(functionName);
  const { handler } = await SCHEDULED_FUNCTIONS[schedule.fn].load();
  return handler(
    payload,
    lambdaContext(functionName, randomUUID(), region, SCHEDULE_TIMEOUT_SECONDS[schedule.name] * 1000),
  );
}

/** A scheduled job: its handler called with the event an EventBridge schedule rule sends. */
export function scheduledJobRunner(schedule: (typeof SCHEDULES)[number], region: string): () => Promise<unknown> {
  const fn = SCHEDULED_FUNCTIONS[schedule.fn];
  const functionName = `elevate-${schedule.name}`;
  return async () => {
    const { handler } = await fn.load();
    const event: ScheduledEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: clock().now().toISOString(),
      region,
      resources: [`arn:aws:events:${region}:000000000000:rule/elevate-${schedule.name}`],
      detail: {},
    };
    return handler(
      event,
      lambdaContext(functionName, randomUUID(), region, SCHEDULE_TIMEOUT_SECONDS[schedule.name] * 1000),
    );
  };
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
