import type { Deps } from '../deps.ts';
import { currentStageIndex } from '../domain/approval.ts';
import { type Assignment, effectiveStatus, reminderDue } from '../domain/assignment.ts';
import { SYSTEM_ACTOR } from '../domain/audit.ts';
import { formatMs } from '../domain/duration.ts';
import { DomainError } from '../domain/errors.ts';
import { log } from '../log.ts';
import * as mail from '../notifications/templates.ts';
import { ops, queries, stored } from '../store/records.ts';
import { raise, readAlertSettings } from './alerts.ts';
import { toAssignment } from './assignments.ts';
import { NO_BUDGET, type TimeBudget } from './audit.ts';
import { auditEvent } from './context.ts';
import { type Effect, runEffects } from './effects.ts';
import { restartStaleExports } from './exports.ts';
import { unfenceDue } from './fence.ts';
import { expireChanges } from './governance.ts';
import { endWrites, grantStep, principalName, timeOutStep } from './lifecycle.ts';
import { resumeProvisioning } from './provisioning-steps.ts';
import { factsOf, readRequest } from './request-records.ts';
import { policyOfRequest, requireRole } from './roles.ts';

/**
 * The safety net (every 5 minutes): whatever a workflow should have done and has not, this does.
 * - expires assignments past their end (and records an `expiryMissed` finding when a workflow was late),
 * - starts scheduled assignments and grants scheduled requests whose start has come,
 * - times out approval stages past their deadline,
 * - reminds holders 1 day and 1 hour before the end (once each, for assignments that last that long),
 * - starts again the audit exports whose job never ran,
 * - expires the pending changes (requireSecondAdmin) that no second administrator decided within 7 days,
 * - takes out the session fences whose SessionDuration + 5 minutes has passed (fence.ts, `unfenceDue`).
 * Each action goes through the same idempotent step the workflow uses, so racing it is harmless.
 */
export interface ReconcileReport {
  expired: number;
  missed: number;
  started: number;
  timedOut: number;
  reminded: number;
  /** Audit exports whose job never ran, or whose run died (lease over), started again. */
  exportsRestarted: number;
  /** False when the run's time budget ran out first: the rest is still due, and the next run takes it up. */
  complete: boolean;
  /** Pending changes (requireSecondAdmin) past their 7 days, now Expired. */
  changesExpired: number;
  /** Grants whose provisioning (or removal) in AWS had stalled (its execution gave up), moved on again. */
  provisioningResumed: number;
  /** Session fence statements taken out of permission sets' inline policies. */
  unfenced: number;
}

/** How late a workflow may be before its lateness is a finding. */
const GRACE_MS = 60_000;

/**
 * Works in pages (one Query page in memory at a time) and within `budget`: once the invocation's time left falls
 * under the reserve it stops, in order of importance (expiries first), and reports `complete: false`; whatever
 * it did not reach is still due (still in the index it reads), so the next run goes on from there.
 */
export async function reconcile(deps: Deps, budget: TimeBudget = NO_BUDGET): Promise<ReconcileReport> {
  const now = deps.clock.now();
  const report: ReconcileReport = {
    expired: 0,
    missed: 0,
    started: 0,
    timedOut: 0,
    reminded: 0,
    exportsRestarted: 0,
    complete: true,
    changesExpired: 0,
    provisioningResumed: 0,
    unfenced: 0,
  };
  const run: Run = {
    deps,
    now,
    report,
    outOfTime: () => {
      if (budget.timeLeft() >= budget.reserveMs) return false;
      report.complete = false;
      return true;
    },
  };
  // In order of importance: whatever the budget does not reach is still due at the next run.
  await raiseExpiryMissed(deps, await expireOverdue(run));
  await startDue(run);
  await timeOutStages(run);
  await remindHolders(run);
  if (!run.outOfTime()) {
    report.exportsRestarted = await restartStaleExports(deps, () => budget.timeLeft() - budget.reserveMs + 5_000);
  }
  if (!run.outOfTime()) report.changesExpired = await expireChanges(deps);
  if (!run.outOfTime()) report.provisioningResumed = await resumeProvisioning(deps, run.outOfTime);
  if (!run.outOfTime()) {
    const unfence = await unfenceDue(deps, now, budget);
    report.unfenced = unfence.unfenced;
    if (!unfence.complete) report.complete = false;
  }
  log('info', 'reconcile done', { ...report });
  return report;
}

/** One run of the job: what each sweep reads and where it counts what it did. */
interface Run {
  deps: Deps;
  now: Date;
  report: ReconcileReport;
  /** True (and the report incomplete) once the time left falls under the reserve. */
  outOfTime: () => boolean;
}

