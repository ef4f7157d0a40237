import { type ApproverRef, isApprover } from '../domain/approval.ts';
import { DomainError, forbidden, invalid, notFound } from '../domain/errors.ts';
import { userRef } from '../domain/primitives.ts';
import {
  checkReviewDecision,
  type Decision,
  holdsAccessOf,
  type Instance,
  type Memberships,
  type RefMatcher,
  type Review,
  type ReviewInput,
  reviewedRoles,
  reviewerVerdict,
  reviewProblems,
} from '../domain/review.ts';
import { newId } from '../ids.ts';
import {
  type DecisionRecord,
  type InstanceRecord,
  keys,
  type QueryPart,
  type ReviewRecord,
  reviewKeys,
  reviewOps,
  reviewQueries,
  stored,
} from '../store/records.ts';
import type { Page } from '../store/store.ts';
import type { CallContext } from './context.ts';
import { memberships } from './groups.ts';
import { advanceInstance, completeWrites, emptyReport, readInstance } from './review-job.ts';

/**
 * Access reviews over HTTP: definitions (admin), instances and their decision items, the reviewer's queue and
 * decisions, and stop/apply by hand. The campaign work itself (start, populate, remind, complete, apply) is the
 * job's (review-job.ts); stop and apply run it inline for a bounded time and leave the rest to the next run.
 */
type PageArgs = { limit: number; nextToken?: string | undefined };

/** How long stop/apply work inline before they answer (the job continues what is left). */
const INLINE_BUDGET_MS = 5_000;

export const presentReview = (r: ReviewRecord): Review => ({
  id: r.id,
  displayName: r.displayName,
  scope: r.scope,
  reviewers: r.reviewers,
  duration: r.duration,
  recurrence: r.recurrence,
  defaultDecision: r.defaultDecision,
  autoApply: r.autoApply,
  requireJustification: r.requireJustification,
  recommendationLookback: r.recommendationLookback,
  nextStartDateTime: r.nextStartDateTime,
  createdBy: r.createdBy,
  createdAt: r.createdAt,
});

export const presentInstance = (i: InstanceRecord): Instance => ({
  id: i.id,
  reviewId: i.reviewId,
  displayName: i.displayName,
  status: i.status,
  startDateTime: i.startDateTime,
  endDateTime: i.endDateTime,
  counts: i.counts,
  ready: i.ready,
  completedAt: i.completedAt,
  appliedAt: i.appliedAt,
});

export const presentDecision = (d: DecisionRecord): Decision => {
  const { queue: _queue, version: _version, ...rest } = d;
  return rest;
};

// ---- definitions ---------------------------------------------------------------------------------------

export async function createReview(ctx: CallContext, input: ReviewInput): Promise<Review> {
  await ctx.requireAdmin('creating an access review');
  const problems = reviewProblems(input);
  const roles = await ctx.store.getMany(input.scope.roleIds.map((id) => keys.role(id)));
  const found = new Set(roles.map((r) => String(r.id)));
  input.scope.roleIds.forEach((id, n) => {
    if (!found.has(id)) problems.push({ path: `scope.roleIds.${n}`, message: `role '${id}' does not exist` });
  });
  if (problems.length) throw invalid('the access review is not valid', problems);
  const nowIso = ctx.now.toISOString();
  const start = input.recurrence.startDateTime ? new Date(input.recurrence.startDateTime).toISOString() : nowIso;
  const record: ReviewRecord = {
    id: newId('rev', ctx.now),
    displayName: input.displayName,
    scope: input.scope,
    reviewers: { type: input.reviewers.type, principals: input.reviewers.principals ?? [] },
    duration: input.duration,
    recurrence: { type: input.recurrence.type, startDateTime: start },
    defaultDecision: input.defaultDecision,
    autoApply: input.autoApply,
    requireJustification: input.requireJustification,
    recommendationLookback: input.recommendationLookback,
    nextStartDateTime: start,
    nextIndex: 0,
    createdBy: ctx.caller.id,
    createdAt: nowIso,
    version: 1,
  };
  const out = presentReview(record);
  await ctx.store.transact([
    reviewOps.createReview(record),
    ctx.audit('review.created', {}, { review: out }),
    ...ctx.remember(out),
  ]);
  return out;
}

export async function listReviews(ctx: CallContext, page: PageArgs): Promise<Page<Review>> {
  return ctx.store.page([reviewQueries.reviews()], { ...page, map: (i) => presentReview(stored.review.fromItem(i)) });
}

async function readReview(ctx: CallContext, id: string): Promise<ReviewRecord> {
  const item = await ctx.store.get(reviewKeys.review(id));
  if (!item) throw notFound(`access review '${id}'`);
  return stored.review.fromItem(item);
}

