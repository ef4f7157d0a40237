import type { Deps } from '../deps.ts';
import { type Assignment, effectiveStatus, isLive } from '../domain/assignment.ts';
import { type Actor, SYSTEM_ACTOR } from '../domain/audit.ts';
import { DomainError } from '../domain/errors.ts';
import { type PrincipalRef, userRef } from '../domain/primitives.ts';
import {
  approversOf,
  type Counts,
  type Decision,
  decisionIdOf,
  defaultOutcome,
  duePlan,
  halfway,
  type InstanceReviewers,
  recommend,
  zeroCounts,
} from '../domain/review.ts';
import { newId } from '../ids.ts';
import { log } from '../log.ts';
import * as mail from '../notifications/templates.ts';
import {
  type DecisionRecord,
  type InstanceRecord,
  type InstanceStep,
  type Item,
  keys,
  ops,
  queries,
  type ReviewRecord,
  reviewKeys,
  reviewOps,
  reviewQueries,
  stored,
  type WriteOp,
} from '../store/records.ts';
import { lastActivations, toAssignment } from './assignments.ts';
import { auditEvent } from './context.ts';
import { type Effect, runEffects } from './effects.ts';
import { removeAssignment } from './lifecycle.ts';
import { readPolicy } from './roles.ts';

/**
 * The access-review job (hourly, and the tail of `stop` and `apply`). It works in small, committed steps, each one
 * TransactWriteItems that also moves the instance's `cursor` under the condition that phase and cursor are still
 * what it read; so a run that dies (or runs out of time) leaves the instance exactly where the last step left it,
 * and the next run, or a second run at the same time, continues from there without doing anything twice.
 *
 * Phases of an instance: populating (one decision item per assignment in scope, ≤ POPULATE_BATCH per step, with
 * its recommendation) → open (reviewers decide; halfway reminder) → finalizing (the end has come or it was
 * stopped: the default decision fills NotReviewed items) → applying (autoApply or `apply`: every Deny removes its
 * assignment through removeAssignment) → done. Memory stays flat: one page of items at a time.
 */
export interface ReviewJobReport {
  started: number;
  itemsCreated: number;
  reminded: number;
  completed: number;
  defaultsFilled: number;
  removed: number;
  failed: number;
  /** True when time ran out before all work was done (the next run continues). */
  unfinished: boolean;
}

/** Items per step: the transaction also holds the instance's step (and maybe an audit event and its chain head). */
const POPULATE_BATCH = 96;
const FINALIZE_BATCH = 96;
const APPLY_BATCH = 25;

export interface RunOptions {
  /** Milliseconds this run may still use; the job stops between steps when it gets low. */
  timeLeft: () => number;
  /** Who acts (the system for the schedule; the admin for stop and apply). */
  actor?: Actor;
  /** Stop when less than this is left. @default 15 s (a step takes a few seconds at most) */
  reserveMs?: number;
}

const RESERVE_MS = 15_000;

export const emptyReport = (): ReviewJobReport => ({
  started: 0,
  itemsCreated: 0,
  reminded: 0,
  completed: 0,
  defaultsFilled: 0,
  removed: 0,
  failed: 0,
  unfinished: false,
});

/** The hourly run: start what is due, then move every instance at work as far as time allows. */
export async function runReviewJob(deps: Deps, opts: RunOptions): Promise<ReviewJobReport> {
  const report = emptyReport();
  await startDue(deps, report);
  for await (const item of deps.store.stream(reviewQueries.instancesAtWork())) {
    if (opts.timeLeft() < (opts.reserveMs ?? RESERVE_MS)) {
      report.unfinished = true;
      break;
    }
    const fresh = await readInstance(deps, String(item.reviewId), String(item.id));
    if (fresh) await advanceInstance(deps, fresh, opts, report);
  }
  log('info', 'reviews done', { ...report });
  return report;
}

export async function readInstance(deps: Deps, reviewId: string, id: string): Promise<InstanceRecord | undefined> {
  const item = await deps.store.get(reviewKeys.reviewInstance(reviewId, id));
  return item ? stored.reviewInstance.fromItem(item) : undefined;
}

// ---- starting instances --------------------------------------------------------------------------------

