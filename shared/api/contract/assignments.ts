import * as z from 'zod';
import { AssignmentStatus, AssignmentType } from '../../domain/assignment.ts';
import { PrincipalId, PrincipalType, Slug } from '../../domain/primitives.ts';
import type { OperationsOf } from '../operations.ts';
import { booleanText, Id, type OperationContract, page, pageQuery } from './common.ts';
import { AssignmentView } from './views.ts';

/** The contract of the assignments function's operations (the whole contract: ../contract.ts). */
export const ASSIGNMENTS = {
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
} as const satisfies Record<OperationsOf<'assignments'>, OperationContract>;
