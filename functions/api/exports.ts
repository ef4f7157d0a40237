import { EXPORTS } from '#shared/api/contract/exports.ts';
import { apiHandler, ok } from '#shared/http/api.ts';
import { createAuditExport, getAuditExport, listAuditExports } from '#shared/usecases/exports.ts';

export const handler = apiHandler('exports', EXPORTS, {
  createAuditExport: async ({ ctx, body }) => ok(await createAuditExport(ctx, body)),
  listAuditExports: async ({ ctx, query }) => ok(await listAuditExports(ctx, query)),
  getAuditExport: async ({ ctx, params }) => ok(await getAuditExport(ctx, params.id)),
});
