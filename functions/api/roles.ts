import { ROLES } from '#shared/api/contract/roles.ts';
import { apiHandler, ok } from '#shared/http/api.ts';
import {
  createRole,
  deletePolicy,
  deleteRole,
  getPolicy,
  getRole,
  listPolicies,
  listRoles,
  putPolicy,
  updateRole,
} from '#shared/usecases/roles.ts';
import { listScopes } from '#shared/usecases/scopes.ts';
import { getTargets, putTargets } from '#shared/usecases/targets.ts';

export const handler = apiHandler('roles', ROLES, {
  createRole: async ({ ctx, body }) => ok(await createRole(ctx, body)),
  listRoles: async ({ ctx, query }) => ok(await listRoles(ctx, query)),
  getRole: async ({ ctx, params }) => ok(await getRole(ctx, params.roleId)),
  updateRole: async ({ ctx, params, body }) => ok(await updateRole(ctx, params.roleId, body)),
  deleteRole: async ({ ctx, params }) => {
    await deleteRole(ctx, params.roleId);
    return { status: 204 };
  },
  getPolicy: async ({ ctx, params, query }) => ok(await getPolicy(ctx, params.roleId, query.scope)),
  putPolicy: async ({ ctx, params, query, body }) => ok(await putPolicy(ctx, params.roleId, body, query.scope)),
  deletePolicy: async ({ ctx, params, query }) => {
    await deletePolicy(ctx, params.roleId, query.scope ?? '/');
    return { status: 204 };
  },
  listPolicies: async ({ ctx, params, query }) => ok(await listPolicies(ctx, params.roleId, query)),
  getTargets: async ({ ctx, params }) => ok(await getTargets(ctx, params.roleId)),
  putTargets: async ({ ctx, params, body }) => ok(await putTargets(ctx, params.roleId, body)),
  listScopes: async ({ ctx, query }) => ok(await listScopes(ctx, query)),
});
