import * as z from 'zod';
import type { Caller } from '../auth/caller.ts';
import type { ApproverRef } from './approval.ts';
import { AssignmentType } from './assignment.ts';
import { addDuration, type Duration, durationMs, parseDuration, tryParseDuration } from './duration.ts';
import { DomainError, type FieldError, forbidden } from './errors.ts';
import {
  IsoDateTime,
  IsoDuration,
  Justification,
  PrincipalId,
  type PrincipalRef,
  PrincipalType,
  Slug,
} from './primitives.ts';

/**
 * Access reviews, the pure part: the definition's schema and rules, recurrence math (when each instance
 * starts and ends), recommendations, the default decision, and who may review an item. No I/O here.
 */
export const ReviewerRef = z.strictObject({ type: z.enum(['user', 'group']), id: PrincipalId });
export type ReviewerRef = z.infer<typeof ReviewerRef>;

export const RecurrenceType = z.enum(['once', 'weekly', 'monthly', 'quarterly', 'semiAnnually', 'annually']);
export type RecurrenceType = z.infer<typeof RecurrenceType>;

export const DefaultDecision = z.enum(['none', 'approve', 'deny', 'recommendation']);
export type DefaultDecision = z.infer<typeof DefaultDecision>;

export const ReviewersType = z.enum(['self', 'principals', 'approvers']);

/** A list in which each value appears once: a repeated role would be read (and reviewed) twice. */
const distinct = <T extends z.ZodType>(item: T, min: number, max: number, what: string) =>
  z
    .array(item)
    .min(min)
    .max(max)
    .refine((values) => new Set(values).size === values.length, `each ${what} at most once`);

export const ReviewInput = z.strictObject({
  displayName: z.string().trim().min(1).max(200),
  scope: z.strictObject({
    roleIds: distinct(Slug, 1, 20, 'role'),
    assignmentTypes: distinct(AssignmentType, 1, 2, 'assignment type').default(['eligible', 'active']),
  }),
  reviewers: z.strictObject({
    type: ReviewersType,
    principals: z.array(ReviewerRef).max(50).optional(),
  }),
  duration: IsoDuration.default('P14D'),
  recurrence: z.strictObject({ type: RecurrenceType, startDateTime: IsoDateTime.optional() }),
  defaultDecision: DefaultDecision.default('none'),
  autoApply: z.boolean().default(false),
  requireJustification: z.boolean().default(true),
  recommendationLookback: IsoDuration.default('P30D'),
});
export type ReviewInput = z.infer<typeof ReviewInput>;

export const Review = z
  .object({
    id: z.string(),
    displayName: z.string(),
    scope: z.object({ roleIds: z.array(z.string()), assignmentTypes: z.array(AssignmentType) }),
    reviewers: z.object({ type: ReviewersType, principals: z.array(ReviewerRef) }),
    duration: z.string(),
    recurrence: z.object({ type: RecurrenceType, startDateTime: z.string() }),
    defaultDecision: DefaultDecision,
    autoApply: z.boolean(),
    requireJustification: z.boolean(),
    recommendationLookback: z.string(),
    /** When the next instance starts; null when a `once` review has started its instance. */
    nextStartDateTime: z.string().nullable(),
    createdBy: z.string(),
    createdAt: z.string(),
  })
  .meta({ id: 'AccessReview' });
export type Review = z.infer<typeof Review>;

export const InstanceStatus = z.enum(['InProgress', 'Completed', 'Applied']);
export type InstanceStatus = z.infer<typeof InstanceStatus>;

export const Counts = z.object({
  total: z.int(),
  notReviewed: z.int(),
  approve: z.int(),
  deny: z.int(),
  dontKnow: z.int(),
  applied: z.int(),
  failed: z.int(),
});
export type Counts = z.infer<typeof Counts>;
export const zeroCounts = (): Counts => ({
  total: 0,
  notReviewed: 0,
  approve: 0,
  deny: 0,
  dontKnow: 0,
  applied: 0,
  failed: 0,
});

export const Instance = z
  .object({
    id: z.string(),
    reviewId: z.string(),
    displayName: z.string(),
    status: InstanceStatus,
    startDateTime: z.string(),
    endDateTime: z.string(),
    counts: Counts,
    /** False while the job is still creating the decision items (the counts grow meanwhile). */
    ready: z.boolean(),
    completedAt: z.string().nullable(),
    appliedAt: z.string().nullable(),
  })
  .meta({ id: 'AccessReviewInstance' });
export type Instance = z.infer<typeof Instance>;

