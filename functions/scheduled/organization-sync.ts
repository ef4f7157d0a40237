import { depsFromEnv } from '#shared/deps.ts';
import { invocationHandler } from '#shared/invocation.ts';
import { syncOrganization } from '#shared/usecases/scopes.ts';

/** EventBridge rule target (hourly): copies the AWS Organizations tree into the table (OU scopes). */
export const handler = invocationHandler('organization-sync', async () => syncOrganization(depsFromEnv()));