async function startDue(deps: Deps, report: ReviewJobReport): Promise<void> {
  const now = deps.clock.now();
  for await (const item of deps.store.stream(reviewQueries.reviewsDue(now.toISOString()))) {
    const review = stored.review.fromItem(item);
    if (review.nextIndex === null) continue;
    const plan = duePlan(review.recurrence, review.duration, review.nextIndex, now);
    const next: ReviewRecord = {
      ...review,
      nextIndex: plan.nextIndex,
      nextStartDateTime: plan.nextStartDateTime,
      version: review.version + 1,
    };
    const writes: WriteOp[] = [reviewOps.replaceReview(next, review.version)];
    if (plan.start) {
      const instance: InstanceRecord = {
        id: newId('rvi', now),
        reviewId: review.id,
        displayName: review.displayName,
        status: 'InProgress',
        startDateTime: plan.start.startDateTime,
        endDateTime: plan.start.endDateTime,
        counts: zeroCounts(),
        ready: false,
        completedAt: null,
        appliedAt: null,
        phase: 'populating',
        cursor: '',
        reminded: false,
        reviewers: await reviewersOf(deps, review),
        scope: review.scope,
        defaultDecision: review.defaultDecision,
        autoApply: review.autoApply,
        requireJustification: review.requireJustification,
        recommendationLookback: review.recommendationLookback,
        createdAt: now.toISOString(),
      };
      writes.push(
        reviewOps.createInstance(instance),
        ops.audit(
          auditEvent(
            now,
            SYSTEM_ACTOR,
            'review.started',
            {},
            {
              reviewId: review.id,
              instanceId: instance.id,
              occurrence: plan.start.index,
              startDateTime: instance.startDateTime,
              endDateTime: instance.endDateTime,
            },
          ),
        ),
      );
    }
    if (await committed(deps, writes)) report.started += plan.start ? 1 : 0;
  }
}

/** The reviewers, fixed for the instance when it starts (for `approvers`: each role's first-stage approvers). */
async function reviewersOf(deps: Deps, review: ReviewRecord): Promise<InstanceReviewers> {
  if (review.reviewers.type === 'self') return { type: 'self' };
  if (review.reviewers.type === 'principals') return { type: 'principals', principals: review.reviewers.principals };
  const approvers: InstanceReviewers & { type: 'approvers' } = { type: 'approvers', approvers: {} };
  for (const roleId of review.scope.roleIds) {
    const policy = await readPolicy(deps.store, roleId).catch(() => undefined);
    approvers.approvers[roleId] = approversOf(
      policy?.policy.activation.approval.required ? policy.policy.activation.approval.stages : [],
    );
  }
  return approvers;
}

// ---- moving an instance on -----------------------------------------------------------------------------

/** Moves one instance as far as it can go now (or until time runs out). */
export async function advanceInstance(
  deps: Deps,
  start: InstanceRecord,
  opts: RunOptions,
  report: ReviewJobReport,
): Promise<InstanceRecord> {
  let i = start;
  for (;;) {
    if (opts.timeLeft() < (opts.reserveMs ?? RESERVE_MS)) {
      report.unfinished = true;
      return i;
    }
    const now = deps.clock.now();
    let step: Promise<boolean>;
    if (i.phase === 'populating') step = populate(deps, i, report);
    else if (i.phase === 'open' && now.getTime() >= Date.parse(i.endDateTime)) {
      step = complete(deps, i, now, opts.actor ?? SYSTEM_ACTOR, report);
    } else if (i.phase === 'open' && !i.reminded && now.getTime() >= halfway(i).getTime()) {
      step = remind(deps, i, report);
    } else if (i.phase === 'finalizing') step = finalize(deps, i, now, report);
    else if (i.phase === 'applying') step = applyPage(deps, i, opts.actor ?? SYSTEM_ACTOR, report);
    else return i;
    await step;
    const fresh = await readInstance(deps, i.reviewId, i.id);
    if (!fresh) return i;
    i = fresh;
  }
}

