import { AUDIT } from '#shared/api/contract/audit.ts';
import { apiHandler, ok } from '#shared/http/api.ts';
import { listAuditEvents } from '#shared/usecases/audit.ts';

export const handler = apiHandler('audit', AUDIT, {
  listAuditEvents: async ({ ctx, query }) => {
    const { limit, nextToken, ...filters } = query;
    return ok(await listAuditEvents(ctx, filters, { limit, nextToken }));
  },
});
