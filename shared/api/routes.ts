/**
 * The route table: the single source that the CDK API construct and the local server both read.
 * It holds plain data only (no handler code), so infra can import it without bundling the handlers.
 *
 * - `fn` names the Lambda function (the entry `functions/api/<fn>.ts`) that serves the route;
 * - `access` is the coarse gate the HTTP wrapper applies before the use case runs
 *   (finer rules, such as "your own request or admin", live in the use cases).
 */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * public: no token; slack: no token, Slack's request signature instead (checked by the function); authenticated: a
 * valid token; admin: active elevate-admin; reader: admin or auditor.
 */
export type Access = 'public' | 'slack' | 'authenticated' | 'admin' | 'reader';

/** A route API Gateway lets through without a bearer token (no JWT authorizer): public, or signed by Slack. */
export const withoutToken = (route: Pick<Route, 'access'>): boolean =>
  route.access === 'public' || route.access === 'slack';

export const FUNCTIONS = [
  'meta',
  'roles',
  'principals',
  'requests',
  'assignments',
  'access',
  'audit',
  'exports',
  'reviews',
  'groups',
  'alerts',
  'governance',
  'slack',
] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

export interface Route {
  readonly method: HttpMethod;
  readonly path: string;
  readonly fn: FunctionName;
  readonly operationId: string;
  readonly access: Access;
  readonly summary: string;
}

