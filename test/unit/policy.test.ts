import { describe, expect, it } from 'vitest';
import { defaultPolicy, policyProblems, RolePolicy } from '#shared/domain/policy.ts';

describe('role policies', () => {
  it('gives a new role the defaults of the contract', () => {
    // Prepare / Act
    const policy = defaultPolicy();
    // Assess
    expect(policy).toEqual({
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
      maxScheduleAhead: 'P90D',
    });
    expect(RolePolicy.parse(policy)).toEqual(policy);
  });

  it('bounds how far ahead a start may lie, P90D unless the policy says otherwise (also for policies stored before)', () => {
    const { maxScheduleAhead: _left, ...older } = defaultPolicy();
    expect(RolePolicy.parse(older).maxScheduleAhead).toBe('P90D');
    expect(policyProblems({ ...defaultPolicy(), maxScheduleAhead: 'P20Y' }).map((p) => p.path)).toEqual([
      'maxScheduleAhead',
    ]);
    expect(policyProblems({ ...defaultPolicy(), maxScheduleAhead: 'P365D' })).toEqual([]);
  });

  it('rejects unknown fields anywhere in the policy', () => {
    const policy = defaultPolicy();
    const result = RolePolicy.safeParse({ ...policy, activation: { ...policy.activation, requireMFA: true } });
    expect(result.success).toBe(false);
  });

  it('fills a stage with one required approval and a 24 hour timeout by default', () => {
    const policy = defaultPolicy();
    policy.activation.approval = { required: true, stages: [{ approvers: [{ type: 'user', id: 'bob' }] }] } as never;
    expect(RolePolicy.parse(policy).activation.approval.stages[0]).toEqual({
      approvers: [{ type: 'user', id: 'bob' }],
      requiredApprovals: 1,
      timeout: 'PT24H',
    });
  });

  it('allows at most three approval stages', () => {
    const policy = defaultPolicy();
    const stage = { approvers: [{ type: 'user', id: 'bob' }], requiredApprovals: 1, timeout: 'PT1H' };
    policy.activation.approval = { required: true, stages: [stage, stage, stage, stage] } as never;
    expect(RolePolicy.safeParse(policy).success).toBe(false);
  });

  it('needs a stage when approval is required', () => {
    const policy = defaultPolicy();
    policy.activation.approval.required = true;
    expect(policyProblems(policy)).toEqual([
      { path: 'activation.approval.stages', message: 'approval.required needs at least one stage' },
    ]);
  });

  it('refuses a quorum larger than the named users', () => {
    const policy = defaultPolicy();
    policy.activation.approval = {
      required: true,
      stages: [{ approvers: [{ type: 'user', id: 'bob' }], requiredApprovals: 2, timeout: 'PT1H' }],
    };
    expect(policyProblems(policy)[0]?.path).toBe('activation.approval.stages.0.requiredApprovals');
  });

  it('accepts a quorum larger than the named entries when a group can supply approvers', () => {
    const policy = defaultPolicy();
    policy.activation.approval = {
      required: true,
      stages: [{ approvers: [{ type: 'group', id: 'sec-team' }], requiredApprovals: 2, timeout: 'PT1H' }],
    };
    expect(policyProblems(policy)).toEqual([]);
  });

  it('refuses stage timeouts in months and maximum durations under five minutes', () => {
    const policy = defaultPolicy();
    policy.activation.maxDuration = 'PT1M';
    policy.activation.approval = {
      required: true,
      stages: [{ approvers: [{ type: 'user', id: 'bob' }], requiredApprovals: 1, timeout: 'P1M' }],
    };
    expect(policyProblems(policy).map((p) => p.path)).toEqual([
      'activation.approval.stages.0.timeout',
      'activation.maxDuration',
    ]);
  });
});