/** Commits a step; false when another run (or a reviewer) moved the instance first (the caller re-reads). */
async function committed(deps: Deps, writes: WriteOp[]): Promise<boolean> {
  try {
    await deps.store.transact(writes);
    return true;
  } catch (error) {
    if (error instanceof DomainError && (error.code === 'Conflict' || error.code === 'AlreadyDecided')) return false;
    throw error;
  }
}

const step = (i: InstanceRecord, s: InstanceStep, expect?: 'InProgress' | 'Completed') =>
  reviewOps.stepInstance(i, s, expect);

const reviewFacts = (i: InstanceRecord): mail.ReviewFacts => ({
  reviewId: i.reviewId,
  instanceId: i.id,
  displayName: i.displayName,
  startDateTime: i.startDateTime,
  endDateTime: i.endDateTime,
});

/** The mail to the reviewers of a whole instance (named principals, or every role's approvers); none for self. */
function instanceMails(deps: Deps, i: InstanceRecord, reminder: boolean): Effect[] {
  const r = i.reviewers;
  if (r.type === 'self') return [];
  const approvers = r.type === 'principals' ? r.principals : Object.values(r.approvers).flat();
  const facts = reviewFacts(i);
  const m = reminder
    ? mail.reviewReminder(facts, deps.config.apiUrl, deps.config.consoleUrl)
    : mail.reviewStarted(facts, deps.config.apiUrl, deps.config.consoleUrl);
  return [{ kind: 'mail', to: { approvers }, mail: m }];
}

/**
 * One mail per user of a self review. A group's items have no self reviewer (no member decides the group's access),
 * so no mail goes to a group.
 */
function selfMails(deps: Deps, i: InstanceRecord, principals: readonly PrincipalRef[], reminder: boolean): Effect[] {
  const m = reminder
    ? mail.reviewReminder(reviewFacts(i), deps.config.apiUrl, deps.config.consoleUrl)
    : mail.reviewStarted(reviewFacts(i), deps.config.apiUrl, deps.config.consoleUrl);
  const users = new Set(principals.filter((p) => p.principalType === 'user').map((p) => p.principalId));
  return [...users].map((id) => ({ kind: 'mail', to: { principals: [userRef(id)] }, mail: m }));
}

/** Populating: the next batch of assignments in scope becomes decision items, with their recommendations. */
async function populate(deps: Deps, i: InstanceRecord, report: ReviewJobReport): Promise<boolean> {
  const now = deps.clock.now();
  const types = new Set<string>(i.scope.assignmentTypes);
  const page = await deps.store.page(
    i.scope.roleIds.map((r) => queries.assignmentsOfRole(r)),
    {
      limit: POPULATE_BATCH,
      ...(i.cursor ? { nextToken: i.cursor } : {}),
      filter: (item) => {
        const a = stored.assignment.fromItem(item);
        return a.origin === 'assigned' && types.has(a.assignmentType) && isLive({ status: effectiveStatus(a, now) });
      },
      map: toAssignment,
    },
  );
  // When each eligibility was last activated (its live slot, or the item activations wrote before issue 18).
  const lastUse = await lastActivations(
    deps.store,
    page.items.filter((a) => a.assignmentType === 'eligible'),
  );
  const decisions = page.items.map((a) => decisionFor(i, a, lastUse.get(a.id) ?? null, now));
  const n = decisions.length;
  const last = page.nextToken === null;
  const writes: WriteOp[] = [
    ...decisions.map((d) => reviewOps.createDecision(d)),
    step(i, {
      set: { cursor: page.nextToken ?? '', ...(last ? { phase: 'open', ready: true } : {}) },
      add: { total: n, notReviewed: n },
    }),
  ];
  if (!(await committed(deps, writes))) return false;
  report.itemsCreated += n;
  const effects: Effect[] =
    i.reviewers.type === 'self' ? selfMails(deps, i, decisions, false) : last ? instanceMails(deps, i, false) : [];
  await runEffects(deps, effects);
  return true;
}

