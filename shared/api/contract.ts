import * as z from 'zod';
import { Alert, AlertSettings, AlertStatus } from '../domain/alerts.ts';
import { AccessAnswer, Assignment, AssignmentStatus, AssignmentType } from '../domain/assignment.ts';
import { AuditEvent } from '../domain/audit.ts';
import { AuditExport, AuditExportInput } from '../domain/audit-export.ts';
import { Change, ChangeDecisionInput, ChangeStatus, Settings } from '../domain/governance.ts';
import { Group, GroupInput } from '../domain/group.ts';
import { MailStatus } from '../domain/mail-feedback.ts';
import { RolePolicy, ScopedPolicy } from '../domain/policy.ts';
import { IsoDateTime, PrincipalId, PrincipalType, Slug } from '../domain/primitives.ts';
import { PrincipalInput, PrincipalView } from '../domain/principal.ts';
import { ProvisioningView } from '../domain/provisioning.ts';
import { DecisionInput, Request, RequestInput, RequestStatus } from '../domain/request.ts';
import { Decision, Instance, Review, ReviewDecisionInput, ReviewInput } from '../domain/review.ts';
import { Role, RoleInput, RolePatch } from '../domain/role.ts';
import { Scope, ScopeItem } from '../domain/scope.ts';
import { Targets } from '../domain/targets.ts';
import type { OperationId } from './operations.ts';

/**
 * The HTTP contract in zod: for each operation of the route table, its path parameters, query, body and
 * responses. The wrapper validates with these schemas and the OpenAPI document is generated from them,
 * so what is published is what is enforced. The shapes are the domain's (shared/domain), declared once there.
 */
export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    code: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

const AssignmentView = Assignment.omit({ version: true }).extend({ provisioning: ProvisioningView });
const GroupMember = AssignmentView.extend({ relation: z.enum(['member', 'owner']) });

/**
 * The shapes the OpenAPI document publishes by name, in `components.schemas`, and refers to with `$ref` wherever
 * they are used: the name is the `id` of the schema's zod metadata (zod's global registry), which
 * shared/http/openapi.ts reads. A few domain schemas name themselves (`Change`, `Settings`, `Targets`, the access
 * review's `AccessReview*`).
 */
const PUBLISHED: Record<string, z.ZodType> = {
  AccessAnswer,
  AccessReviewDecisionInput: ReviewDecisionInput,
  AccessReviewInput: ReviewInput,
  Alert,
  AlertSettings,
  Assignment: AssignmentView,
  AuditEvent,
  AuditExport,
  AuditExportInput,
  ChangeDecisionInput,
  DecisionInput,
  Group,
  GroupInput,
  GroupMember,
  IsoDateTime,
  MailStatus,
  Principal: PrincipalView,
  PrincipalInput,
  Request,
  RequestInput,
  Role,
  RoleInput,
  RolePatch,
  RolePolicy,
  ScopedPolicy,
  ScopeItem,
};
for (const [id, schema] of Object.entries(PUBLISHED))
  z.globalRegistry.add(schema, { ...z.globalRegistry.get(schema), id });

const pages = new Map<z.ZodType, z.ZodType>();
/** A page of items and the cursor of the next (null on the last); `<Item>Page` in the document for a named item. */
const page = <T extends z.ZodType>(item: T) => {
  const found = pages.get(item) as ReturnType<typeof pageOf<T>> | undefined;
  if (found) return found;
  const made = pageOf(item);
  const id = z.globalRegistry.get(item)?.id;
  const named = id ? made.meta({ id: `${id}Page` }) : made;
  pages.set(item, named);
  return named;
};
const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextToken: z.string().nullable() });

const pageQuery = {
  limit: z.coerce.number().int().min(1).max(200).default(50),
  nextToken: z.string().min(1).max(4096).optional(),
};

const Id = z.string().regex(/^[a-z]{3}_[0-9A-Z]{26}$/, 'an Elevate id such as req_01J...');

