import * as z from 'zod';
import { depsFromEnv } from '#shared/deps.ts';
import { invocationHandler } from '#shared/invocation.ts';
import { log } from '#shared/log.ts';
import { awaitApprovalStep } from '#shared/usecases/approvals.ts';
import { continueStep } from '#shared/usecases/continuation.ts';
import { expireStep, failedStep, grantStep, timeOutStep } from '#shared/usecases/lifecycle.ts';
import { provisionStep } from '#shared/usecases/provisioning-steps.ts';

/**
 * The access workflow's one Lambda: each state of the state machine calls it with a `kind`.
 * Every step re-reads the request and is idempotent, so a retried state changes nothing twice.
 */
const Event = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('awaitApproval'),
    requestId: z.string(),
    stage: z.int().min(0),
    taskToken: z.string().min(1),
  }),
  z.object({ kind: z.literal('timedOut'), requestId: z.string(), stage: z.int().min(0).optional() }),
  z.object({ kind: z.literal('grant'), requestId: z.string() }),
  z.object({ kind: z.literal('expire'), requestId: z.string() }),
  z.object({ kind: z.literal('failed'), requestId: z.string(), error: z.unknown().optional() }),
  z.object({ kind: z.literal('continue'), requestId: z.string(), execution: z.string().min(1) }),
  z.object({ kind: z.literal('provision'), requestId: z.string(), assignmentId: z.string().min(1) }),
  z.object({ kind: z.literal('deprovision'), requestId: z.string(), assignmentId: z.string().min(1) }),
]);

export const handler = invocationHandler(
  'workflow step',
  async (event: z.output<typeof Event>) => {
    const deps = depsFromEnv();
    log('debug', 'workflow step', { kind: event.kind, requestId: event.requestId });
    switch (event.kind) {
      case 'awaitApproval':
        return awaitApprovalStep(deps, event.requestId, event.stage, event.taskToken);
      case 'timedOut':
        return timeOutStep(deps, event.requestId);
      case 'grant':
        return grantStep(deps, event.requestId);
      case 'expire':
        return expireStep(deps, event.requestId);
      case 'failed':
        return failedStep(deps, event.requestId, event.error);
      case 'continue':
        return continueStep(deps, event.requestId, event.execution);
      case 'provision': {
        // The grant's shape (`$.grant`): `Provisioned?` loops while provisioning, then `Granted?` keeps the end.
        const r = await provisionStep(deps, event.assignmentId);
        return {
          granted: r.granted,
          waitUntil: r.waitUntil,
          provisioning: !r.done,
          waitSeconds: r.waitSeconds,
          assignmentId: r.assignmentId,
        };
      }
      case 'deprovision': {
        // The expiry's shape (`$.expiry`): `Deprovisioned?` loops while the access is being taken away.
        const r = await provisionStep(deps, event.assignmentId);
        return {
          expired: true,
          waitUntil: null,
          deprovisioning: !r.done,
          waitSeconds: r.waitSeconds,
          assignmentId: r.assignmentId,
        };
      }
    }
  },
  (raw) => Event.parse(raw),
);
