/**
 * The shapes of the API's answers the CLI reads: the domain's zod schemas, the ones docs/openapi.json publishes,
 * imported as types only (erased when cli/build.mjs bundles the CLI). Only the policy-as-code commands bring zod and
 * the domain's schemas into the bundle (cli/policy/), evaluated when one of them runs.
 */
import type { Assignment as StoredAssignment } from '#shared/domain/assignment.ts';
import type { AuditEvent } from '#shared/domain/audit.ts';
import type { AuditExport } from '#shared/domain/audit-export.ts';
import type { Request, RequestStatus } from '#shared/domain/request.ts';
import type { Decision } from '#shared/domain/review.ts';
import type { ScopeItem } from '#shared/domain/scope.ts';

export type { AuditEvent, AuditExport, ScopeItem };
/** An assignment as the API shows it (without its version counter). */
export type Assignment = Omit<StoredAssignment, 'version'>;
export type AccessRequest = Request;
/** A decision item of an access review (GET /v1/me/reviews). */
export type ReviewDecision = Decision;

/** The statuses after which a request changes no more (for `--wait`): decided, one way or the other. */
export const FINAL_STATUSES: ReadonlySet<string> = new Set<RequestStatus>([
  'Granted',
  'Scheduled',
  'Denied',
  'Canceled',
  'TimedOut',
  'Revoked',
  'Failed',
]);
export const NOT_GRANTED: ReadonlySet<string> = new Set<RequestStatus>(['Denied', 'Canceled', 'TimedOut', 'Failed']);
