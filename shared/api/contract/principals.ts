import * as z from 'zod';
import { PrincipalId, PrincipalType } from '../../domain/primitives.ts';
import { PrincipalInput, PrincipalView } from '../../domain/principal.ts';
import type { OperationsOf } from '../operations.ts';
import type { OperationContract } from './common.ts';

/** The contract of the principals function's operations (the whole contract: ../contract.ts). */
export const PRINCIPALS = {
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
} as const satisfies Record<OperationsOf<'principals'>, OperationContract>;
