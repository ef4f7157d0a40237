import { REQUESTS } from '#shared/api/contract/requests.ts';
import { apiHandler, ok } from '#shared/http/api.ts';
import { cancelRequest, decideRequest, listApprovals } from '#shared/usecases/approvals.ts';
import { createRequest, getRequest, listRequests } from '#shared/usecases/requests.ts';

export const handler = apiHandler('requests', REQUESTS, {
  createRequest: async ({ ctx, body }) => {
    const outcome = await createRequest(ctx, body);
    return outcome.kind === 'valid' ? ok({ valid: true }) : ok(outcome.request, outcome.status);
  },
  listRequests: async ({ ctx, query }) => {
    const { limit, nextToken, ...filters } = query;
    return ok(await listRequests(ctx, filters, { limit, nextToken }));
  },
  getRequest: async ({ ctx, params }) => ok(await getRequest(ctx, params.id)),
  cancelRequest: async ({ ctx, params }) => ok(await cancelRequest(ctx, params.id)),
  approveRequest: async ({ ctx, params, body }) =>
    ok(await decideRequest(ctx, params.id, 'Approve', body.justification)),
  denyRequest: async ({ ctx, params, body }) => ok(await decideRequest(ctx, params.id, 'Deny', body.justification)),
  listApprovals: async ({ ctx, query }) => ok(await listApprovals(ctx, query)),
});