/** A role policy's scope (absent: `/`, the base policy). */
const PolicyScope = Scope;

const booleanText = z.enum(['true', 'false']).transform((v) => v === 'true');

export interface OperationContract {
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** Honours an Idempotency-Key header (POSTs that create). */
  idempotent?: boolean;
  /** The answers on success; the lowest status is the operation's own (`successStatus`), any other is the exception. */
  responses: Partial<Record<200 | 201 | 202 | 204, { description: string; schema?: z.ZodType; name?: string }>>;
}

/**
 * The status an operation answers when it succeeds: the lowest its contract lists (201 for a create, 202 for an
 * export, 204 for a delete). Higher ones are the exceptions the operation names itself: a change held for a second
 * administrator (202), a request waiting for approval (202).
 */
export const successStatus = (c: OperationContract): number => Math.min(...Object.keys(c.responses).map(Number));

const AlertId = z.string().regex(/^[A-Za-z]+-[0-9a-f]{12}$/, 'an alert id such as roleWithoutMfa-0123456789ab');

/** A call held for a second administrator (governance.requireSecondAdmin). */
const HELD = { description: 'Held for a second administrator: the pending change', schema: Change, name: 'Held' };

export const CONTRACT = {
  getOpenApi: { responses: { 200: { description: 'The OpenAPI 3.1 document' } } },
  slackInteractions: {
    responses: {
      200: { description: 'Taken (refusals are told in Slack); 401 unsigned or stale; docs/slack.md' },
    },
  },

  createRole: {
    body: RoleInput,
    idempotent: true,
    responses: { 201: { description: 'The role', schema: Role } },
  },
  listRoles: { query: z.strictObject(pageQuery), responses: { 200: { description: 'Roles', schema: page(Role) } } },
  getRole: { params: z.strictObject({ roleId: Slug }), responses: { 200: { description: 'The role', schema: Role } } },
  updateRole: {
    params: z.strictObject({ roleId: Slug }),
    body: RolePatch,
    responses: { 200: { description: 'The role', schema: Role }, 202: HELD },
  },
  deleteRole: { params: z.strictObject({ roleId: Slug }), responses: { 204: { description: 'Deleted' } } },
  getPolicy: {
    params: z.strictObject({ roleId: Slug }),
    query: z.strictObject({ scope: PolicyScope.optional() }),
    responses: {
      200: { description: 'The policy in force at the scope (the most specific one covering it)', schema: RolePolicy },
    },
  },
  putPolicy: {
    params: z.strictObject({ roleId: Slug }),
    query: z.strictObject({ scope: PolicyScope.optional() }),
    body: RolePolicy,
    responses: { 200: { description: 'The policy', schema: RolePolicy }, 202: HELD },
  },
  deletePolicy: {
    params: z.strictObject({ roleId: Slug }),
    query: z.strictObject({ scope: PolicyScope.optional() }),
    responses: { 204: { description: 'Removed: the scope falls back to the next policy covering it' }, 202: HELD },
  },
  listPolicies: {
    params: z.strictObject({ roleId: Slug }),
    query: z.strictObject(pageQuery),
    responses: { 200: { description: "The role's policies: / first, then by scope", schema: page(ScopedPolicy) } },
  },

  getTargets: {
    params: z.strictObject({ roleId: Slug }),
    responses: { 200: { description: "The role's targets", schema: Targets } },
  },
  putTargets: {
    params: z.strictObject({ roleId: Slug }),
    body: Targets,
    responses: { 200: { description: "The role's targets", schema: Targets }, 202: HELD },
  },
  listScopes: {
    query: z.strictObject(pageQuery),
    responses: {
      200: {
        description: 'The organization as synced by the organization-sync job, in scope order',
        schema: page(ScopeItem),
      },
    },
  },

  putPrincipal: {
    params: z.strictObject({ principalId: PrincipalId }),
    body: PrincipalInput,
    responses: { 200: { description: 'The principal', schema: PrincipalView } },
  },
  getPrincipal: {
    params: z.strictObject({ principalId: PrincipalId }),
    query: z.strictObject({ principalType: PrincipalType.default('user') }),
    responses: { 200: { description: 'The principal', schema: PrincipalView } },
  },

  createRequest: {
    body: RequestInput,
    idempotent: true,
    responses: {
      200: { description: 'validateOnly: every check passed', schema: z.object({ valid: z.literal(true) }) },
      201: {
        description: 'Decided at once: Granted, Provisioning (being made in AWS), Scheduled or Revoked',
        schema: Request,
      },
      202: {
        description:
          'Waiting for approval (PendingApproval); or, with requireSecondAdmin, a change held for a second administrator',
        schema: z.union([Request, Change]),
      },
    },
  },
  listRequests: {
    query: z.strictObject({
      ...pageQuery,
      principalId: PrincipalId.optional(),
      principalType: PrincipalType.optional(),
      roleId: Slug.optional(),
      status: RequestStatus.optional(),
    }),
    responses: { 200: { description: 'Requests, newest first', schema: page(Request) } },
  },
  getRequest: {
    params: z.strictObject({ id: Id }),
    responses: { 200: { description: 'The request', schema: Request } },
  },
  cancelRequest: {
    params: z.strictObject({ id: Id }),
    responses: { 200: { description: 'The canceled request', schema: Request } },
  },
  approveRequest: {
    params: z.strictObject({ id: Id }),
    body: DecisionInput,
    responses: { 200: { description: 'The request after your approval', schema: Request } },
  },
  denyRequest: {
    params: z.strictObject({ id: Id }),
    body: DecisionInput,
    responses: { 200: { description: 'The denied request', schema: Request } },
  },
  listApprovals: {
    query: z.strictObject(pageQuery),
    responses: { 200: { description: 'Requests waiting for your decision', schema: page(Request) } },
  },

  listAssignments: {
    query: z.strictObject({
      ...pageQuery,
      principalId: PrincipalId.optional(),
      principalType: PrincipalType.optional(),
      roleId: Slug.optional(),
      assignmentType: AssignmentType.optional(),
      status: AssignmentStatus.optional(),
      privileged: booleanText.optional(),
    }),
    responses: { 200: { description: 'Assignments', schema: page(AssignmentView) } },
  },
  getAssignment: {
    params: z.strictObject({ id: Id }),
    responses: { 200: { description: 'The assignment', schema: AssignmentView } },
  },
  listMyAssignments: {
    query: z.strictObject(pageQuery),
    responses: { 200: { description: "The caller's eligible and active assignments", schema: page(AssignmentView) } },
  },

  checkAccess: {
    query: z.strictObject({
      principalId: PrincipalId.optional(),
      principalType: PrincipalType.default('user'),
      roleId: Slug,
      scope: Scope.default('/'),
    }),
    responses: { 200: { description: 'The answer, and the assignment that gives it', schema: AccessAnswer } },
  },

  createGroup: { body: GroupInput, idempotent: true, responses: { 201: { description: 'The group', schema: Group } } },
  listGroups: { query: z.strictObject(pageQuery), responses: { 200: { description: 'Groups', schema: page(Group) } } },
  listGroupMembers: {
    params: z.strictObject({ id: Slug }),
    query: z.strictObject(pageQuery),
    responses: {
      200: {
        description: 'Active members and owners, each an assignment with its relation',
        schema: page(GroupMember),
      },
    },
  },
  listAlerts: {
    query: z.strictObject({ ...pageQuery, status: AlertStatus.optional() }),
    responses: { 200: { description: 'Alerts', schema: page(Alert) } },
  },
  dismissAlert: {
    params: z.strictObject({ id: AlertId }),
    responses: { 200: { description: 'The dismissed alert', schema: Alert } },
  },
  getAlertSettings: {
    responses: { 200: { description: 'The settings', schema: AlertSettings } },
  },
  putAlertSettings: { body: AlertSettings, responses: { 200: { description: 'The settings', schema: AlertSettings } } },

  listAuditEvents: {
    query: z.strictObject({
      ...pageQuery,
      from: IsoDateTime.optional(),
      to: IsoDateTime.optional(),
      actorId: PrincipalId.optional(),
      principalId: PrincipalId.optional(),
      roleId: Slug.optional(),
      action: z
        .string()
        .regex(/^[a-z]+(\.[a-zA-Z]+)+$/, 'a dotted word such as role.created')
        .max(64)
        .optional(),
    }),
    responses: {
      200: { description: 'Audit events, newest first', schema: page(AuditEvent) },
    },
  },

  createAuditExport: {
    body: AuditExportInput,
    idempotent: true,
    responses: { 202: { description: 'The export, Pending', schema: AuditExport } },
  },
  listAuditExports: {
    query: z.strictObject(pageQuery),
    responses: { 200: { description: 'Audit exports, newest first', schema: page(AuditExport) } },
  },
  getAuditExport: {
    params: z.strictObject({ id: Id }),
    responses: { 200: { description: 'The export', schema: AuditExport } },
  },

  createAccessReview: {
    body: ReviewInput,
    idempotent: true,
    responses: { 201: { description: 'The access review', schema: Review } },
  },
  listAccessReviews: {
    query: z.strictObject(pageQuery),
    responses: { 200: { description: 'Access reviews, newest first', schema: page(Review) } },
  },
  getAccessReview: {
    params: z.strictObject({ id: Id }),
    responses: { 200: { description: 'The access review', schema: Review } },
  },
  listAccessReviewInstances: {
    params: z.strictObject({ id: Id }),
    query: z.strictObject(pageQuery),
    responses: { 200: { description: 'Instances, newest first', schema: page(Instance) } },
  },
  listAccessReviewDecisions: {
    params: z.strictObject({ id: Id, instanceId: Id }),
    query: z.strictObject(pageQuery),
    responses: { 200: { description: 'Decision items', schema: page(Decision) } },
  },
  decideAccessReview: {
    params: z.strictObject({ id: Id, instanceId: Id, decisionId: Id }),
    body: ReviewDecisionInput,
    responses: { 200: { description: 'The decided item', schema: Decision } },
  },
  stopAccessReviewInstance: {
    params: z.strictObject({ id: Id, instanceId: Id }),
    responses: { 200: { description: 'The instance, Completed (Applied when autoApply finished)', schema: Instance } },
  },
  applyAccessReviewInstance: {
    params: z.strictObject({ id: Id, instanceId: Id }),
    responses: { 200: { description: 'The instance (Applied once every denial was applied)', schema: Instance } },
  },
  listMyReviews: {
    query: z.strictObject(pageQuery),
    responses: { 200: { description: 'Items waiting for your decision', schema: page(Decision) } },
  },

  getSettings: { responses: { 200: { description: 'The settings', schema: Settings } } },
  putSettings: {
    body: Settings,
    responses: { 200: { description: 'The settings', schema: Settings }, 202: HELD },
  },
  listChanges: {
    query: z.strictObject({ ...pageQuery, status: ChangeStatus.optional() }),
    responses: { 200: { description: 'Changes, newest first', schema: page(Change) } },
  },
  getChange: { params: z.strictObject({ id: Id }), responses: { 200: { description: 'The change', schema: Change } } },
  approveChange: {
    params: z.strictObject({ id: Id }),
    body: ChangeDecisionInput,
    responses: {
      200: { description: 'The change, Applied (result: what the original call answered)', schema: Change },
    },
  },
  rejectChange: {
    params: z.strictObject({ id: Id }),
    body: ChangeDecisionInput,
    responses: { 200: { description: 'The change, Rejected', schema: Change } },
  },
} as const satisfies Record<OperationId, OperationContract>;

export type Contract = typeof CONTRACT;
