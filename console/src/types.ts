/** The API's shapes, from the domain schemas (type-only: nothing of zod reaches the bundle). */
import type { Assignment } from '../../shared/domain/assignment.ts';
import type { ProvisioningView } from '../../shared/domain/provisioning.ts';

export type { RolePolicy } from '../../shared/domain/policy.ts';
export type { Request, RequestInput } from '../../shared/domain/request.ts';
export type { Role } from '../../shared/domain/role.ts';
export type { Target } from '../../shared/domain/targets.ts';

/** An assignment as the API shows it (shared/api/contract.ts: AssignmentView). */
export type AssignmentView = Omit<Assignment, 'version' | 'provisioning'> & { provisioning: ProvisioningView };
export type { Decision as ReviewDecision } from '../../shared/domain/review.ts';