export async function getReview(ctx: CallContext, id: string): Promise<Review> {
  return presentReview(await readReview(ctx, id));
}

export async function listInstances(ctx: CallContext, reviewId: string, page: PageArgs): Promise<Page<Instance>> {
  await readReview(ctx, reviewId);
  return ctx.store.page([reviewQueries.instancesOfReview(reviewId)], {
    ...page,
    map: (i) => presentInstance(stored.reviewInstance.fromItem(i)),
  });
}

async function requireInstance(ctx: CallContext, reviewId: string, id: string): Promise<InstanceRecord> {
  const i = await readInstance(ctx.deps, reviewId, id);
  if (!i) throw notFound(`instance '${id}' of access review '${reviewId}'`);
  return i;
}

// ---- reviewers -----------------------------------------------------------------------------------------

/** Who the caller is as a reviewer: whom it reviews for (refs matched by the approval rules), and its groups. */
interface Reviewer {
  matches: RefMatcher;
  /** The Elevate groups the caller is an active member of: access it holds through them is its own. */
  memberOf: Memberships;
}

/** Matches refs with the approval rules: a user by id, a group by the token's groups claim, `role` by admin. */
async function reviewerOf(ctx: CallContext): Promise<Reviewer> {
  const [admin, groups] = await Promise.all([
    ctx.authority().then((a) => a.admin),
    memberships(ctx.store, userRef(ctx.caller.id), ctx.now),
  ]);
  const matches = (refs: readonly ApproverRef[]) =>
    isApprover(
      {
        status: 'Pending',
        approvers: [...refs],
        requiredApprovals: 1,
        timeout: 'PT1H',
        deadline: null,
        decisions: [],
      },
      ctx.caller,
      { admin },
    );
  return { matches, memberOf: groups.members };
}

/** The reviewer queues of one instance that hold the caller's items (`open`: only the NotReviewed ones). */
function queuesOf(i: InstanceRecord, ctx: CallContext, reviewer: Reviewer, open: boolean): QueryPart[] {
  // A self review: the caller's own (user) items only; a group's items have no self reviewer.
  if (i.reviewers.type === 'self') return [reviewQueries.decisionQueue(i.id, userRef(ctx.caller.id), open)];
  const roles = reviewedRoles(i.reviewers, reviewer.matches);
  if (roles === 'all') return [reviewQueries.decisionQueue(i.id, 'all', open)];
  return roles.map((roleId) => reviewQueries.decisionQueue(i.id, { roleId }, open));
}

/** A reviewer never sees an item whose access it holds, directly or through a group, outside a self review. */
const notOwnUnlessSelf = (i: InstanceRecord, ctx: CallContext, reviewer: Reviewer) => (item: Record<string, unknown>) =>
  i.reviewers.type === 'self' || !holdsAccessOf(stored.reviewDecision.fromItem(item), ctx.caller, reviewer.memberOf);

export async function listDecisions(
  ctx: CallContext,
  reviewId: string,
  instanceId: string,
  page: PageArgs,
): Promise<Page<Decision>> {
  const i = await requireInstance(ctx, reviewId, instanceId);
  const map = (item: Record<string, unknown>) => presentDecision(stored.reviewDecision.fromItem(item));
  if (await ctx.isReader()) return ctx.store.page([reviewQueries.decisionsOfInstance(i.id)], { ...page, map });
  const reviewer = await reviewerOf(ctx);
  const parts = queuesOf(i, ctx, reviewer, false);
  if (parts.length === 0) throw forbidden('you are not a reviewer of this access review');
  return ctx.store.page(parts, { ...page, filter: notOwnUnlessSelf(i, ctx, reviewer), map });
}

/** GET /v1/me/reviews: the NotReviewed items of instances in progress that wait for the caller. */
export async function listMyReviews(ctx: CallContext, page: PageArgs): Promise<Page<Decision>> {
  const reviewer = await reviewerOf(ctx);
  const parts: QueryPart[] = [];
  const filters = new Map<string, (item: Record<string, unknown>) => boolean>();
  for await (const item of ctx.store.stream(reviewQueries.instancesAtWork())) {
    const i = stored.reviewInstance.fromItem(item);
    if (i.status !== 'InProgress' || Date.parse(i.endDateTime) <= ctx.now.getTime()) continue;
    filters.set(i.id, notOwnUnlessSelf(i, ctx, reviewer));
    parts.push(...queuesOf(i, ctx, reviewer, true));
  }
  return ctx.store.page(parts, {
    ...page,
    filter: (item) => item.decision === 'NotReviewed' && (filters.get(String(item.instanceId))?.(item) ?? false),
    map: (item) => presentDecision(stored.reviewDecision.fromItem(item)),
  });
}

