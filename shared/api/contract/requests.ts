import * as z from 'zod';
import { Change } from '../../domain/governance.ts';
import { PrincipalId, PrincipalType, Slug } from '../../domain/primitives.ts';
import { DecisionInput, Request, RequestInput, RequestStatus } from '../../domain/request.ts';
import type { OperationsOf } from '../operations.ts';
import { Id, type OperationContract, page, pageQuery } from './common.ts';

/** The contract of the requests function's operations (the whole contract: ../contract.ts). */
export const REQUESTS = {
  createRequest: {
    body: RequestInput,
    idempotent: true,
    responses: {
      200: { description: 'validateOnly: every check passed', schema: z.object({ valid: z.literal(true) }) },
      201: {
        description: 'Decided at once: Granted, Provisioning (being made in AWS), Scheduled or Revoked',
        schema: Request,
      },
      202: {
        description:
          'Waiting for approval (PendingApproval); or, with requireSecondAdmin, a change held for a second administrator',
        schema: z.union([Request, Change]),
      },
    },
  },
  listRequests: {
    query: z.strictObject({
      ...pageQuery,
      principalId: PrincipalId.optional(),
      principalType: PrincipalType.optional(),
      roleId: Slug.optional(),
      status: RequestStatus.optional(),
    }),
    responses: { 200: { description: 'Requests, newest first', schema: page(Request) } },
  },
  getRequest: {
    params: z.strictObject({ id: Id }),
    responses: { 200: { description: 'The request', schema: Request } },
  },
  cancelRequest: {
    params: z.strictObject({ id: Id }),
    responses: { 200: { description: 'The canceled request', schema: Request } },
  },
  approveRequest: {
    params: z.strictObject({ id: Id }),
    body: DecisionInput,
    responses: { 200: { description: 'The request after your approval', schema: Request } },
  },
  denyRequest: {
    params: z.strictObject({ id: Id }),
    body: DecisionInput,
    responses: { 200: { description: 'The denied request', schema: Request } },
  },
  listApprovals: {
    query: z.strictObject(pageQuery),
    responses: { 200: { description: 'Requests waiting for your decision', schema: page(Request) } },
  },
} as const satisfies Record<OperationsOf<'requests'>, OperationContract>;