export const ROUTES = [
  {
    method: 'GET',
    path: '/v1/openapi.json',
    fn: 'meta',
    operationId: 'getOpenApi',
    access: 'public',
    summary: 'The OpenAPI 3.1 document of this API',
  },
  {
    method: 'POST',
    path: '/v1/integrations/slack/interactions',
    fn: 'slack',
    operationId: 'slackInteractions',
    access: 'slack',
    summary: "Slack's interactions (form-encoded, signed by Slack, no token)",
  },

  {
    method: 'POST',
    path: '/v1/roles',
    fn: 'roles',
    operationId: 'createRole',
    access: 'admin',
    summary: 'Create a role',
  },
  {
    method: 'GET',
    path: '/v1/roles',
    fn: 'roles',
    operationId: 'listRoles',
    access: 'authenticated',
    summary: 'List roles',
  },
  {
    method: 'GET',
    path: '/v1/roles/{roleId}',
    fn: 'roles',
    operationId: 'getRole',
    access: 'authenticated',
    summary: 'Get a role',
  },
  {
    method: 'PATCH',
    path: '/v1/roles/{roleId}',
    fn: 'roles',
    operationId: 'updateRole',
    access: 'admin',
    summary: 'Update a role',
  },
  {
    method: 'DELETE',
    path: '/v1/roles/{roleId}',
    fn: 'roles',
    operationId: 'deleteRole',
    access: 'admin',
    summary: 'Delete a role that has no assignments',
  },
  {
    method: 'GET',
    path: '/v1/roles/{roleId}/policy',
    fn: 'roles',
    operationId: 'getPolicy',
    access: 'authenticated',
    summary: "Get a role's policy in force at a scope (default /)",
  },
  {
    method: 'PUT',
    path: '/v1/roles/{roleId}/policy',
    fn: 'roles',
    operationId: 'putPolicy',
    access: 'admin',
    summary: "Replace a role's policy (at a scope: for that scope and below)",
  },
  {
    method: 'DELETE',
    path: '/v1/roles/{roleId}/policy',
    fn: 'roles',
    operationId: 'deletePolicy',
    access: 'admin',
    summary: "Remove a role's policy at a scope other than /",
  },
  {
    method: 'GET',
    path: '/v1/roles/{roleId}/policies',
    fn: 'roles',
    operationId: 'listPolicies',
    access: 'authenticated',
    summary: "A role's policies, one per scope",
  },
  {
    method: 'GET',
    path: '/v1/roles/{roleId}/targets',
    fn: 'roles',
    operationId: 'getTargets',
    access: 'authenticated',
    summary: "Where a role's grants are provisioned in AWS IAM Identity Center",
  },
  {
    method: 'PUT',
    path: '/v1/roles/{roleId}/targets',
    fn: 'roles',
    operationId: 'putTargets',
    access: 'admin',
    summary: "Replace a role's targets (each permission set and group must exist)",
  },
  {
    method: 'GET',
    path: '/v1/scopes',
    fn: 'roles',
    operationId: 'listScopes',
    access: 'authenticated',
    summary: 'The AWS organization as scopes: root, organizational units and accounts',
  },

  {
    method: 'PUT',
    path: '/v1/principals/{principalId}',
    fn: 'principals',
    operationId: 'putPrincipal',
    access: 'admin',
    summary: "Set a principal's type, name and e-mail",
  },
  {
    method: 'GET',
    path: '/v1/principals/{principalId}',
    fn: 'principals',
    operationId: 'getPrincipal',
    access: 'authenticated',
    summary: 'Get a principal (yourself, or anyone as admin or auditor)',
  },

  {
    method: 'POST',
    path: '/v1/requests',
    fn: 'requests',
    operationId: 'createRequest',
    access: 'authenticated',
    summary: 'Request a change to an assignment',
  },
  {
    method: 'GET',
    path: '/v1/requests',
    fn: 'requests',
    operationId: 'listRequests',
    access: 'authenticated',
    summary: 'List requests (your own; all for admins and auditors)',
  },
  {
    method: 'GET',
    path: '/v1/requests/{id}',
    fn: 'requests',
    operationId: 'getRequest',
    access: 'authenticated',
    summary: 'Get a request',
  },
  {
    method: 'POST',
    path: '/v1/requests/{id}/cancel',
    fn: 'requests',
    operationId: 'cancelRequest',
    access: 'authenticated',
    summary: 'Withdraw your request while it waits',
  },
  {
    method: 'POST',
    path: '/v1/requests/{id}/approve',
    fn: 'requests',
    operationId: 'approveRequest',
    access: 'authenticated',
    summary: 'Approve a request waiting in a stage you approve',
  },
  {
    method: 'POST',
    path: '/v1/requests/{id}/deny',
    fn: 'requests',
    operationId: 'denyRequest',
    access: 'authenticated',
    summary: 'Deny a request waiting in a stage you approve',
  },
  {
    method: 'GET',
    path: '/v1/approvals',
    fn: 'requests',
    operationId: 'listApprovals',
    access: 'authenticated',
    summary: 'Requests waiting for your decision',
  },

  {
    method: 'GET',
    path: '/v1/assignments',
    fn: 'assignments',
    operationId: 'listAssignments',
    access: 'reader',
    summary: 'List assignments',
  },
  {
    method: 'GET',
    path: '/v1/assignments/{id}',
    fn: 'assignments',
    operationId: 'getAssignment',
    access: 'authenticated',
    summary: 'Get an assignment',
  },
  {
    method: 'GET',
    path: '/v1/me/assignments',
    fn: 'assignments',
    operationId: 'listMyAssignments',
    access: 'authenticated',
    summary: 'Your eligible and active assignments',
  },

  {
    method: 'GET',
    path: '/v1/access',
    fn: 'access',
    operationId: 'checkAccess',
    access: 'authenticated',
    summary: 'Does a principal hold a role at a scope now?',
  },

  {
    method: 'GET',
    path: '/v1/audit-events',
    fn: 'audit',
    operationId: 'listAuditEvents',
    access: 'reader',
    summary: 'Audit events, newest first',
  },
  {
    method: 'POST',
    path: '/v1/groups',
    fn: 'groups',
    operationId: 'createGroup',
    access: 'admin',
    summary: 'Create a group and its member and owner roles',
  },
  {
    method: 'GET',
    path: '/v1/groups',
    fn: 'groups',
    operationId: 'listGroups',
    access: 'authenticated',
    summary: 'List groups',
  },
  {
    method: 'GET',
    path: '/v1/groups/{id}/members',
    fn: 'groups',
    operationId: 'listGroupMembers',
    access: 'authenticated',
    summary: "A group's active members and owners (readers, or the group's members and owners)",
  },
  {
    method: 'GET',
    path: '/v1/alerts',
    fn: 'alerts',
    operationId: 'listAlerts',
    access: 'reader',
    summary: 'Security alerts',
  },
  {
    method: 'POST',
    path: '/v1/alerts/{id}/dismiss',
    fn: 'alerts',
    operationId: 'dismissAlert',
    access: 'admin',
    summary: 'Dismiss an active alert',
  },
  {
    method: 'GET',
    path: '/v1/alert-settings',
    fn: 'alerts',
    operationId: 'getAlertSettings',
    access: 'admin',
    summary: 'Settings of every alert type',
  },
  {
    method: 'PUT',
    path: '/v1/alert-settings',
    fn: 'alerts',
    operationId: 'putAlertSettings',
    access: 'admin',
    summary: 'Replace the alert settings',
  },
  {
    method: 'POST',
    path: '/v1/audit-exports',
    fn: 'exports',
    operationId: 'createAuditExport',
    access: 'reader',
    summary: 'Export the audit events of a range to S3 (asynchronous)',
  },
  {
    method: 'GET',
    path: '/v1/audit-exports',
    fn: 'exports',
    operationId: 'listAuditExports',
    access: 'reader',
    summary: 'Audit exports, newest first',
  },
  {
    method: 'GET',
    path: '/v1/audit-exports/{id}',
    fn: 'exports',
    operationId: 'getAuditExport',
    access: 'reader',
    summary: 'An audit export, with a download URL valid 15 minutes once it is Completed',
  },
  {
    method: 'POST',
    path: '/v1/access-reviews',
    fn: 'reviews',
    operationId: 'createAccessReview',
    access: 'admin',
    summary: 'Create an access review (a campaign, once or recurring)',
  },
  {
    method: 'GET',
    path: '/v1/access-reviews',
    fn: 'reviews',
    operationId: 'listAccessReviews',
    access: 'reader',
    summary: 'Access reviews, newest first',
  },
  {
    method: 'GET',
    path: '/v1/access-reviews/{id}',
    fn: 'reviews',
    operationId: 'getAccessReview',
    access: 'reader',
    summary: 'Get an access review',
  },
  {
    method: 'GET',
    path: '/v1/access-reviews/{id}/instances',
    fn: 'reviews',
    operationId: 'listAccessReviewInstances',
    access: 'reader',
    summary: 'The instances of an access review, newest first',
  },
  {
    method: 'GET',
    path: '/v1/access-reviews/{id}/instances/{instanceId}/decisions',
    fn: 'reviews',
    operationId: 'listAccessReviewDecisions',
    access: 'authenticated',
    summary: "An instance's decision items (all for admins and auditors; a reviewer's own items otherwise)",
  },
  {
    method: 'POST',
    path: '/v1/access-reviews/{id}/instances/{instanceId}/decisions/{decisionId}',
    fn: 'reviews',
    operationId: 'decideAccessReview',
    access: 'authenticated',
    summary: 'Decide an item you review: Approve, Deny or DontKnow',
  },
  {
    method: 'POST',
    path: '/v1/access-reviews/{id}/instances/{instanceId}/stop',
    fn: 'reviews',
    operationId: 'stopAccessReviewInstance',
    access: 'admin',
    summary: 'End an instance now (Completed); the default decision fills the rest',
  },
  {
    method: 'POST',
    path: '/v1/access-reviews/{id}/instances/{instanceId}/apply',
    fn: 'reviews',
    operationId: 'applyAccessReviewInstance',
    access: 'admin',
    summary: 'Remove the denied assignments of a completed instance',
  },
  {
    method: 'GET',
    path: '/v1/me/reviews',
    fn: 'reviews',
    operationId: 'listMyReviews',
    access: 'authenticated',
    summary: 'Review items waiting for your decision',
  },

  {
    method: 'GET',
    path: '/v1/settings',
    fn: 'governance',
    operationId: 'getSettings',
    access: 'admin',
    summary: 'The governance settings (adminMfa, requireSecondAdmin)',
  },
  {
    method: 'PUT',
    path: '/v1/settings',
    fn: 'governance',
    operationId: 'putSettings',
    access: 'admin',
    summary: 'Replace the governance settings (a pending change while requireSecondAdmin is on)',
  },
  {
    method: 'GET',
    path: '/v1/changes',
    fn: 'governance',
    operationId: 'listChanges',
    access: 'admin',
    summary: 'Changes held for a second administrator, newest first',
  },
  {
    method: 'GET',
    path: '/v1/changes/{id}',
    fn: 'governance',
    operationId: 'getChange',
    access: 'admin',
    summary: 'A change held for a second administrator',
  },
  {
    method: 'POST',
    path: '/v1/changes/{id}/approve',
    fn: 'governance',
    operationId: 'approveChange',
    access: 'admin',
    summary: 'Approve a pending change (never your own): it is applied as its original call',
  },
  {
    method: 'POST',
    path: '/v1/changes/{id}/reject',
    fn: 'governance',
    operationId: 'rejectChange',
    access: 'admin',
    summary: 'Reject a pending change (never your own)',
  },
] as const satisfies readonly Route[];

export const routeKey = (r: Pick<Route, 'method' | 'path'>): string => `${r.method} ${r.path}`;

export const routesOf = (fn: FunctionName): readonly Route[] => ROUTES.filter((r) => r.fn === fn);
