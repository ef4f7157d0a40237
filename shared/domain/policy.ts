import * as z from 'zod';
import { addDuration, durationMs, parseDuration } from './duration.ts';
import { IsoDuration, PrincipalId } from './primitives.ts';
import { DEFAULT_MAX_SCHEDULE_AHEAD } from './schedule.ts';
import { SlackNotifications } from './slack.ts';

/** A role's policy: the rules of api.md for activation, eligible and active assignments. */
/**
 * An approver: a user; a group (by the caller's `groups` claim, or active membership of the Elevate group);
 * or `groupOwners`, the active owners of an Elevate group (for its membership requests).
 */
export const Approver = z
  .strictObject({ type: z.enum(['user', 'group', 'groupOwners']), id: PrincipalId })
  .meta({ id: 'Approver' });

export const ApprovalStage = z
  .strictObject({
    approvers: z.array(Approver).min(1).max(50),
    requiredApprovals: z.int().min(1).max(10).default(1),
    timeout: IsoDuration.default('PT24H'),
  })
  .meta({ id: 'ApprovalStage' });

// Each part of a policy is published once, by name, in the OpenAPI document: the policy's request and response forms
// both refer to them.
const ActivationRules = z
  .strictObject({
    maxDuration: IsoDuration,
    requireMfa: z.boolean(),
    requireJustification: z.boolean(),
    requireTicket: z.boolean(),
    authenticationContext: z.string().min(1).max(128).nullable(),
    maxExtensions: z.int().min(0).max(100),
    approval: z.strictObject({
      required: z.boolean(),
      stages: z.array(ApprovalStage).max(3),
      /**
       * An approver decides only with MFA in their sign-in (400 ApproverMfaRequired otherwise): Slack's buttons
       * become links to the console, where the approver signs in with it. Absent: false.
       */
      requireApproverMfa: z.boolean().optional(),
    }),
  })
  .meta({ id: 'ActivationRules' });

const EligibleAssignmentRules = z
  .strictObject({ allowPermanent: z.boolean(), maxDuration: IsoDuration })
  .meta({ id: 'EligibleAssignmentRules' });

const ActiveAssignmentRules = z
  .strictObject({
    allowPermanent: z.boolean(),
    maxDuration: IsoDuration,
    requireMfa: z.boolean(),
    requireJustification: z.boolean(),
  })
  .meta({ id: 'ActiveAssignmentRules' });

const NotificationRules = z
  .strictObject({
    additionalRecipients: z.array(z.email()).max(50),
    criticalOnly: z.boolean(),
    /** Slack (docs/slack.md); absent: direct messages to the stage's approvers, no channel. */
    slack: SlackNotifications.optional(),
  })
  .meta({ id: 'NotificationRules' });

export const RolePolicy = z.strictObject({
  activation: ActivationRules,
  eligibleAssignment: EligibleAssignmentRules,
  activeAssignment: ActiveAssignmentRules,
  notifications: NotificationRules,
  /** How far ahead a start may lie (an activation, an assignment, a move of either). */
  maxScheduleAhead: IsoDuration.default(DEFAULT_MAX_SCHEDULE_AHEAD),
});
export type RolePolicy = z.infer<typeof RolePolicy>;

/** A stored policy with the fields added since it was written filled with their defaults. */
export const withDefaults = (stored: RolePolicy): RolePolicy => ({
  ...stored,
  maxScheduleAhead: stored.maxScheduleAhead ?? DEFAULT_MAX_SCHEDULE_AHEAD,
});

export function defaultPolicy(): RolePolicy {
  return {
    activation: {
      maxDuration: 'PT8H',
      requireMfa: true,
      requireJustification: true,
      requireTicket: false,
      authenticationContext: null,
      maxExtensions: 1,
      approval: { required: false, stages: [] },
    },
    eligibleAssignment: { allowPermanent: true, maxDuration: 'P365D' },
    activeAssignment: { allowPermanent: false, maxDuration: 'P180D', requireMfa: false, requireJustification: true },
    notifications: { additionalRecipients: [], criticalOnly: false },
    maxScheduleAhead: DEFAULT_MAX_SCHEDULE_AHEAD,
  };
}

/** Rules that span fields; each problem names the field it is about. */
export function policyProblems(policy: RolePolicy): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const { approval } = policy.activation;
  if (approval.required && approval.stages.length === 0) {
    problems.push({ path: 'activation.approval.stages', message: 'approval.required needs at least one stage' });
  }
  approval.stages.forEach((stage, i) => {
    const onlyUsers = stage.approvers.every((a) => a.type === 'user');
    const distinct = new Set(stage.approvers.map((a) => `${a.type}:${a.id}`)).size;
    if (onlyUsers && stage.requiredApprovals > distinct) {
      problems.push({
        path: `activation.approval.stages.${i}.requiredApprovals`,
        message: `needs ${stage.requiredApprovals} approvals but names only ${distinct} distinct approvers`,
      });
    }
    const timeout = fixedDuration(stage.timeout);
    if (timeout === undefined || timeout < 5 * 60_000 || timeout > 30 * 86_400_000) {
      problems.push({
        path: `activation.approval.stages.${i}.timeout`,
        message: 'a stage timeout is between PT5M and P30D, in weeks, days, hours or minutes',
      });
    }
  });
  const positive: [string, string][] = [
    ['activation.maxDuration', policy.activation.maxDuration],
    ['eligibleAssignment.maxDuration', policy.eligibleAssignment.maxDuration],
    ['activeAssignment.maxDuration', policy.activeAssignment.maxDuration],
  ];
  for (const [path, value] of positive) {
    const epoch = new Date(0);
    if (addDuration(epoch, parseDuration(value)).getTime() < 5 * 60_000) {
      problems.push({ path, message: 'a maximum duration is at least PT5M' });
    }
  }
  if (addDuration(new Date(0), parseDuration(policy.maxScheduleAhead)).getTime() > 3_660 * 86_400_000) {
    problems.push({ path: 'maxScheduleAhead', message: 'a start lies at most about ten years (P3660D) ahead' });
  }
  return problems;
}

function fixedDuration(text: string): number | undefined {
  try {
    return durationMs(text);
  } catch {
    return undefined;
  }
}

/** A role's policy at one scope, as GET /v1/roles/{roleId}/policies lists it (`/`: the base policy). */
export const ScopedPolicy = z.strictObject({ scope: z.string(), policy: RolePolicy, updatedAt: z.string() });
export type ScopedPolicy = z.infer<typeof ScopedPolicy>;

/** `activation.approval.requireApproverMfa`: an approver decides only with MFA in their sign-in (absent: false). */
export const approverMfaRequired = (policy: RolePolicy): boolean =>
  policy.activation.approval.requireApproverMfa === true;
