import type { Deps } from '../deps.ts';
import { isLive } from '../domain/assignment.ts';
import { nextExecutionName } from '../domain/execution.ts';
import type { WorkflowInput } from '../ports/workflow.ts';
import { keys } from '../store/records.ts';
import { toAssignment } from './assignments.ts';
import { readRequest, workflowInput } from './request-records.ts';

/**
 * Workflow step `continue`: the execution reached its horizon (a STANDARD execution lives at most a year) while
 * the request still waits for its start or its end; a new execution, named `<requestId>-<n>`, carries the wait on
 * from the request's current state. Nothing to wait for (ended, revoked, permanent): nothing is started.
 */
export async function continueStep(
  deps: Deps,
  requestId: string,
  execution: string,
): Promise<{ continuedAs: string | null }> {
  const now = deps.clock.now();
  const r = await readRequest(deps.store, requestId);
  let input: WorkflowInput | undefined;
  if (r.status === 'Scheduled') {
    input = workflowInput(r, 'start', now);
  } else if (r.status === 'Granted' && r.assignmentId) {
    const item = await deps.store.get(keys.assignment(r.assignmentId));
    const a = item ? toAssignment(item) : undefined;
    if (a && isLive(a) && Date.parse(a.startDateTime) > now.getTime()) input = workflowInput(r, 'start', now);
    else if (a && isLive(a) && a.endDateTime) input = workflowInput(r, 'expiry', now, a.endDateTime);
  }
  if (!input) return { continuedAs: null };
  const name = nextExecutionName(requestId, execution);
  await deps.workflow.start(name, input);
  return { continuedAs: name };
}
