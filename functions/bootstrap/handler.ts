import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { parseList } from '#shared/config.ts';
import { depsFromEnv } from '#shared/deps.ts';
import { log, withRequestId } from '#shared/log.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';

/**
 * The deploy-time custom resource (Provider onEvent): on Create and Update it grants each break-glass
 * principal a permanent active elevate-admin assignment and makes sure the built-in roles exist.
 * On Delete it does nothing: the table is retained, and so is who may administer it.
 */
export const handler = withRequestId(async (event: CloudFormationCustomResourceEvent) => {
  if (event.RequestType !== 'Delete') {
    const admins = parseList(String(event.ResourceProperties.BootstrapAdmins ?? ''));
    const { created } = await bootstrap(depsFromEnv(), admins);
    log('info', 'bootstrap done', { admins: admins.length, created: created.length });
  }
  return { PhysicalResourceId: 'elevate-bootstrap' };
});
