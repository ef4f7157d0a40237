import { GOVERNANCE } from '#shared/api/contract/governance.ts';
import { apiHandler, ok } from '#shared/http/api.ts';
import { decideChange, getChange, getSettings, listChanges, putSettings } from '#shared/usecases/governance.ts';

export const handler = apiHandler('governance', GOVERNANCE, {
  getSettings: async ({ ctx }) => ok(await getSettings(ctx)),
  putSettings: async ({ ctx, body }) => ok(await putSettings(ctx, body)),
  listChanges: async ({ ctx, query }) => {
    const { status, ...page } = query;
    return ok(await listChanges(ctx, status, page));
  },
  getChange: async ({ ctx, params }) => ok(await getChange(ctx, params.id)),
  approveChange: async ({ ctx, params, body }) => ok(await decideChange(ctx, params.id, 'approve', body.justification)),
  rejectChange: async ({ ctx, params, body }) => ok(await decideChange(ctx, params.id, 'reject', body.justification)),
});
