import type { OperationsOf } from '../operations.ts';
import type { OperationContract } from './common.ts';

/** The contract of the meta function's operations (the whole contract: ../contract.ts). */
export const META = {
  getOpenApi: { responses: { 200: { description: 'The OpenAPI 3.1 document' } } },
} as const satisfies Record<OperationsOf<'meta'>, OperationContract>;
