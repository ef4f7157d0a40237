import * as z from 'zod';
import { Group, GroupInput } from '../../domain/group.ts';
import { Slug } from '../../domain/primitives.ts';
import type { OperationsOf } from '../operations.ts';
import { type OperationContract, page, pageQuery } from './common.ts';
import { AssignmentView } from './views.ts';

export const GroupMember = AssignmentView.extend({ relation: z.enum(['member', 'owner']) });

/** The contract of the groups function's operations (the whole contract: ../contract.ts). */
export const GROUPS = {
  createGroup: { body: GroupInput, idempotent: true, responses: { 201: { description: 'The group', schema: Group } } },
  listGroups: { query: z.strictObject(pageQuery), responses: { 200: { description: 'Groups', schema: page(Group) } } },
  listGroupMembers: {
    params: z.strictObject({ id: Slug }),
    query: z.strictObject(pageQuery),
    responses: {
      200: {
        description: 'Active members and owners, each an assignment with its relation',
        schema: page(GroupMember),
      },
    },
  },
} as const satisfies Record<OperationsOf<'groups'>, OperationContract>;