export const ReviewDecisionValue = z.enum(['NotReviewed', 'Approve', 'Deny', 'DontKnow']);
export type ReviewDecisionValue = z.infer<typeof ReviewDecisionValue>;
export const Recommendation = z.enum(['Approve', 'Deny']);
export type Recommendation = z.infer<typeof Recommendation>;
export const ApplyResult = z.enum(['NotApplied', 'Applied', 'Failed']);
export type ApplyResult = z.infer<typeof ApplyResult>;

export const Decision = z
  .object({
    id: z.string(),
    instanceId: z.string(),
    reviewId: z.string(),
    assignmentId: z.string(),
    principalId: z.string(),
    principalType: PrincipalType,
    roleId: z.string(),
    scope: z.string(),
    assignmentType: AssignmentType,
    recommendation: Recommendation,
    recommendationReason: z.string(),
    decision: ReviewDecisionValue,
    reviewedBy: z.string().nullable(),
    reviewedAt: z.string().nullable(),
    justification: z.string().nullable(),
    applyResult: ApplyResult,
    applyDetail: z.string().nullable(),
    /** When the instance ends (the reviewer's deadline). */
    endDateTime: z.string(),
  })
  .meta({ id: 'AccessReviewDecision' });
export type Decision = z.infer<typeof Decision>;

export const ReviewDecisionInput = z.strictObject({
  decision: z.enum(['Approve', 'Deny', 'DontKnow']),
  justification: Justification.optional(),
});

// ---- the definition's rules ----------------------------------------------------------------------

const STEP: Record<RecurrenceType, Partial<Duration> | null> = {
  once: null,
  weekly: { weeks: 1 },
  monthly: { months: 1 },
  quarterly: { months: 3 },
  semiAnnually: { months: 6 },
  annually: { years: 1 },
};

const MIN_DURATION_MS = 3_600_000;
const MAX_LOOKBACK_MS = 3650 * 86_400_000;

/** Rules that span fields (each problem names its field); empty when the definition is sound. */
export function reviewProblems(input: ReviewInput): FieldError[] {
  const problems: FieldError[] = [];
  const { reviewers } = input;
  if (reviewers.type === 'principals' && !reviewers.principals?.length) {
    problems.push({ path: 'reviewers.principals', message: 'name at least one reviewer when the type is principals' });
  }
  if (reviewers.type !== 'principals' && reviewers.principals?.length) {
    problems.push({ path: 'reviewers.principals', message: `only reviewers of type principals name principals` });
  }
  // A role or type named twice is refused by the schema itself (`distinct`), before these rules run.
  const duration = fixedMs(input.duration);
  if (duration === undefined || duration < MIN_DURATION_MS) {
    problems.push({
      path: 'duration',
      message: 'a fixed duration (days or hours, no years or months) of at least PT1H',
    });
  } else {
    const step = STEP[input.recurrence.type];
    const anchor = new Date(input.recurrence.startDateTime ?? '2000-01-01T00:00:00Z');
    if (step && anchor.getTime() + duration > shortestPeriodEnd(anchor, step)) {
      problems.push({
        path: 'duration',
        message: `an instance must end before the next ${input.recurrence.type} one starts`,
      });
    }
  }
  const lookback = fixedMs(input.recommendationLookback);
  if (lookback === undefined || lookback <= 0 || lookback > MAX_LOOKBACK_MS) {
    problems.push({
      path: 'recommendationLookback',
      message: 'a fixed duration (days or hours, no years or months) up to P3650D',
    });
  }
  return problems;
}

function fixedMs(text: string): number | undefined {
  const d = tryParseDuration(text);
  if (!d || d.years || d.months) return undefined;
  return durationMs(d);
}

/** The end of the shortest period of a step after `anchor` (a month counts as 28 days: no overlap in February). */
function shortestPeriodEnd(anchor: Date, step: Partial<Duration>): number {
  const months = (step.years ?? 0) * 12 + (step.months ?? 0);
  return anchor.getTime() + ((step.weeks ?? 0) * 7 + months * 28) * 86_400_000;
}

// ---- recurrence ------------------------------------------------------------------------------------

export interface Recurrence {
  type: RecurrenceType;
  startDateTime: string;
}

/** The start of occurrence `index` (0, 1, ...): the anchor plus `index` calendar steps (never drifting). */
export function occurrenceStart(recurrence: Recurrence, index: number): Date {
  const anchor = new Date(recurrence.startDateTime);
  const step = STEP[recurrence.type];
  if (!step || index === 0) return anchor;
  return addDuration(anchor, {
    years: (step.years ?? 0) * index,
    months: (step.months ?? 0) * index,
    weeks: (step.weeks ?? 0) * index,
    days: 0,
    hours: 0,
    minutes: 0,
    seconds: 0,
  });
}

export interface Occurrence {
  index: number;
  startDateTime: string;
  endDateTime: string;
}

