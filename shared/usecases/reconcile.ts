import type { Deps } from '../deps.ts';
import { currentStageIndex } from '../domain/approval.ts';
import { type Assignment, effectiveStatus } from '../domain/assignment.ts';
import { SYSTEM_ACTOR } from '../domain/audit.ts';
import { formatMs } from '../domain/duration.ts';
import { DomainError } from '../domain/errors.ts';
import { log } from '../http/log.ts';
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
import { readPolicy, requireRole } from './roles.ts';

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
  const nowIso = now.toISOString();
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
  const missed: Record<string, unknown>[] = [];
  const outOfTime = () => {
    if (budget.timeLeft() >= budget.reserveMs) return false;
    report.complete = false;
    return true;
  };

  for (const status of ['Active', 'Scheduled'] as const) {
    for await (const item of deps.store.stream(queries.assignmentsByStatus(status, nowIso))) {
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
      if (await attempt(() => deps.store.transact(step.writes))) {
        report.expired++;
        if (finding) {
          report.missed++;
          missed.push({ assignmentId: a.id, principalId: a.principalId, roleId: a.roleId });
        }
        await runEffects(deps, step.effects);
      }
    }
  }

  if (missed.length) {
    // Raised at once (not at the next hourly scan): a workflow that misses expiries is an outage.
    const settings = await readAlertSettings(deps);
    if (settings.expiryMissed.enabled) {
      await raise(
        deps,
        { type: 'expiryMissed', subject: 'all', affected: missed, details: { count: missed.length } },
        settings,
      ).catch((error: unknown) => log('warn', 'could not raise expiryMissed', { error: String(error) }));
    }
  }

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

  for await (const item of deps.store.stream(queries.requestsByStatus('PendingApproval'))) {
    if (outOfTime()) break;
    const r = stored.request.fromItem(item);
    const stage = r.approval.stages[currentStageIndex(r.approval)];
    if (!stage?.deadline || Date.parse(stage.deadline) > now.getTime() - GRACE_MS) continue;
    await timeOutStep(deps, r.id);
    if ((await readRequest(deps.store, r.id)).status === 'TimedOut') report.timedOut++;
  }

  for await (const item of deps.store.stream(
    queries.assignmentsByStatus('Active', new Date(now.getTime() + 86_400_000).toISOString()),
  )) {
    if (outOfTime()) break;
    const a = toAssignment(item);
    if (effectiveStatus(a, now) !== 'Active' || !a.endDateTime) continue;
    const left = Date.parse(a.endDateTime) - now.getTime();
    const lasts = Date.parse(a.endDateTime) - Date.parse(a.startDateTime);
    const which =
      left <= 3_600_000 && lasts > 3_600_000 ? '1h' : left <= 86_400_000 && lasts > 86_400_000 ? '1d' : undefined;
    if (!which) continue;
    if (!(await attempt(() => deps.store.transact([ops.reminder(a.id, which, nowIso)])))) continue;
    report.reminded++;
    await runEffects(deps, await reminder(deps, a, formatMs(left)));
  }
  if (!outOfTime()) {
    report.exportsRestarted = await restartStaleExports(deps, () => budget.timeLeft() - budget.reserveMs + 5_000);
  }
  if (!outOfTime()) report.changesExpired = await expireChanges(deps);
  if (!outOfTime()) report.provisioningResumed = await resumeProvisioning(deps, outOfTime);
  if (!outOfTime()) {
    const unfence = await unfenceDue(deps, now, budget);
    report.unfenced = unfence.unfenced;
    if (!unfence.complete) report.complete = false;
  }
  log('info', 'reconcile done', { ...report });
  return report;
}

async function reminder(deps: Deps, a: Assignment, left: string): Promise<Effect[]> {
  const { policy } = await readPolicy(deps.store, a.roleId);
  if (policy.notifications.criticalOnly) return [];
  const role = await requireRole(deps.store, a.roleId);
  const r = a.requestId ? await readRequest(deps.store, a.requestId).catch(() => undefined) : undefined;
  if (!r) return [];
  const facts = factsOf(r, role.displayName, await principalName(deps, a), a);
  return [{ kind: 'mail', to: { principals: [a] }, mail: mail.expiryReminder(facts, left) }];
}

/** True when the transaction committed; false when someone else changed the item first. */
async function attempt(work: () => Promise<void>): Promise<boolean> {
  try {
    await work();
    return true;
  } catch (error) {
    if (error instanceof DomainError) return false;
    throw error;
  }
}
