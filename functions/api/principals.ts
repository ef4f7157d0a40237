import { PRINCIPALS } from '#shared/api/contract/principals.ts';
import { apiHandler, ok } from '#shared/http/api.ts';
import { getPrincipal, putPrincipal } from '#shared/usecases/principals.ts';

export const handler = apiHandler('principals', PRINCIPALS, {
  putPrincipal: async ({ ctx, params, body }) => ok(await putPrincipal(ctx, params.principalId, body)),
  getPrincipal: async ({ ctx, params, query }) =>
    ok(await getPrincipal(ctx, { principalType: query.principalType, principalId: params.principalId })),
});