export interface DuePlan {
  /** The instance to start now, if one is due (and has not already ended). */
  start: Occurrence | null;
  /** The next occurrence still to come, or null when there is none (`once`). */
  nextIndex: number | null;
  nextStartDateTime: string | null;
}

/**
 * What is due at `now`, from occurrence `fromIndex` on: the latest occurrence that has started and not yet
 * ended (occurrences missed entirely, e.g. while the job was down, are skipped), and the next one to wait for.
 */
export function duePlan(recurrence: Recurrence, duration: string, fromIndex: number, now: Date): DuePlan {
  const t = now.getTime();
  const once = recurrence.type === 'once';
  let index = fromIndex;
  if (occurrenceStart(recurrence, index).getTime() > t) {
    return { start: null, nextIndex: index, nextStartDateTime: occurrenceStart(recurrence, index).toISOString() };
  }
  while (!once && occurrenceStart(recurrence, index + 1).getTime() <= t) index++;
  const start = occurrenceStart(recurrence, index);
  const end = addDuration(start, parseDuration(duration));
  const occurrence =
    end.getTime() > t ? { index, startDateTime: start.toISOString(), endDateTime: end.toISOString() } : null;
  if (once) return { start: occurrence, nextIndex: null, nextStartDateTime: null };
  return {
    start: occurrence,
    nextIndex: index + 1,
    nextStartDateTime: occurrenceStart(recurrence, index + 1).toISOString(),
  };
}

/** Halfway through an instance: when its reviewers are reminded. */
export const halfway = (i: Pick<Instance, 'startDateTime' | 'endDateTime'>): Date =>
  new Date((Date.parse(i.startDateTime) + Date.parse(i.endDateTime)) / 2);

// ---- recommendations and defaults ------------------------------------------------------------------

export interface RecommendationFacts {
  assignmentType: 'eligible' | 'active';
  /** When the assignment was made (an eligibility younger than the look-back is not judged yet). */
  createdAt: string;
  /** When this eligibility was last activated (null: never). */
  lastActivatedAt: string | null;
  lookback: string;
  now: Date;
}

/** The start of the look-back window. */
export const lookbackStart = (lookback: string, now: Date): Date => new Date(now.getTime() - durationMs(lookback));

/**
 * Deny an eligible assignment that was not activated within the look-back; Approve otherwise. Elevate does not
 * see how an active assignment is used, so active assignments are recommended Approve ("no usage data").
 */
export function recommend(f: RecommendationFacts): { recommendation: Recommendation; reason: string } {
  if (f.assignmentType === 'active') {
    return {
      recommendation: 'Approve',
      reason: 'no usage data: Elevate does not see how an active assignment is used',
    };
  }
  const since = lookbackStart(f.lookback, f.now).getTime();
  if (f.lastActivatedAt && Date.parse(f.lastActivatedAt) >= since) {
    return {
      recommendation: 'Approve',
      reason: `activated within the last ${f.lookback} (last at ${f.lastActivatedAt})`,
    };
  }
  if (Date.parse(f.createdAt) >= since) {
    return { recommendation: 'Approve', reason: `assigned within the last ${f.lookback}; too new to judge` };
  }
  const last = f.lastActivatedAt ? ` (last at ${f.lastActivatedAt})` : ' (never activated)';
  return { recommendation: 'Deny', reason: `not activated within the last ${f.lookback}${last}` };
}

/** The decision a NotReviewed item gets when its instance ends (null: it stays NotReviewed). */
export function defaultOutcome(d: DefaultDecision, recommendation: Recommendation): 'Approve' | 'Deny' | null {
  switch (d) {
    case 'none':
      return null;
    case 'approve':
      return 'Approve';
    case 'deny':
      return 'Deny';
    case 'recommendation':
      return recommendation;
  }
}

// ---- who reviews -----------------------------------------------------------------------------------

/**
 * The reviewers of an instance, fixed when it starts: the item's own principal (`self`), named principals, or
 * per role the approvers of the role policy's first stage (`role` elevate-admin when the role needs no approval).
 */
export type InstanceReviewers =
  | { type: 'self' }
  | { type: 'principals'; principals: ReviewerRef[] }
  | { type: 'approvers'; approvers: Record<string, ApproverRef[]> };

/** The first-stage approvers of a policy, or the admins when it has none. */
export function approversOf(stages: readonly { approvers: readonly ApproverRef[] }[]): ApproverRef[] {
  const first = stages[0]?.approvers ?? [];
  return first.length ? first.map((a) => ({ type: a.type, id: a.id })) : [{ type: 'role', id: 'elevate-admin' }];
}

/** Does the caller match one of these refs? (The use case answers with the approval rules: users, groups, admins.) */
export type RefMatcher = (refs: readonly ApproverRef[]) => boolean;

/** The Elevate groups the caller is an active member of now (a set or a map keyed by group id). */
export type Memberships = ReadonlySet<string> | ReadonlyMap<string, unknown>;

