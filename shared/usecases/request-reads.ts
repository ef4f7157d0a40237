import { forbidden } from '../domain/errors.ts';
import type { PrincipalType } from '../domain/primitives.ts';
import type { Request, RequestStatus } from '../domain/request.ts';
import { type QueryPart, queries, stored } from '../store/records.ts';
import type { Page } from '../store/store.ts';
import { principalParts } from './assignments.ts';
import type { CallContext } from './context.ts';
import { presentRequest } from './request-records.ts';
import { readVisibleRequest } from './visibility.ts';

/**
 * The reads of requests (GET /v1/requests, GET /v1/requests/{id}), apart from the changes (requests.ts,
 * approvals.ts): the requests function serves them without loading the change graph (bench/README.md, cold init).
 */
export interface RequestFilters {
  principalId?: string | undefined;
  principalType?: PrincipalType | undefined;
  roleId?: string | undefined;
  status?: RequestStatus | undefined;
}

export async function listRequests(
  ctx: CallContext,
  filters: RequestFilters,
  page: { limit: number; nextToken?: string | undefined },
): Promise<Page<Request>> {
  const reader = await ctx.isReader();
  const others =
    (filters.principalId && filters.principalId !== ctx.caller.id) ||
    (filters.principalType && filters.principalType !== 'user');
  if (!reader && others) {
    throw forbidden("listing another principal's requests needs elevate-admin or elevate-auditor");
  }
  // A plain caller lists its own (a user's) requests; a reader one principal id's, of one type or of all.
  const principal = reader ? filters : { principalId: ctx.caller.id, principalType: 'user' as const };
  const principalId = principal.principalId;
  let parts: QueryPart[];
  if (principalId) parts = principalParts(principal, queries.requestsOfPrincipal);
  else if (filters.status) parts = [queries.requestsByStatus(filters.status)];
  else parts = [queries.allRequests()];
  return ctx.store.page(parts, {
    ...page,
    filter: (item) =>
      (!principalId || item.principalId === principalId) &&
      (!principal.principalType || item.principalType === principal.principalType) &&
      (!filters.roleId || item.roleId === filters.roleId) &&
      (!filters.status || item.status === filters.status),
    map: (item) => presentRequest(stored.request.fromItem(item)),
  });
}

/** GET /v1/requests/{id}: for those who may see it (see visibility.ts); the same 404 as a missing one otherwise. */
export async function getRequest(ctx: CallContext, id: string): Promise<Request> {
  return presentRequest(await readVisibleRequest(ctx, id));
}
