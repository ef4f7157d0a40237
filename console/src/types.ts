/** The API's shapes, from the domain schemas (type-only: nothing of zod reaches the bundle). */
import type { Assignment } from '../../shared/domain/assignment.ts';
import type { ProvisioningView } from '../../shared/domain/provisioning.ts';

export type { RolePolicy } from '../../shared/domain/policy.ts';
export type { Request, RequestInput } from '../../shared/domain/request.ts';
export type { Role } from '../../shared/domain/role.ts';
export type { Target } from '../../shared/domain/targets.ts';

/** An assignment as the API shows it (shared/api/contract.ts: AssignmentView). */
export type AssignmentView = Omit<Assignment, 'version' | 'provisioning'> & { provisioning: ProvisioningView };
export type { Alert, AlertSettings, AlertType } from '../../shared/domain/alerts.ts';
export type { AuditEvent } from '../../shared/domain/audit.ts';
export type { AuditExport, AuditExportInput } from '../../shared/domain/audit-export.ts';
export type { Group, GroupInput } from '../../shared/domain/group.ts';
export type { Decision as ReviewDecision } from '../../shared/domain/review.ts';
export type { Expiration } from '../../shared/domain/schedule.ts';

/** A group's member or owner as the API shows it (shared/api/contract.ts: GroupMember). */
export type GroupMember = AssignmentView & { relation: 'member' | 'owner' };