/**
 * Does the caller hold this item's access itself? Directly (the item is the caller's: a user of its id), or through
 * any group: an Elevate group it is an active member of, or an identity-provider group of the same name (an
 * approver `group` matches both, so both are the caller's access).
 */
export function holdsAccessOf(d: PrincipalRef, caller: Caller, memberOf: Memberships): boolean {
  switch (d.principalType) {
    case 'user':
      return d.principalId === caller.id;
    case 'group':
      return caller.groups.includes(d.principalId) || memberOf.has(d.principalId);
    case 'servicePrincipal':
      return false;
  }
}

/**
 * Is this the caller's own item in a `self` review? Only a user's item, to that user. A group's item has no self
 * reviewer: one member would decide the access of all, their own included (it takes the default decision).
 */
export const isOwnItem = (d: PrincipalRef, caller: Caller): boolean =>
  d.principalType === 'user' && d.principalId === caller.id;

/** The refs that review items of a role in an instance (none for `self`). */
export function refsFor(reviewers: InstanceReviewers, roleId: string): readonly ApproverRef[] {
  if (reviewers.type === 'self') return [];
  return reviewers.type === 'principals' ? reviewers.principals : (reviewers.approvers[roleId] ?? []);
}

/**
 * May the caller decide this item? `self`: only a user's own item, by that user. Otherwise the named reviewers or
 * the role's approvers, but never on access they hold themselves, directly or through any group (`self`).
 */
export function reviewerVerdict(
  reviewers: InstanceReviewers,
  d: Pick<Decision, 'principalId' | 'principalType' | 'roleId'>,
  caller: Caller,
  matches: RefMatcher,
  memberOf: Memberships,
): 'allowed' | 'self' | 'notReviewer' {
  if (reviewers.type === 'self') return isOwnItem(d, caller) ? 'allowed' : 'notReviewer';
  if (!matches(refsFor(reviewers, d.roleId))) return 'notReviewer';
  return holdsAccessOf(d, caller, memberOf) ? 'self' : 'allowed';
}

/** The roles of an instance whose items the caller reviews ('all' for named principals; [] for self). */
export function reviewedRoles(reviewers: InstanceReviewers, matches: RefMatcher): string[] | 'all' {
  if (reviewers.type === 'self') return [];
  if (reviewers.type === 'principals') return matches(reviewers.principals) ? 'all' : [];
  return Object.entries(reviewers.approvers)
    .filter(([, refs]) => matches(refs))
    .map(([roleId]) => roleId);
}

/** A deterministic decision id per assignment (a retried start writes the same items). */
export function decisionIdOf(assignmentId: string): string {
  const m = /^[a-z]{3}_([0-9A-Z]{26})$/.exec(assignmentId);
  if (m) return `dec_${m[1]}`;
  let h = 0n;
  for (const c of assignmentId) h = (h * 131n + BigInt(c.codePointAt(0) ?? 0)) % 2n ** 128n;
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let out = '';
  for (let i = 0; i < 26; i++) {
    out = alphabet[Number(h % 32n)] + out;
    h /= 32n;
  }
  return `dec_${out}`;
}

/** What decides whether a reviewer may record a decision on an item now. */
export interface ReviewDecisionCheck {
  verdict: ReturnType<typeof reviewerVerdict>;
  instance: Pick<Instance, 'status' | 'endDateTime'> & { requireJustification: boolean };
  /** The item's decision so far. */
  current: Decision['decision'];
  justification: string | undefined;
  now: Date;
}

/**
 * The refusals of a review decision, in a fixed order: not a reviewer of the item (403); one's own access, directly
 * or through a group, outside a self-review (403 SelfApprovalForbidden); the instance over or stopped (409); the
 * item decided already (409 AlreadyDecided); no justification where the review needs one.
 */
export function checkReviewDecision(c: ReviewDecisionCheck): void {
  if (c.verdict === 'notReviewer') throw forbidden('you are not a reviewer of this item');
  if (c.verdict === 'self') {
    throw new DomainError(
      'SelfApprovalForbidden',
      'you cannot review access you hold yourself, directly or through a group, unless the review is a self-review',
    );
  }
  if (c.instance.status !== 'InProgress' || Date.parse(c.instance.endDateTime) <= c.now.getTime()) {
    throw new DomainError(
      'Conflict',
      `the review instance is ${c.instance.status === 'InProgress' ? 'over' : c.instance.status}`,
    );
  }
  if (c.current !== 'NotReviewed') throw new DomainError('AlreadyDecided', `the item was decided: ${c.current}`);
  if (c.instance.requireJustification && !c.justification) {
    throw new DomainError('JustificationRequired', 'this access review needs a justification with every decision');
  }
}
