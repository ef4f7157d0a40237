import * as z from 'zod';
import { AccessAnswer } from '../../domain/assignment.ts';
import { PrincipalId, PrincipalType, Slug } from '../../domain/primitives.ts';
import { Scope } from '../../domain/scope.ts';
import type { OperationsOf } from '../operations.ts';
import type { OperationContract } from './common.ts';

/** The contract of the access function's operations (the whole contract: ../contract.ts). */
export const ACCESS = {
  checkAccess: {
    query: z.strictObject({
      principalId: PrincipalId.optional(),
      principalType: PrincipalType.default('user'),
      roleId: Slug,
      scope: Scope.default('/'),
    }),
    responses: { 200: { description: 'The answer, and the assignment that gives it', schema: AccessAnswer } },
  },
} as const satisfies Record<OperationsOf<'access'>, OperationContract>;
