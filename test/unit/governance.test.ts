import { describe, expect, it } from 'vitest';
import type { Caller } from '#shared/auth/caller.ts';
import { parseFlag } from '#shared/config.ts';
import type { Stage } from '#shared/domain/approval.ts';
import {
  adminMfaRequired,
  checkAdminMfa,
  checkChangeDecision,
  defaultSettings,
  effectiveChangeStatus,
  governedChange,
} from '#shared/domain/governance.ts';
import { maySeeRequest } from '#shared/domain/visibility.ts';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
};
const on = { requireSecondAdmin: true };

describe('admin MFA (governance.adminMfa)', () => {
  it('is required by default, and off when either the deployment or the settings turn it off', () => {
    const off = { governance: { adminMfa: false, requireSecondAdmin: false } };
    expect(adminMfaRequired(true, defaultSettings())).toBe(true);
    expect(adminMfaRequired(false, defaultSettings())).toBe(false);
    expect(adminMfaRequired(true, off)).toBe(false);
  });

  it('refuses a change without MFA with MfaRequired when required', () => {
    expect(code(() => checkAdminMfa(true, false, 'x'))).toBe('MfaRequired');
    expect(code(() => checkAdminMfa(true, true, 'x'))).toBeUndefined();
    expect(code(() => checkAdminMfa(false, false, 'x'))).toBeUndefined();
  });

  it('reads the deployment flag strictly (a typo is a deployment error, never "off")', () => {
    expect(parseFlag(undefined, true, 'F')).toBe(true);
    expect(parseFlag('', true, 'F')).toBe(true);
    expect(parseFlag('FALSE', true, 'F')).toBe(false);
    expect(() => parseFlag('no', true, 'F')).toThrow(/F must be true or false/);
  });
});

describe('which calls wait for a second administrator', () => {
  const assign = (roleId: string, extra: Record<string, unknown> = {}) => ({
    operationId: 'createRequest',
    params: {},
    body: { action: 'adminAssign', assignmentType: 'active', principalId: 'bob', roleId, ...extra },
  });

  it('holds nothing while requireSecondAdmin is off', () => {
    expect(governedChange(assign('elevate-admin'), { requireSecondAdmin: false })).toBeNull();
    expect(
      governedChange({ operationId: 'putSettings', params: {}, body: {} }, { requireSecondAdmin: false }),
    ).toBeNull();
  });

  it('holds admin actions on elevate-admin and elevate-auditor, not on other roles, self actions or validateOnly', () => {
    expect(governedChange(assign('elevate-admin'), on)?.kind).toBe('adminAssignment');
    expect(governedChange(assign('elevate-auditor', { action: 'adminRemove' }), on)?.kind).toBe('adminAssignment');
    expect(governedChange(assign('db-admin'), on)).toBeNull();
    expect(governedChange(assign('elevate-admin', { action: 'selfActivate' }), on)).toBeNull();
    expect(governedChange(assign('elevate-admin', { validateOnly: true }), on)).toBeNull();
  });

  it('holds the policy of a privileged role and making it unprivileged, not other role edits', () => {
    const policy = { operationId: 'putPolicy', params: { roleId: 'db' }, body: {} };
    const patch = (body: Record<string, unknown>) => ({ operationId: 'updateRole', params: { roleId: 'db' }, body });
    expect(governedChange(policy, { ...on, rolePrivileged: true })?.kind).toBe('rolePolicy');
    expect(governedChange(policy, { ...on, rolePrivileged: false })).toBeNull();
    const targets = { operationId: 'putTargets', params: { roleId: 'db' }, body: { targets: [] } };
    expect(governedChange(targets, { ...on, rolePrivileged: true })?.kind).toBe('roleTargets');
    expect(governedChange(targets, { ...on, rolePrivileged: false })).toBeNull();
    expect(governedChange(patch({ privileged: false }), { ...on, rolePrivileged: true })?.kind).toBe('privilegedRole');
    expect(governedChange(patch({ description: 'x' }), { ...on, rolePrivileged: true })).toBeNull();
    expect(governedChange(patch({ privileged: true }), { ...on, rolePrivileged: false })).toBeNull();
  });

  it('holds every change of the settings themselves', () => {
    const change = governedChange({ operationId: 'putSettings', params: {}, body: { governance: {} } }, on);
    expect(change?.kind).toBe('settings');
  });
});

describe('deciding a pending change', () => {
  const now = new Date('2026-11-26T10:00:00Z');
  const pending = { status: 'Pending' as const, expiresAt: '2026-12-03T10:00:00.000Z', proposedBy: 'alice' };

  it('refuses the proposer, a decided change and an expired one', () => {
    expect(code(() => checkChangeDecision(pending, 'alice', now))).toBe('SelfApprovalForbidden');
    expect(code(() => checkChangeDecision(pending, 'bob', now))).toBeUndefined();
    expect(code(() => checkChangeDecision({ ...pending, status: 'Applied' }, 'bob', now))).toBe('AlreadyDecided');
    expect(code(() => checkChangeDecision(pending, 'bob', new Date('2026-12-03T10:00:00Z')))).toBe('Conflict');
  });

  it('shows a pending change past its 7 days as Expired before the reconcile job writes it', () => {
    expect(effectiveChangeStatus(pending, now)).toBe('Pending');
    expect(effectiveChangeStatus(pending, new Date('2026-12-03T10:00:00Z'))).toBe('Expired');
    expect(effectiveChangeStatus({ ...pending, status: 'Rejected' }, new Date('2027-01-01T00:00:00Z'))).toBe(
      'Rejected',
    );
  });
});

describe('who may see a request', () => {
  const caller = (id: string, groups: string[] = []): Caller =>
    ({ id, email: null, name: null, groups, mfa: true, acrs: [], authTime: null }) as Caller;
  const stage = (approvers: Stage['approvers']): Stage => ({
    status: 'NotStarted',
    approvers,
    requiredApprovals: 1,
    timeout: 'PT1H',
    deadline: null,
    decisions: [],
  });
  const r = {
    principalType: 'user',
    principalId: 'alice',
    createdBy: 'admin',
    approval: { stages: [stage([{ type: 'user', id: 'bob' }]), stage([{ type: 'group', id: 'leads' }])] },
  };
  const none = { admin: false, auditor: false };

  it('is its subject, its requester, the approvers of any stage, admins and auditors', () => {
    expect(maySeeRequest(r, caller('alice'), none)).toBe(true);
    expect(maySeeRequest(r, caller('admin'), none)).toBe(true);
    expect(maySeeRequest(r, caller('bob'), none)).toBe(true);
    expect(maySeeRequest(r, caller('carol', ['leads']), none)).toBe(true);
    expect(maySeeRequest(r, caller('dan'), { ...none, memberOf: new Set(['leads']) })).toBe(true);
    expect(maySeeRequest(r, caller('root'), { ...none, admin: true })).toBe(true);
    expect(maySeeRequest(r, caller('audit'), { ...none, auditor: true })).toBe(true);
  });

  it('is no one else', () => {
    expect(maySeeRequest(r, caller('eve', ['others']), none)).toBe(false);
  });

  it("is not a user whose id equals a group subject's id", () => {
    const groups = { ...r, principalType: 'group', principalId: 'dbas' };
    expect(maySeeRequest(groups, caller('dbas'), none)).toBe(false);
  });
});
