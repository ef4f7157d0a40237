import { Assignment } from '../../domain/assignment.ts';
import { Change } from '../../domain/governance.ts';
import { ProvisioningView } from '../../domain/provisioning.ts';

/**
 * Shapes several functions' contracts answer with, apart from common.ts: building them (and the assignment,
 * provisioning and governance schemas behind them) is left to the functions that answer with them.
 */
export const AssignmentView = Assignment.omit({ version: true }).extend({ provisioning: ProvisioningView });

/** A call held for a second administrator (governance.requireSecondAdmin). */
export const HELD = {
  description: 'Held for a second administrator: the pending change',
  schema: Change,
  name: 'Held',
};