/** Expires assignments past their end; those a workflow should have expired a while ago are findings, returned. */
async function expireOverdue({ deps, now, report, outOfTime }: Run): Promise<Record<string, unknown>[]> {
  const missed: Record<string, unknown>[] = [];
  for (const status of ['Active', 'Scheduled'] as const) {
    for await (const item of deps.store.stream(queries.assignmentsByStatus(status, now.toISOString()))) {
      if (outOfTime()) break;
      const a = toAssignment(item);
      if (effectiveStatus(a, now) !== 'Expired') continue;
      const lateMs = now.getTime() - Date.parse(a.endDateTime as string);
      const step = await endWrites(deps, a, now, 'Expired', SYSTEM_ACTOR, 'assignment.expired');
      const finding = lateMs > GRACE_MS;
      if (finding) {
        step.writes.push(
          ops.audit(
            auditEvent(
              now,
              SYSTEM_ACTOR,
              'alert.expiryMissed',
              { principalId: a.principalId, roleId: a.roleId, scope: a.scope, assignmentId: a.id },
              { endDateTime: a.endDateTime, lateBy: formatMs(lateMs) },
            ),
          ),
        );
      }
      if (!(await committed(() => deps.store.transact(step.writes)))) continue;
      report.expired++;
      if (finding) {
        report.missed++;
        missed.push({ assignmentId: a.id, principalId: a.principalId, roleId: a.roleId });
      }
      await runEffects(deps, step.effects);
    }
  }
  return missed;
}

/** Raised at once (not at the next hourly scan): a workflow that misses expiries is an outage. */
async function raiseExpiryMissed(deps: Deps, missed: Record<string, unknown>[]): Promise<void> {
  if (missed.length === 0) return;
  const settings = await readAlertSettings(deps);
  if (!settings.expiryMissed.enabled) return;
  await raise(
    deps,
    { type: 'expiryMissed', subject: 'all', affected: missed, details: { count: missed.length } },
    settings,
  ).catch((error: unknown) => log('warn', 'could not raise expiryMissed', { error: String(error) }));
}

/** Starts scheduled assignments and grants scheduled requests whose start has come. */
async function startDue({ deps, now, report, outOfTime }: Run): Promise<void> {
  for await (const item of deps.store.stream(queries.assignmentsByStatus('Scheduled'))) {
    if (outOfTime()) break;
    const a = toAssignment(item);
    if (effectiveStatus(a, now) !== 'Active' || !a.requestId) continue;
    if ((await grantStep(deps, a.requestId)).granted) report.started++;
  }
  for await (const item of deps.store.stream(queries.requestsByStatus('Scheduled'))) {
    if (outOfTime()) break;
    const r = stored.request.fromItem(item);
    if (Date.parse(r.schedule.startDateTime) > now.getTime() - GRACE_MS) continue;
    if ((await grantStep(deps, r.id)).granted) report.started++;
  }
}

/** Times out approval stages past their deadline (with the grace a workflow gets to do it first). */
async function timeOutStages({ deps, now, report, outOfTime }: Run): Promise<void> {
  for await (const item of deps.store.stream(queries.requestsByStatus('PendingApproval'))) {
    if (outOfTime()) break;
    const r = stored.request.fromItem(item);
    const stage = r.approval.stages[currentStageIndex(r.approval)];
    if (!stage?.deadline || Date.parse(stage.deadline) > now.getTime() - GRACE_MS) continue;
    await timeOutStep(deps, r.id);
    if ((await readRequest(deps.store, r.id)).status === 'TimedOut') report.timedOut++;
  }
}

/** Reminds holders 1 day and 1 hour before the end (once each: the reminder marker is written first). */
async function remindHolders({ deps, now, report, outOfTime }: Run): Promise<void> {
  for await (const item of deps.store.stream(
    queries.assignmentsByStatus('Active', new Date(now.getTime() + 86_400_000).toISOString()),
  )) {
    if (outOfTime()) break;
    const a = toAssignment(item);
    if (effectiveStatus(a, now) !== 'Active' || !a.endDateTime) continue;
    const which = reminderDue(a, now);
    if (!which) continue;
    if (!(await committed(() => deps.store.transact([ops.reminder(a.id, which, now.toISOString())])))) continue;
    report.reminded++;
    await runEffects(deps, await reminder(deps, a, formatMs(Date.parse(a.endDateTime) - now.getTime())));
  }
}

async function reminder(deps: Deps, a: Assignment, left: string): Promise<Effect[]> {
  const r = a.requestId ? await readRequest(deps.store, a.requestId).catch(() => undefined) : undefined;
  if (!r) return [];
  const policy = await policyOfRequest(deps.store, r);
  if (policy.notifications.criticalOnly) return [];
  const role = await requireRole(deps.store, a.roleId);
  const facts = factsOf(r, role.displayName, await principalName(deps, a), a);
  return [{ kind: 'mail', to: { principals: [a] }, mail: mail.expiryReminder(facts, left) }];
}

/** True when the transaction committed; false when someone else changed the item first. */
async function committed(work: () => Promise<void>): Promise<boolean> {
  try {
    await work();
    return true;
  } catch (error) {
    if (error instanceof DomainError) return false;
    throw error;
  }
}
