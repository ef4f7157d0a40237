import * as z from 'zod';
import { Alert, AlertSettings } from '../domain/alerts.ts';
import { AccessAnswer } from '../domain/assignment.ts';
import { AuditEvent } from '../domain/audit.ts';
import { AuditExport, AuditExportInput } from '../domain/audit-export.ts';
import { ChangeDecisionInput } from '../domain/governance.ts';
import { Group, GroupInput } from '../domain/group.ts';
import { MailStatus } from '../domain/mail-feedback.ts';
import { RolePolicy, ScopedPolicy } from '../domain/policy.ts';
import { IsoDateTime } from '../domain/primitives.ts';
import { PrincipalInput, PrincipalView } from '../domain/principal.ts';
import { DecisionInput, Request, RequestInput } from '../domain/request.ts';
import { ReviewDecisionInput, ReviewInput } from '../domain/review.ts';
import { Role, RoleInput, RolePatch } from '../domain/role.ts';
import { ScopeItem } from '../domain/scope.ts';
import { ACCESS } from './contract/access.ts';
import { ALERTS } from './contract/alerts.ts';
import { ASSIGNMENTS } from './contract/assignments.ts';
import { AUDIT } from './contract/audit.ts';
import { namePages, type OperationContract } from './contract/common.ts';
import { EXPORTS } from './contract/exports.ts';
import { GOVERNANCE } from './contract/governance.ts';
import { GROUPS, GroupMember } from './contract/groups.ts';
import { META } from './contract/meta.ts';
import { PRINCIPALS } from './contract/principals.ts';
import { REQUESTS } from './contract/requests.ts';
import { REVIEWS } from './contract/reviews.ts';
import { ROLES } from './contract/roles.ts';
import { SLACK } from './contract/slack.ts';
import { AssignmentView } from './contract/views.ts';
import type { OperationId } from './operations.ts';

/**
 * The HTTP contract in zod: for each operation of the route table, its path parameters, query, body and
 * responses. The wrapper validates with these schemas and the OpenAPI document is generated from them,
 * so what is published is what is enforced. The shapes are the domain's (shared/domain), declared once there.
 *
 * Each API function's operations are declared in a module of their own (./contract/<fn>.ts), which the function
 * hands to its wrapper: a function builds only its own schemas when it starts cold, not the whole contract's. This
 * module is the whole: the OpenAPI document and the tests read it.
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

namePages();

export { type OperationContract, successStatus } from './contract/common.ts';

export const CONTRACT = {
  ...META,
  ...SLACK,
  ...ROLES,
  ...PRINCIPALS,
  ...REQUESTS,
  ...ASSIGNMENTS,
  ...ACCESS,
  ...GROUPS,
  ...ALERTS,
  ...AUDIT,
  ...EXPORTS,
  ...REVIEWS,
  ...GOVERNANCE,
} as const satisfies Record<OperationId, OperationContract>;

export type Contract = typeof CONTRACT;