// ---- deciding ------------------------------------------------------------------------------------------

/**
 * POST .../decisions/{decisionId}: one reviewer's decision, final once made. One transaction: the item (guarded by
 * the version read: of concurrent deciders exactly one wins, the others get 409 AlreadyDecided), the instance's
 * counts (guarded by InProgress: nothing is decided after the end or a stop) and the `review.decided` audit event.
 */
export async function decideReview(
  ctx: CallContext,
  reviewId: string,
  instanceId: string,
  decisionId: string,
  input: { decision: 'Approve' | 'Deny' | 'DontKnow'; justification?: string | undefined },
): Promise<Decision> {
  const i = await requireInstance(ctx, reviewId, instanceId);
  const item = await ctx.store.get(reviewKeys.reviewDecision(i.id, decisionId));
  if (!item) throw notFound(`decision '${decisionId}'`);
  const d = stored.reviewDecision.fromItem(item);
  const reviewer = await reviewerOf(ctx);
  const verdict = reviewerVerdict(i.reviewers, d, ctx.caller, reviewer.matches, reviewer.memberOf);
  checkReviewDecision({
    verdict,
    instance: i,
    current: d.decision,
    justification: input.justification,
    now: ctx.now,
  });
  const decided: DecisionRecord = {
    ...d,
    decision: input.decision,
    reviewedBy: ctx.caller.id,
    reviewedAt: ctx.now.toISOString(),
    justification: input.justification ?? null,
    version: d.version + 1,
  };
  const counter = input.decision === 'Approve' ? 'approve' : input.decision === 'Deny' ? 'deny' : 'dontKnow';
  await ctx.store.transact([
    reviewOps.replaceDecision(decided, d.version),
    reviewOps.countDecision(i, counter),
    ctx.audit(
      'review.decided',
      { principalId: d.principalId, roleId: d.roleId, scope: d.scope, assignmentId: d.assignmentId },
      {
        reviewId: i.reviewId,
        instanceId: i.id,
        decisionId: d.id,
        decision: input.decision,
        justification: input.justification ?? null,
        recommendation: d.recommendation,
      },
    ),
  ]);
  return presentDecision(decided);
}

// ---- stop and apply by hand ----------------------------------------------------------------------------

const inlineBudget = () => {
  const until = performance.now() + INLINE_BUDGET_MS;
  return () => until - performance.now();
};

/** POST .../stop: Completed now; the defaults fill in (and, with autoApply, the denials apply) as far as time allows. */
export async function stopInstance(ctx: CallContext, reviewId: string, instanceId: string): Promise<Instance> {
  await ctx.requireAdmin('stopping an access review');
  const i = await requireInstance(ctx, reviewId, instanceId);
  if (i.status !== 'InProgress') throw new DomainError('Conflict', `the review instance is already ${i.status}`);
  if (i.phase === 'populating') {
    throw new DomainError('Conflict', 'the review instance is still being prepared; stop it once it is ready');
  }
  await ctx.store.transact(completeWrites(i, ctx.now, ctx.actor));
  return runInline(ctx, reviewId, instanceId);
}

/** POST .../apply: removes the denied assignments of a Completed instance (again, for items that failed before). */
export async function applyInstance(ctx: CallContext, reviewId: string, instanceId: string): Promise<Instance> {
  await ctx.requireAdmin('applying an access review');
  const i = await requireInstance(ctx, reviewId, instanceId);
  if (i.status === 'InProgress')
    throw new DomainError('Conflict', 'the review instance is still in progress; stop it first');
  if (i.phase === 'done') {
    await ctx.store.transact([
      reviewOps.stepInstance(i, { set: { phase: 'applying', cursor: '' } }),
      ctx.audit('review.applyRequested', {}, { reviewId, instanceId }),
    ]);
  } else if (i.phase === 'finalizing' || i.phase === 'applying') {
    // The defaults are still being filled or the apply is running: it goes on below.
    if (i.phase === 'finalizing' && !i.autoApply) {
      await ctx.store.transact([reviewOps.stepInstance(i, { set: { autoApply: true } })]);
    }
  }
  return runInline(ctx, reviewId, instanceId);
}

async function runInline(ctx: CallContext, reviewId: string, instanceId: string): Promise<Instance> {
  const fresh = await requireInstance(ctx, reviewId, instanceId);
  const after = await advanceInstance(
    ctx.deps,
    fresh,
    { timeLeft: inlineBudget(), reserveMs: 0, actor: ctx.actor },
    emptyReport(),
  );
  return presentInstance(after);
}
