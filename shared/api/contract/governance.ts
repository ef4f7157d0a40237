import * as z from 'zod';
import { Change, ChangeDecisionInput, ChangeStatus, Settings } from '../../domain/governance.ts';
import type { OperationsOf } from '../operations.ts';
import { Id, type OperationContract, page, pageQuery } from './common.ts';
import { HELD } from './views.ts';

/** The contract of the governance function's operations (the whole contract: ../contract.ts). */
export const GOVERNANCE = {
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
} as const satisfies Record<OperationsOf<'governance'>, OperationContract>;
