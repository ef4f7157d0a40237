import * as z from 'zod';
import { ALERT_TYPES, AlertSettings } from '../domain/alerts.ts';
import { Assignment, AssignmentStatus, AssignmentType } from '../domain/assignment.ts';
import { AuditEvent } from '../domain/audit.ts';
import { Change, ChangeDecisionInput, ChangeStatus, Settings } from '../domain/governance.ts';
import { GroupInput } from '../domain/group.ts';
import { RolePolicy } from '../domain/policy.ts';
import { Email, IsoDateTime, PrincipalId, PrincipalType, Slug } from '../domain/primitives.ts';
import { ProvisioningStatus, ProvisioningView } from '../domain/provisioning.ts';
import { DecisionInput, Request, RequestInput, RequestStatus } from '../domain/request.ts';
import { Decision, Instance, Review, ReviewDecisionInput, ReviewInput } from '../domain/review.ts';
import { Role, RoleInput, RolePatch } from '../domain/role.ts';
import { Scope } from '../domain/scope.ts';
import { Targets } from '../domain/targets.ts';
import type { OperationId } from './operations.ts';

/**
 * The HTTP contract in zod: for each operation of the route table, its path parameters, query, body and
 * responses. The wrapper validates with these schemas and the OpenAPI document is generated from them,
 * so what is published is what is enforced.
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

const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextToken: z.string().nullable() });

const pageQuery = {
  limit: z.coerce.number().int().min(1).max(200).default(50),
  nextToken: z.string().min(1).max(4096).optional(),
};

const Id = z.string().regex(/^[a-z]{3}_[0-9A-Z]{26}$/, 'an Elevate id such as req_01J...');

const Principal = z
  .object({
    id: z.string(),
    type: PrincipalType,
    displayName: z.string().nullable(),
    email: z.string().nullable(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Principal' });

const AssignmentView = Assignment.omit({ version: true })
  .extend({ provisioning: ProvisioningView })
  .meta({ id: 'Assignment' });

export const PrincipalInput = z.strictObject({
  type: PrincipalType,
  displayName: z.string().trim().min(1).max(200),
  email: Email.optional(),
});

export const AccessAnswer = z
  .object({
    allowed: z.boolean(),
    assignmentId: z.string().nullable(),
    expiresAt: z.string().nullable(),
    viaGroup: z
      .string()
      .nullable()
      .meta({ description: 'the Elevate group through which the role is held; null when held directly' }),
    provisioning: ProvisioningStatus.nullable().meta({
      description:
        'where the assignment that answers stands in AWS IAM Identity Center (provisioning.md); null when not allowed',
    }),
  })
  .meta({ id: 'AccessAnswer' });

export const AuditExportInput = z.strictObject({
  from: IsoDateTime,
  to: IsoDateTime,
  format: z.enum(['jsonl', 'csv']).default('jsonl'),
});

const AuditExport = z.object({
  id: z.string(),
  from: z.string(),
  to: z.string(),
  format: z.enum(['jsonl', 'csv']),
  status: z
    .enum(['Pending', 'Running', 'Completed', 'Failed'])
    .describe('Running: a run of the export job holds it (its lease outlasts the job function timeout)'),
  createdAt: z.string(),
  createdBy: z.string(),
  recordCount: z.int().nullable(),
  objectKey: z.string().nullable(),
  sha256: z.string().nullable(),
  manifestKey: z.string().nullable(),
  previousManifestSha256: z.string().nullable(),
  error: z.string().nullable(),
  continuedBy: z
    .string()
    .nullable()
    .describe(
      'When one run could not export the whole range in its time: the export that continues it from `to` ' +
        '(this export then covers [from, to) only)',
    ),
  downloadUrl: z.string().nullable().describe('A presigned S3 GET of the object, valid 15 minutes'),
});

const booleanText = z.enum(['true', 'false']).transform((v) => v === 'true');

export interface OperationContract {
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** Honours an Idempotency-Key header (POSTs that create). */
  idempotent?: boolean;
  responses: Partial<Record<200 | 201 | 202 | 204, { description: string; schema?: z.ZodType }>>;
}

const Group = z
  .object({ id: z.string(), displayName: z.string(), description: z.string().nullable(), createdAt: z.string() })
  .meta({ id: 'Group' });

const Alert = z
  .object({
    id: z.string(),
    type: z.enum(ALERT_TYPES),
    severity: z.enum(['low', 'medium', 'high']),
    status: z.enum(['active', 'dismissed', 'resolved']),
    detectedAt: z.string(),
    updatedAt: z.string(),
    affected: z
      .array(z.record(z.string(), z.unknown()))
      .meta({ description: 'A sample: the first 100 affected items (affectedCount says how many there are)' }),
    affectedCount: z.number().int().optional(),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'Alert' });

const ScopeItem = z
  .object({
    scope: z.string(),
    type: z.enum(['root', 'organizationalUnit', 'account']),
    id: z.string(),
    name: z.string(),
    parentScope: z.string().nullable(),
  })
  .meta({ id: 'ScopeItem' });

const AlertId = z.string().regex(/^[A-Za-z]+-[0-9a-f]{12}$/, 'an alert id such as roleWithoutMfa-0123456789ab');

/** A call held for a second administrator (governance.requireSecondAdmin). */
const HELD = { description: 'Held for a second administrator: the pending change', schema: Change };

export const CONTRACT = {
  getOpenApi: { responses: { 200: { description: 'The OpenAPI 3.1 document' } } },

  createRole: {
    body: RoleInput,
    idempotent: true,
    responses: { 201: { description: 'The role', schema: Role.meta({ id: 'Role' }) } },
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
    responses: { 200: { description: 'The policy', schema: RolePolicy.meta({ id: 'RolePolicy' }) } },
  },
  putPolicy: {
    params: z.strictObject({ roleId: Slug }),
    body: RolePolicy,
    responses: { 200: { description: 'The policy', schema: RolePolicy }, 202: HELD },
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
    responses: { 200: { description: 'The principal', schema: Principal } },
  },
  getPrincipal: {
    params: z.strictObject({ principalId: PrincipalId }),
    query: z.strictObject({ principalType: PrincipalType.default('user') }),
    responses: { 200: { description: 'The principal', schema: Principal } },
  },

  createRequest: {
    body: RequestInput,
    idempotent: true,
    responses: {
      200: { description: 'validateOnly: every check passed', schema: z.object({ valid: z.literal(true) }) },
      201: {
        description: 'Decided at once: Granted, Provisioning (being made in AWS), Scheduled or Revoked',
        schema: Request.meta({ id: 'Request' }),
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
        schema: page(AssignmentView.extend({ relation: z.enum(['member', 'owner']) })),
      },
    },
  },
  listAlerts: {
    query: z.strictObject({ ...pageQuery, status: z.enum(['active', 'dismissed', 'resolved']).optional() }),
    responses: { 200: { description: 'Alerts', schema: page(Alert) } },
  },
  dismissAlert: {
    params: z.strictObject({ id: AlertId }),
    responses: { 200: { description: 'The dismissed alert', schema: Alert } },
  },
  getAlertSettings: {
    responses: { 200: { description: 'The settings', schema: AlertSettings.meta({ id: 'AlertSettings' }) } },
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
      200: { description: 'Audit events, newest first', schema: page(AuditEvent.meta({ id: 'AuditEvent' })) },
    },
  },

  createAuditExport: {
    body: AuditExportInput,
    idempotent: true,
    responses: { 202: { description: 'The export, Pending', schema: AuditExport.meta({ id: 'AuditExport' }) } },
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
