import { REQUESTS } from '#shared/api/contract/requests.ts';
import { apiHandler, ok } from '#shared/http/api.ts';
import { getRequest, listRequests } from '#shared/usecases/request-reads.ts';

// The changes (a new request, a decision, a cancel) load their use cases on first use: the reads, most of the calls,
// start without the change graph (approvals, provisioning, effects; bench/README.md, cold init).
const changes = () => import('#shared/usecases/requests.ts');
const approvals = () => import('#shared/usecases/approvals.ts');

export const handler = apiHandler('requests', REQUESTS, {
  createRequest: async ({ ctx, body }) => {
    const outcome = await (await changes()).createRequest(ctx, body);
    return outcome.kind === 'valid' ? ok({ valid: true }) : ok(outcome.request, outcome.status);
  },
  listRequests: async ({ ctx, query }) => {
    const { limit, nextToken, ...filters } = query;
    return ok(await listRequests(ctx, filters, { limit, nextToken }));
  },
  getRequest: async ({ ctx, params }) => ok(await getRequest(ctx, params.id)),
  cancelRequest: async ({ ctx, params }) => ok(await (await approvals()).cancelRequest(ctx, params.id)),
  approveRequest: async ({ ctx, params, body }) =>
    ok(await (await approvals()).decideRequest(ctx, params.id, 'Approve', body.justification)),
  denyRequest: async ({ ctx, params, body }) =>
    ok(await (await approvals()).decideRequest(ctx, params.id, 'Deny', body.justification)),
  listApprovals: async ({ ctx, query }) => ok(await (await approvals()).listApprovals(ctx, query)),
});
