import * as z from 'zod';
import { RolePolicy, ScopedPolicy } from '../../domain/policy.ts';
import { Slug } from '../../domain/primitives.ts';
import { Role, RoleInput, RolePatch } from '../../domain/role.ts';
import { Scope, ScopeItem } from '../../domain/scope.ts';
import { Targets } from '../../domain/targets.ts';
import type { OperationsOf } from '../operations.ts';
import { type OperationContract, page, pageQuery } from './common.ts';
import { HELD } from './views.ts';

/** A role policy's scope (absent: `/`, the base policy). */
const PolicyScope = Scope;

/** The contract of the roles function's operations (the whole contract: ../contract.ts). */
export const ROLES = {
  createRole: {
    body: RoleInput,
    idempotent: true,
    responses: { 201: { description: 'The role', schema: Role } },
  },
  listRoles: { query: z.strictObject(pageQuery), responses: { 200: { description: 'Roles', schema: page(Role) } } },
  getRole: { params: z.strictObject({ roleId: Slug }), responses: { 200: { description: 'The role', schema: Role } } },
  updateRole: {
    params: z.strictObject({ roleId: Slug }),
    body: RolePatch,
    responses: { 200: { description: 'The role', schema: Role }, 202: HELD },
  },
  deleteRole: { params: z.strictObject({ roleId: Slug }), responses: { 204: { description: 'Deleted' } } },
  getPolicy: {
    params: z.strictObject({ roleId: Slug }),
    query: z.strictObject({ scope: PolicyScope.optional() }),
    responses: {
      200: { description: 'The policy in force at the scope (the most specific one covering it)', schema: RolePolicy },
    },
  },
  putPolicy: {
    params: z.strictObject({ roleId: Slug }),
    query: z.strictObject({ scope: PolicyScope.optional() }),
    body: RolePolicy,
    responses: { 200: { description: 'The policy', schema: RolePolicy }, 202: HELD },
  },
  deletePolicy: {
    params: z.strictObject({ roleId: Slug }),
    query: z.strictObject({ scope: PolicyScope.optional() }),
    responses: { 204: { description: 'Removed: the scope falls back to the next policy covering it' }, 202: HELD },
  },
  listPolicies: {
    params: z.strictObject({ roleId: Slug }),
    query: z.strictObject(pageQuery),
    responses: { 200: { description: "The role's policies: / first, then by scope", schema: page(ScopedPolicy) } },
  },
  getTargets: {
    params: z.strictObject({ roleId: Slug }),
    responses: { 200: { description: "The role's targets", schema: Targets } },
  },
  putTargets: {
    params: z.strictObject({ roleId: Slug }),
    body: Targets,
    responses: { 200: { description: "The role's targets", schema: Targets }, 202: HELD },
  },
  listScopes: {
    query: z.strictObject(pageQuery),
    responses: {
      200: {
        description: 'The organization as synced by the organization-sync job, in scope order',
        schema: page(ScopeItem),
      },
    },
  },
} as const satisfies Record<OperationsOf<'roles'>, OperationContract>;
