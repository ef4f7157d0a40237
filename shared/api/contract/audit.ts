import * as z from 'zod';
import { AuditEvent } from '../../domain/audit.ts';
import { IsoDateTime, PrincipalId, Slug } from '../../domain/primitives.ts';
import type { OperationsOf } from '../operations.ts';
import { type OperationContract, page, pageQuery } from './common.ts';

/** The contract of the audit function's operations (the whole contract: ../contract.ts). */
export const AUDIT = {
  listAuditEvents: {
    query: z.strictObject({
      ...pageQuery,
      from: IsoDateTime.optional(),
      to: IsoDateTime.optional(),
      actorId: PrincipalId.optional(),
      principalId: PrincipalId.optional(),
      roleId: Slug.optional(),
      action: z
        .string()
        .regex(/^[a-z]+(\.[a-zA-Z]+)+$/, 'a dotted word such as role.created')
        .max(64)
        .optional(),
    }),
    responses: {
      200: { description: 'Audit events, newest first', schema: page(AuditEvent) },
    },
  },
} as const satisfies Record<OperationsOf<'audit'>, OperationContract>;
