import { ADMIN_ROLE, AUDITOR_ROLE, inForce } from '../domain/gate.ts';
import { userRef } from '../domain/primitives.ts';
import { queries } from '../store/records.ts';
import type { Store } from '../store/store.ts';
import type { Caller } from './caller.ts';

/**
 * Authority inside Elevate is itself an Elevate assignment: a caller is an administrator (or auditor)
 * only while it holds an active, in-force `elevate-admin` (or `elevate-auditor`) assignment at scope `/`.
 * Both built-in roles share the `elevate-` prefix, so one strongly consistent Query answers both.
 */
export interface Authority {
  admin: boolean;
  auditor: boolean;
}

export async function authorityOf(store: Store, caller: Caller, now: Date): Promise<Authority> {
  // The caller is a user: a group (or service principal) of the same id holds its own slots, never the caller's.
  const slots = await store.all(queries.liveRolePrefix(userRef(caller.id), 'elevate-'));
  const holds = (roleId: string) =>
    slots.some(
      (s) =>
        s.roleId === roleId &&
        s.assignmentType === 'active' &&
        s.scope === '/' &&
        inForce(s as { status: 'Active'; startDateTime: string; endDateTime: string | null }, now),
    );
  return { admin: holds(ADMIN_ROLE), auditor: holds(AUDITOR_ROLE) };
}
