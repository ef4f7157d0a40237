import * as z from 'zod';

/**
 * Time-bound group membership and ownership (Entra's "PIM for Groups"): a group is two ordinary roles,
 * `group-<id>-member` and `group-<id>-owner`, requested, approved, activated and reviewed like any role.
 * Their live, in-force active assignments at `/` are the group's members and owners.
 */
export const GroupInput = z.strictObject({
  id: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9-]{1,48}$/,
      'a slug of 2-49 lower-case letters, digits and dashes (the role ids add 13 characters)',
    ),
  displayName: z.string().trim().min(1).max(200),
  description: z.string().max(2000).optional(),
});
export type GroupInput = z.infer<typeof GroupInput>;

export const Group = z.object({
  id: z.string(),
  displayName: z.string(),
  description: z.string().nullable(),
  createdAt: z.string(),
});
export type Group = z.infer<typeof Group>;

export const memberRole = (groupId: string) => `group-${groupId}-member`;
export const ownerRole = (groupId: string) => `group-${groupId}-owner`;

const GROUP_ROLE = /^group-([a-z0-9][a-z0-9-]{1,48})-(member|owner)$/;

/** The group and relation a role id stands for, if it is a group role. */
export function groupOfRole(roleId: string): { groupId: string; relation: 'member' | 'owner' } | undefined {
  const m = GROUP_ROLE.exec(roleId);
  return m ? { groupId: m[1] as string, relation: m[2] as 'member' | 'owner' } : undefined;
}
