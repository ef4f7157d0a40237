import * as z from 'zod';
import { conflict } from './errors.ts';
import { ADMIN_ROLE, AUDITOR_ROLE } from './gate.ts';
import { Slug } from './primitives.ts';

export { ADMIN_ROLE, AUDITOR_ROLE };

export const RoleInput = z.strictObject({
  id: Slug,
  displayName: z.string().trim().min(1).max(200),
  description: z.string().max(2000).optional(),
  privileged: z.boolean(),
});
export type RoleInput = z.infer<typeof RoleInput>;

export const RolePatch = z
  .strictObject({
    displayName: z.string().trim().min(1).max(200).optional(),
    description: z.string().max(2000).nullable().optional(),
    privileged: z.boolean().optional(),
  })
  .refine((p) => Object.keys(p).length > 0, 'give at least one field to change');
export type RolePatch = z.infer<typeof RolePatch>;

export const Role = z.object({
  id: z.string(),
  displayName: z.string(),
  description: z.string().nullable(),
  privileged: z.boolean(),
  builtIn: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Role = z.infer<typeof Role>;

/** The two roles through which Elevate manages itself; they cannot be deleted. */
export const BUILT_IN_ROLES: readonly RoleInput[] = [
  {
    id: ADMIN_ROLE,
    displayName: 'Elevate administrator',
    description: 'Manages roles, policies, assignments, reviews and alerts in Elevate.',
    privileged: true,
  },
  {
    id: AUDITOR_ROLE,
    displayName: 'Elevate auditor',
    description: 'Reads assignments, requests, audit events and exports; changes nothing.',
    privileged: true,
  },
];

/** A role is deleted only when it is not built in and holds no live (Scheduled or Active) assignment. */
export function checkRoleDeletable(role: { id: string; builtIn: boolean; liveAssignments: number }): void {
  if (role.builtIn) throw conflict(`'${role.id}' is a built-in role and cannot be deleted`);
  if (role.liveAssignments > 0) {
    throw conflict(`role '${role.id}' still has ${role.liveAssignments} live assignment(s); remove them first`);
  }
}