function decisionFor(i: InstanceRecord, a: Assignment, lastActivatedAt: string | null, now: Date): DecisionRecord {
  const r = recommend({
    assignmentType: a.assignmentType,
    createdAt: a.createdAt,
    lastActivatedAt,
    lookback: i.recommendationLookback,
    now,
  });
  return {
    id: decisionIdOf(a.id),
    instanceId: i.id,
    reviewId: i.reviewId,
    assignmentId: a.id,
    principalId: a.principalId,
    principalType: a.principalType,
    roleId: a.roleId,
    scope: a.scope,
    assignmentType: a.assignmentType,
    recommendation: r.recommendation,
    recommendationReason: r.reason,
    decision: 'NotReviewed',
    reviewedBy: null,
    reviewedAt: null,
    justification: null,
    applyResult: 'NotApplied',
    applyDetail: null,
    endDateTime: i.endDateTime,
    queue: i.reviewers.type,
    version: 1,
  };
}

/** Halfway: remind the reviewers who still have items (self: page by page, each principal with an open item). */
async function remind(deps: Deps, i: InstanceRecord, report: ReviewJobReport): Promise<boolean> {
  if (i.reviewers.type !== 'self') {
    if (!(await committed(deps, [step(i, { set: { reminded: true } }, 'InProgress')]))) return false;
    if (i.counts.notReviewed > 0) {
      report.reminded++;
      await runEffects(deps, instanceMails(deps, i, true));
    }
    return true;
  }
  const page = await decisionPage(deps, i, FINALIZE_BATCH, (d) => d.decision === 'NotReviewed');
  const last = page.nextToken === null;
  const writes = [
    step(i, { set: { cursor: page.nextToken ?? '', ...(last ? { reminded: true } : {}) } }, 'InProgress'),
  ];
  if (!(await committed(deps, writes))) return false;
  if (page.items.length) report.reminded++;
  await runEffects(deps, selfMails(deps, i, page.items, true));
  return true;
}

function decisionPage(deps: Deps, i: InstanceRecord, limit: number, keep: (d: DecisionRecord) => boolean) {
  return deps.store.page([reviewQueries.decisionsOfInstance(i.id)], {
    limit,
    ...(i.cursor ? { nextToken: i.cursor } : {}),
    consistent: true,
    filter: (item) => keep(stored.reviewDecision.fromItem(item)),
    map: (item) => stored.reviewDecision.fromItem(item),
  });
}

/** The end has come (or an admin stopped it): Completed, no more decisions; then the defaults and the apply. */
export function completeWrites(i: InstanceRecord, now: Date, actor: Actor): WriteOp[] {
  const nowIso = now.toISOString();
  return [
    step(
      i,
      {
        set: {
          status: 'Completed',
          phase: 'finalizing',
          cursor: '',
          completedAt: nowIso,
          ...(Date.parse(i.endDateTime) > now.getTime() ? { endDateTime: nowIso } : {}),
        },
      },
      'InProgress',
    ),
    ops.audit(
      auditEvent(now, actor, 'review.completed', {}, { reviewId: i.reviewId, instanceId: i.id, counts: i.counts }),
    ),
  ];
}

async function complete(deps: Deps, i: InstanceRecord, now: Date, actor: Actor, report: ReviewJobReport) {
  if (!(await committed(deps, completeWrites(i, now, actor)))) return false;
  report.completed++;
  return true;
}

/** Finalizing: the default decision fills NotReviewed items, a batch per step. */
async function finalize(deps: Deps, i: InstanceRecord, now: Date, report: ReviewJobReport): Promise<boolean> {
  const afterwards = { phase: i.autoApply ? ('applying' as const) : ('done' as const), cursor: '' };
  if (i.defaultDecision === 'none') {
    return committed(deps, [step(i, { set: afterwards })]);
  }
  const page = await decisionPage(deps, i, FINALIZE_BATCH, (d) => d.decision === 'NotReviewed');
  const nowIso = now.toISOString();
  const add: Partial<Counts> = { notReviewed: 0, approve: 0, deny: 0 };
  const writes: WriteOp[] = [];
  for (const d of page.items) {
    const outcome = defaultOutcome(i.defaultDecision, d.recommendation);
    if (!outcome) continue;
    writes.push(
      reviewOps.replaceDecision(
        {
          ...d,
          decision: outcome,
          reviewedBy: SYSTEM_ACTOR.id,
          reviewedAt: nowIso,
          justification: `default decision (${i.defaultDecision}): not reviewed by the end`,
          version: d.version + 1,
        },
        d.version,
      ),
    );
    add.notReviewed = (add.notReviewed ?? 0) - 1;
    if (outcome === 'Approve') add.approve = (add.approve ?? 0) + 1;
    else add.deny = (add.deny ?? 0) + 1;
  }
  const last = page.nextToken === null;
  const filled = writes.length;
  writes.push(step(i, { set: last ? afterwards : { cursor: page.nextToken ?? '' }, add }));
  if (last) {
    writes.push(
      ops.audit(
        auditEvent(
          now,
          SYSTEM_ACTOR,
          'review.defaultsApplied',
          {},
          {
            reviewId: i.reviewId,
            instanceId: i.id,
            defaultDecision: i.defaultDecision,
          },
        ),
      ),
    );
  }
  if (!(await committed(deps, writes))) return false;
  report.defaultsFilled += filled;
  return true;
}

