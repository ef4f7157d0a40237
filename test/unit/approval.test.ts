import { describe, expect, it } from 'vitest';
import { checkActivation, extendedEnd } from '#shared/domain/activation.ts';
import {
  type Approval,
  approvesAsAdminOnly,
  decide,
  decisionRefusal,
  isApprover,
  mayDecide,
  stagesFromPolicy,
  startStage,
} from '#shared/domain/approval.ts';
import { DomainError } from '#shared/domain/errors.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';

const now = new Date('2026-11-26T10:00:00Z');
const caller = (id: string, extra: Partial<{ groups: string[]; mfa: boolean; acrs: string[] }> = {}) => ({
  id,
  email: null,
  name: null,
  groups: [],
  mfa: true,
  acrs: [],
  authTime: null,
  ...extra,
});

function twoStages(): Approval {
  const policy = defaultPolicy();
  policy.activation.approval = {
    required: true,
    stages: [
      {
        approvers: [
          { type: 'user', id: 'bob' },
          { type: 'user', id: 'carol' },
        ],
        requiredApprovals: 2,
        timeout: 'PT4H',
      },
      { approvers: [{ type: 'group', id: 'security' }], requiredApprovals: 1, timeout: 'PT1H' },
    ],
  };
  return startStage({ stages: stagesFromPolicy(policy) }, 0, now);
}

const approve = (approverId: string) => ({
  approverId,
  decision: 'Approve' as const,
  justification: null,
  at: now.toISOString(),
});

describe('approval stages', () => {
  it('needs no stage when the policy does not require approval', () => {
    expect(stagesFromPolicy(defaultPolicy())).toEqual([]);
  });

  it('starts a stage with its deadline', () => {
    const approval = twoStages();
    expect(approval.stages.map((s) => s.status)).toEqual(['Pending', 'NotStarted']);
    expect(approval.stages[0]?.deadline).toBe('2026-11-26T14:00:00.000Z');
  });

  it('passes a stage only at its quorum of distinct approvers, then starts the next', () => {
    const first = decide(twoStages(), approve('bob'), now);
    expect(first.kind).toBe('recorded');
    const second = decide(first.approval, approve('carol'), now);
    expect(second).toMatchObject({ kind: 'stagePassed', next: 1 });
    expect(second.approval.stages.map((s) => s.status)).toEqual(['Approved', 'Pending']);
    const last = decide(second.approval, approve('dave'), now);
    expect(last).toMatchObject({ kind: 'stagePassed', next: null });
  });

  it('refuses a second decision by the same approver in a stage', () => {
    const first = decide(twoStages(), approve('bob'), now);
    expect(() => decide(first.approval, approve('bob'), now)).toThrow(DomainError);
  });

  it('ends at the first deny', () => {
    const denied = decide(twoStages(), { ...approve('bob'), decision: 'Deny' }, now);
    expect(denied.kind).toBe('denied');
    expect(() => decide(denied.approval, approve('carol'), now)).toThrow(/not waiting/);
  });

  it('knows approvers by id, by group claim or Elevate membership, group owners, and admins for role approvers', () => {
    const [stage0, stage1] = twoStages().stages as [never, never];
    expect(isApprover(stage0, caller('bob'), { admin: false })).toBe(true);
    expect(isApprover(stage0, caller('eve'), { admin: true })).toBe(false);
    expect(isApprover(stage1, caller('eve', { groups: ['security'] }), { admin: false })).toBe(true);
    expect(isApprover(stage1, caller('eve'), { admin: false, memberOf: new Set(['security']) })).toBe(true);
    const owners = {
      status: 'Pending' as const,
      approvers: [{ type: 'groupOwners' as const, id: 'security' }],
      requiredApprovals: 1,
      timeout: 'PT1H',
      deadline: null,
      decisions: [],
    };
    expect(isApprover(owners, caller('eve'), { admin: false, memberOf: new Set(['security']) })).toBe(false);
    expect(isApprover(owners, caller('eve'), { admin: false, ownerOf: new Set(['security']) })).toBe(true);
    const adminStage = {
      status: 'Pending' as const,
      approvers: [{ type: 'role' as const, id: 'elevate-admin' }],
      requiredApprovals: 1,
      timeout: 'PT1H',
      deadline: null,
      decisions: [],
    };
    expect(isApprover(adminStage, caller('eve'), { admin: true })).toBe(true);
    expect(isApprover(adminStage, caller('eve'), { admin: false })).toBe(false);
  });
});

