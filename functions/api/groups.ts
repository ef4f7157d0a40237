import { GROUPS } from '#shared/api/contract/groups.ts';
import { apiHandler, ok } from '#shared/http/api.ts';
import { createGroup, listGroups, listMembers } from '#shared/usecases/groups.ts';

export const handler = apiHandler('groups', GROUPS, {
  createGroup: async ({ ctx, body }) => ok(await createGroup(ctx, body)),
  listGroups: async ({ ctx, query }) => ok(await listGroups(ctx, query)),
  listGroupMembers: async ({ ctx, params, query }) => ok(await listMembers(ctx, params.id, query)),
});
