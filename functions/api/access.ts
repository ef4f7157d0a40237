import { ACCESS } from '#shared/api/contract/access.ts';
import { apiHandler, ok } from '#shared/http/api.ts';
import { checkAccess } from '#shared/usecases/assignments.ts';

/** The access check has a function of its own: it is the hot path of every consuming system. */
export const handler = apiHandler('access', ACCESS, {
  checkAccess: async ({ ctx, query }) => ok(await checkAccess(ctx, query)),
});