describe('mayDecide: who decides on a request', () => {
  const pending = (extra: Partial<{ status: string; principalId: string; createdBy: string }> = {}) => ({
    status: 'PendingApproval',
    principalId: 'alice',
    createdBy: 'alice',
    approval: twoStages(),
    ...extra,
  });
  const codeOf = (r: ReturnType<typeof pending>, who: ReturnType<typeof caller>, admin = false) =>
    decisionRefusal(r, who, { admin })?.code ?? null;

  it('lets an approver of the current stage decide on a pending request of someone else', () => {
    expect(codeOf(pending(), caller('bob'))).toBeNull();
    expect(mayDecide(pending(), caller('bob'), { admin: false })).toBe(true);
  });

  it('never lets the requester or the principal decide, even when they are an approver or an admin', () => {
    // Prepare: bob asked for carol's activation, and both are approvers of the stage.
    const r = pending({ principalId: 'carol', createdBy: 'bob' });
    // Act / Assess
    expect(codeOf(r, caller('bob'), true)).toBe('SelfApprovalForbidden');
    expect(codeOf(r, caller('carol'), true)).toBe('SelfApprovalForbidden');
    expect(mayDecide(r, caller('bob'), { admin: true })).toBe(false);
    expect(mayDecide(r, caller('carol'), { admin: true })).toBe(false);
  });

  it('refuses a request no longer pending before anything else', () => {
    expect(codeOf(pending({ status: 'Granted', createdBy: 'bob' }), caller('bob'))).toBe('AlreadyDecided');
  });

  it('refuses whoever is not an approver of the current stage', () => {
    expect(codeOf(pending(), caller('eve'), true)).toBe('Forbidden');
    expect(mayDecide(pending(), caller('eve'), { admin: true })).toBe(false);
  });

  it('leaves out of the approvals list a stage the caller already decided on', () => {
    const r = { ...pending(), approval: decide(twoStages(), approve('bob'), now).approval };
    expect(mayDecide(r, caller('bob'), { admin: false })).toBe(false);
    expect(mayDecide(r, caller('carol'), { admin: false })).toBe(true);
  });

  it('asks for admin authority only of one who approves through elevate-admin alone', () => {
    const stage = {
      status: 'Pending' as const,
      approvers: [
        { type: 'role' as const, id: 'elevate-admin' },
        { type: 'user' as const, id: 'bob' },
      ],
      requiredApprovals: 1,
      timeout: 'PT1H',
      deadline: null,
      decisions: [],
    };
    expect(approvesAsAdminOnly(stage, caller('eve'), { admin: true })).toBe(true);
    expect(approvesAsAdminOnly(stage, caller('bob'), { admin: true })).toBe(false);
    expect(approvesAsAdminOnly(stage, caller('eve'), { admin: false })).toBe(false);
  });
});

describe('activation rules', () => {
  const schedule = { start: now, end: new Date('2026-11-26T12:00:00Z') };
  const code = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      return (e as DomainError).code;
    }
    return undefined;
  };

  it('requires MFA, the authentication context, a justification and a ticket as the policy says', () => {
    const policy = defaultPolicy();
    policy.activation.authenticationContext = 'c1';
    policy.activation.requireTicket = true;
    const base = {
      policy,
      caller: caller('alice', { acrs: ['c1'] }),
      justification: 'x',
      ticket: { system: 'jira', number: 'OPS-1' },
      schedule,
    };
    expect(code(() => checkActivation(base))).toBeUndefined();
    expect(code(() => checkActivation({ ...base, caller: caller('alice', { mfa: false, acrs: ['c1'] }) }))).toBe(
      'MfaRequired',
    );
    expect(code(() => checkActivation({ ...base, caller: caller('alice') }))).toBe('AuthenticationContextRequired');
    expect(code(() => checkActivation({ ...base, justification: undefined }))).toBe('JustificationRequired');
    expect(code(() => checkActivation({ ...base, ticket: undefined }))).toBe('TicketRequired');
    expect(
      code(() => checkActivation({ ...base, schedule: { start: now, end: new Date('2026-11-26T18:00:01Z') } })),
    ).toBe('DurationExceedsPolicy');
    expect(code(() => checkActivation({ ...base, schedule: { start: now, end: null } }))).toBe('PermanentNotAllowed');
  });

  it('extends by at most the maximum from now', () => {
    const policy = defaultPolicy();
    expect(extendedEnd(policy, now, null).toISOString()).toBe('2026-11-26T18:00:00.000Z');
    expect(() => extendedEnd(policy, now, new Date('2026-11-26T19:00:00Z'))).toThrow(/at most PT8H/);
  });
});