/**
 * Applying: every Deny not yet applied removes its assignment through removeAssignment (the adminRemove path:
 * audited, event, the workflow's expiry becomes a no-op), then the items record Applied or Failed, each with a
 * `review.applied` audit event, in one transaction with the step. A run that dies between a removal and that
 * transaction finds the assignment no longer live next time and records Applied ("already ended").
 */
async function applyPage(deps: Deps, i: InstanceRecord, actor: Actor, report: ReviewJobReport): Promise<boolean> {
  const page = await decisionPage(deps, i, APPLY_BATCH, (d) => d.decision === 'Deny' && d.applyResult === 'NotApplied');
  const writes: WriteOp[] = [];
  let applied = 0;
  let failed = 0;
  for (const d of page.items) {
    const { result, detail } = await removeDenied(deps, i, d, actor);
    const now = deps.clock.now();
    if (result === 'Applied') applied++;
    else failed++;
    writes.push(
      reviewOps.replaceDecision({ ...d, applyResult: result, applyDetail: detail, version: d.version + 1 }, d.version),
      ops.audit(
        auditEvent(
          now,
          actor,
          'review.applied',
          { principalId: d.principalId, roleId: d.roleId, scope: d.scope, assignmentId: d.assignmentId },
          { reviewId: i.reviewId, instanceId: i.id, decisionId: d.id, decision: d.decision, result, detail },
        ),
      ),
    );
  }
  const last = page.nextToken === null;
  const nowIso = deps.clock.now().toISOString();
  writes.push(
    step(i, {
      set: last
        ? { phase: 'done', cursor: '', status: 'Applied', appliedAt: nowIso }
        : { cursor: page.nextToken ?? '' },
      add: { applied, failed },
    }),
  );
  if (!(await committed(deps, writes))) return false;
  report.removed += applied;
  report.failed += failed;
  return true;
}

async function removeDenied(
  deps: Deps,
  i: InstanceRecord,
  d: Decision,
  actor: Actor,
): Promise<{ result: 'Applied' | 'Failed'; detail: string }> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    const item: Item | undefined = await deps.store.get(keys.assignment(d.assignmentId));
    const a = item ? toAssignment(item) : undefined;
    if (!a) return { result: 'Failed', detail: 'the assignment no longer exists' };
    if (!isLive({ status: effectiveStatus(a, deps.clock.now()) })) {
      return { result: 'Applied', detail: `already ended (${a.status})` };
    }
    try {
      const request = await removeAssignment(
        deps,
        actor,
        a,
        `access review "${i.displayName}" (${i.id}): ${d.reviewedBy === SYSTEM_ACTOR.id ? 'default decision' : `denied by ${d.reviewedBy}`}`,
      );
      return { result: 'Applied', detail: `removed by request ${request.id}` };
    } catch (error) {
      if (!(error instanceof DomainError)) {
        log('error', 'review apply failed', { decisionId: d.id, error: String(error) });
        return { result: 'Failed', detail: 'the removal failed; see the logs' };
      }
      if (attempt === 3) return { result: 'Failed', detail: error.message };
    }
  }
  return { result: 'Failed', detail: 'the removal failed' };
}

/** Runs `fn` over items with at most `limit` in flight, keeping their order. */
