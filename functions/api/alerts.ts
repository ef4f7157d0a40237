import { ALERTS } from '#shared/api/contract/alerts.ts';
import { apiHandler, ok } from '#shared/http/api.ts';
import { dismissAlert, listAlerts, putAlertSettings, readAlertSettings } from '#shared/usecases/alerts.ts';

export const handler = apiHandler('alerts', ALERTS, {
  listAlerts: async ({ ctx, query }) => {
    const { status, ...page } = query;
    return ok(await listAlerts(ctx, status, page));
  },
  dismissAlert: async ({ ctx, params }) => ok(await dismissAlert(ctx, params.id)),
  getAlertSettings: async ({ ctx }) => ok(await readAlertSettings(ctx.deps)),
  putAlertSettings: async ({ ctx, body }) => ok(await putAlertSettings(ctx, body)),
});
