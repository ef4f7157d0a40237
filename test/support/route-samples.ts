/**
 * One valid call per operation of the route table (path parameters, query, body), for the robustness tests that
 * start from a valid call and mutate it. Typed as Record<OperationId, ...>: a new route without a sample does not
 * compile, and `missingSamples()` also says so at run time.
 */

import type { OperationId } from '#shared/api/operations.ts';
import { ROUTES } from '#shared/api/routes.ts';
import { defaultAlertSettings } from '#shared/domain/alerts.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';

/** Ids the fixture of a test provides (an existing request and assignment; the rest may not exist). */
export interface SampleFixture {
  roleId: string;
  requestId: string;
  assignmentId: string;
  groupId: string;
}

export interface RouteSample {
  params?: (f: SampleFixture) => Record<string, string>;
  query?: (f: SampleFixture) => Record<string, string>;
  body?: (f: SampleFixture, n: number) => unknown;
}

const REVIEW = 'rev_00000000000000000000000000';
const INSTANCE = 'rvi_00000000000000000000000000';
const DECISION = 'dec_00000000000000000000000000';
const CHANGE = 'chg_00000000000000000000000000';
const page = () => ({ limit: '10' });

export const ROUTE_SAMPLES: Record<OperationId, RouteSample> = {
  getOpenApi: {},
  slackInteractions: {},
  createRole: { body: (_, n) => ({ id: `fz-made-${n}`, displayName: 'Made', description: 'x', privileged: false }) },
  listRoles: { query: page },
  getRole: { params: (f) => ({ roleId: f.roleId }) },
  updateRole: { params: (f) => ({ roleId: f.roleId }), body: () => ({ description: 'updated' }) },
  deleteRole: { params: (_) => ({ roleId: 'fz-never-made' }) },
  getPolicy: { params: (f) => ({ roleId: f.roleId }), query: () => ({ scope: '/accounts/123456789012' }) },
  putPolicy: {
    params: (f) => ({ roleId: f.roleId }),
    query: () => ({ scope: '/accounts/123456789012' }),
    body: () => defaultPolicy(),
  },
  deletePolicy: { params: (f) => ({ roleId: f.roleId }), query: () => ({ scope: '/accounts/210987654321' }) },
  listPolicies: { params: (f) => ({ roleId: f.roleId }), query: page },
  getTargets: { params: (f) => ({ roleId: f.roleId }) },
  putTargets: { params: (f) => ({ roleId: f.roleId }), body: () => ({ targets: [] }) },
  listScopes: { query: page },
  putPrincipal: {
    params: () => ({ principalId: 'someone' }),
    body: () => ({ type: 'user', displayName: 'Someone', email: 'someone@example.com' }),
  },
  getPrincipal: { params: () => ({ principalId: 'alice' }) },
  createRequest: {
    body: (f, n) => ({
      action: 'adminAssign',
      assignmentType: 'active',
      principalId: `fz-p-${n}`,
      principalType: 'user',
      roleId: f.roleId,
      scope: '/accounts/123456789012',
      justification: 'fuzz',
      ticket: { system: 'jira', number: 'OPS-1' },
      schedule: { expiration: { type: 'afterDuration', duration: 'PT2H' } },
      validateOnly: false,
    }),
  },
  listRequests: { query: (f) => ({ ...page(), principalId: 'alice', roleId: f.roleId, status: 'Granted' }) },
  getRequest: { params: (f) => ({ id: f.requestId }) },
  cancelRequest: { params: (f) => ({ id: f.requestId }) },
  approveRequest: { params: (f) => ({ id: f.requestId }), body: () => ({ justification: 'ok' }) },
  denyRequest: { params: (f) => ({ id: f.requestId }), body: () => ({ justification: 'no' }) },
  listApprovals: { query: page },
  listAssignments: {
    query: (f) => ({
      ...page(),
      principalId: 'alice',
      roleId: f.roleId,
      assignmentType: 'eligible',
      status: 'Active',
      privileged: 'true',
    }),
  },
  getAssignment: { params: (f) => ({ id: f.assignmentId }) },
  listMyAssignments: { query: page },
  checkAccess: { query: (f) => ({ principalId: 'alice', roleId: f.roleId, scope: '/accounts/123456789012' }) },
  listAuditEvents: {
    query: (f) => ({
      ...page(),
      from: '2020-01-01T00:00:00Z',
      to: '2030-01-01T00:00:00Z',
      actorId: 'admin',
      roleId: f.roleId,
      action: 'request.created',
    }),
  },
  createGroup: { body: (_, n) => ({ id: `fz-grp-${n}`, displayName: 'Group', description: 'x' }) },
  listGroups: { query: page },
  listGroupMembers: { params: (f) => ({ id: f.groupId }), query: page },
  listAlerts: { query: () => ({ ...page(), status: 'active' }) },
  dismissAlert: { params: () => ({ id: 'roleWithoutMfa-000000000000' }) },
  getAlertSettings: {},
  putAlertSettings: { body: () => defaultAlertSettings() },
  createAuditExport: { body: () => ({ from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00Z', format: 'csv' }) },
  listAuditExports: { query: page },
  getAuditExport: { params: () => ({ id: 'exp_01J00000000000000000000000' }) },
  createAccessReview: {
    body: (f, n) => ({
      displayName: `review ${n}`,
      scope: { roleIds: [f.roleId], assignmentTypes: ['eligible', 'active'] },
      reviewers: { type: 'principals', principals: [{ type: 'user', id: 'bob' }] },
      duration: 'P14D',
      recurrence: { type: 'once', startDateTime: '2030-01-01T00:00:00Z' },
      defaultDecision: 'none',
      autoApply: false,
      requireJustification: true,
      recommendationLookback: 'P30D',
    }),
  },
  listAccessReviews: { query: page },
  getAccessReview: { params: () => ({ id: REVIEW }) },
  listAccessReviewInstances: { params: () => ({ id: REVIEW }), query: page },
  listAccessReviewDecisions: { params: () => ({ id: REVIEW, instanceId: INSTANCE }), query: page },
  decideAccessReview: {
    params: () => ({ id: REVIEW, instanceId: INSTANCE, decisionId: DECISION }),
    body: () => ({ decision: 'Approve', justification: 'x' }),
  },
  stopAccessReviewInstance: { params: () => ({ id: REVIEW, instanceId: INSTANCE }) },
  applyAccessReviewInstance: { params: () => ({ id: REVIEW, instanceId: INSTANCE }) },
  listMyReviews: { query: page },
  getSettings: {},
  putSettings: { body: () => ({ governance: { adminMfa: true, requireSecondAdmin: false } }) },
  listChanges: { query: () => ({ ...page(), status: 'Pending' }) },
  getChange: { params: () => ({ id: CHANGE }) },
  approveChange: { params: () => ({ id: CHANGE }), body: () => ({ justification: 'ok' }) },
  rejectChange: { params: () => ({ id: CHANGE }), body: () => ({ justification: 'no' }) },
};

/** Operations of the route table without a sample (must be empty). */
export const missingSamples = (): string[] => ROUTES.map((r) => r.operationId).filter((id) => !ROUTE_SAMPLES[id]);

/** The path of a route with its parameters put in (each percent-encoded unless `raw`). */
export function fillPath(template: string, params: Record<string, string>, raw = false): string {
  return template.replace(/\{([A-Za-z0-9_]+)\}/g, (_, name: string) => {
    const value = params[name] ?? '';
    return raw ? value : encodeURIComponent(value);
  });
}
