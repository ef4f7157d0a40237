import { ASSIGNMENTS } from '#shared/api/contract/assignments.ts';
import { apiHandler, ok } from '#shared/http/api.ts';
import { getAssignment, listAssignments, listMyAssignments } from '#shared/usecases/assignments.ts';

export const handler = apiHandler('assignments', ASSIGNMENTS, {
  listAssignments: async ({ ctx, query }) => {
    const { limit, nextToken, ...filters } = query;
    return ok(await listAssignments(ctx, filters, { limit, nextToken }));
  },
  getAssignment: async ({ ctx, params }) => ok(await getAssignment(ctx, params.id)),
  listMyAssignments: async ({ ctx }) => ok(await listMyAssignments(ctx)),
});
