import * as z from 'zod';
import { addDuration, parseDuration } from './duration.ts';
import { DomainError } from './errors.ts';
import { isAdminAction } from './gate.ts';
import { Justification } from './primitives.ts';
import { ADMIN_ROLE, AUDITOR_ROLE } from './role.ts';

// Whether a change made with elevate-admin authority needs `mfa` in `amr` (both the deployment setting,
// `ELEVATE_ADMIN_MFA`, and `governance.adminMfa` must say so) is asked by every call's gate: gate.ts.
export { adminMfaRequired, checkAdminMfa } from './gate.ts';
/**
 * Four eyes on Elevate's own power (api.md, "Governance"). Pure rules: which calls need MFA, which calls a
 * second administrator must approve, and how a pending change may be decided. The store and the HTTP wrapper
 * apply what these decide.
 */
export { defaultSettings, Settings } from './settings.ts';

// ---- pending changes -------------------------------------------------------------------------------

export const ChangeKind = z.enum(['settings', 'rolePolicy', 'roleTargets', 'privilegedRole', 'adminAssignment']);
export type ChangeKind = z.infer<typeof ChangeKind>;

export const ChangeStatus = z.enum(['Pending', 'Applied', 'Rejected', 'Expired']);
export type ChangeStatus = z.infer<typeof ChangeStatus>;

/** The original call a pending change holds, applied as it is when a second administrator approves. */
export const ChangeCall = z.object({
  operationId: z.string(),
  method: z.string(),
  path: z.string(),
  params: z.record(z.string(), z.string()),
  /** The query string (a policy's `scope`); absent on changes proposed before it was kept. */
  query: z.record(z.string(), z.string()).optional(),
  body: z.unknown(),
});
export type ChangeCall = z.infer<typeof ChangeCall>;

export const Change = z
  .object({
    id: z.string(),
    kind: ChangeKind,
    summary: z.string(),
    proposedBy: z.string(),
    proposedAt: z.string(),
    expiresAt: z.string(),
    status: ChangeStatus,
    request: ChangeCall,
    decidedBy: z.string().nullable(),
    decidedAt: z.string().nullable(),
    justification: z.string().nullable(),
    result: z.object({ status: z.int(), body: z.unknown() }).nullable(),
  })
  .meta({ id: 'Change' });
export type Change = z.infer<typeof Change>;

export const ChangeDecisionInput = z.strictObject({ justification: Justification.optional() });

/** How long a proposal waits for its second administrator. */
export const CHANGE_LIFETIME = 'P7D';

export const changeExpiry = (proposedAt: Date): Date => addDuration(proposedAt, parseDuration(CHANGE_LIFETIME));

/** A Pending change past its expiry is Expired, whether or not the reconcile job has written that yet. */
export const effectiveChangeStatus = (c: Pick<Change, 'status' | 'expiresAt'>, now: Date): ChangeStatus =>
  c.status === 'Pending' && Date.parse(c.expiresAt) <= now.getTime() ? 'Expired' : c.status;

/** What decides whether a call is held for a second administrator, besides the call itself. */
export interface GovernanceFacts {
  requireSecondAdmin: boolean;
  /** The role the call is about is privileged (put/deletePolicy, putTargets, updateRole); undefined when it does not exist. */
  rolePrivileged?: boolean | undefined;
}

const ELEVATE_ROLES: readonly string[] = [ADMIN_ROLE, AUDITOR_ROLE];

/**
 * With `requireSecondAdmin`, a change to an elevate-admin/elevate-auditor assignment, to the policy or targets of a
 * privileged role (or making a privileged role unprivileged, which would free its policy), or to the settings themselves is
 * held for a second administrator. Returns its kind and a one-line summary, or null when the call goes ahead now.
 */
export function governedChange(
  call: Pick<ChangeCall, 'operationId' | 'params' | 'body' | 'query'>,
  facts: GovernanceFacts,
): { kind: ChangeKind; summary: string } | null {
  if (!facts.requireSecondAdmin) return null;
  const body = (call.body ?? {}) as Record<string, unknown>;
  const scope = call.query?.scope ?? '/';
  const at = scope === '/' ? '' : ` at '${scope}'`;
  switch (call.operationId) {
    case 'putSettings': {
      const g = (body.governance ?? {}) as Record<string, unknown>;
      return {
        kind: 'settings',
        summary: `set governance.adminMfa=${String(g.adminMfa)}, governance.requireSecondAdmin=${String(g.requireSecondAdmin)}`,
      };
    }
    case 'putPolicy':
      return facts.rolePrivileged
        ? { kind: 'rolePolicy', summary: `replace the policy of privileged role '${call.params.roleId}'${at}` }
        : null;
    case 'deletePolicy':
      return facts.rolePrivileged
        ? { kind: 'rolePolicy', summary: `remove the policy of privileged role '${call.params.roleId}'${at}` }
        : null;
    case 'putTargets':
      return facts.rolePrivileged
        ? { kind: 'roleTargets', summary: `replace the targets of privileged role '${call.params.roleId}'` }
        : null;
    case 'updateRole':
      return facts.rolePrivileged && body.privileged === false
        ? { kind: 'privilegedRole', summary: `make privileged role '${call.params.roleId}' unprivileged` }
        : null;
    case 'createRequest': {
      const action = String(body.action ?? '');
      if (!isAdminAction(action) || body.validateOnly === true) return null;
      if (!ELEVATE_ROLES.includes(String(body.roleId))) return null;
      return {
        kind: 'adminAssignment',
        summary: `${action} ${String(body.assignmentType)} '${String(body.roleId)}' for '${String(body.principalId)}' at '${String(body.scope ?? '/')}'`,
      };
    }
    default:
      return null;
  }
}

/** Who may decide a pending change, and when: never its proposer, only while it is Pending and not expired. */
export function checkChangeDecision(
  c: Pick<Change, 'status' | 'expiresAt' | 'proposedBy'>,
  deciderId: string,
  now: Date,
) {
  const status = effectiveChangeStatus(c, now);
  if (status === 'Expired') {
    throw new DomainError('Conflict', 'the change expired before a second administrator approved it; propose it again');
  }
  if (status !== 'Pending') throw new DomainError('AlreadyDecided', `the change is ${status}, no longer pending`);
  if (c.proposedBy === deciderId) {
    throw new DomainError(
      'SelfApprovalForbidden',
      'a second administrator decides a change, never the one who proposed it',
    );
  }
}
