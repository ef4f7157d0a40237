import * as z from 'zod';
import { AuditExport, AuditExportInput } from '../../domain/audit-export.ts';
import type { OperationsOf } from '../operations.ts';
import { Id, type OperationContract, page, pageQuery } from './common.ts';

/** The contract of the exports function's operations (the whole contract: ../contract.ts). */
export const EXPORTS = {
  createAuditExport: {
    body: AuditExportInput,
    idempotent: true,
    responses: { 202: { description: 'The export, Pending', schema: AuditExport } },
  },
  listAuditExports: {
    query: z.strictObject(pageQuery),
    responses: { 200: { description: 'Audit exports, newest first', schema: page(AuditExport) } },
  },
  getAuditExport: {
    params: z.strictObject({ id: Id }),
    responses: { 200: { description: 'The export', schema: AuditExport } },
  },
} as const satisfies Record<OperationsOf<'exports'>, OperationContract>;
