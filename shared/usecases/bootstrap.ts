import type { Deps } from '../deps.ts';
import type { Assignment } from '../domain/assignment.ts';
import { eventOfChange, SYSTEM_ACTOR } from '../domain/audit.ts';
import { DomainError } from '../domain/errors.ts';
import { ADMIN_ROLE, BUILT_IN_ROLES } from '../domain/role.ts';
import { newId } from '../ids.ts';
import { keys, ops } from '../store/records.ts';
import { readLive } from './assignments.ts';
import { auditEvent } from './context.ts';
import { newRequestRecord } from './request-records.ts';
import { newRoleOps, readRole } from './roles.ts';

/**
 * Start-up (local) and deploy-time (custom resource) set-up, safe to run any number of times and
 * concurrently: the install record, the built-in roles, and a permanent active `elevate-admin` assignment
 * at `/` for each break-glass principal. Principals dropped from the list keep their assignment until an
 * administrator removes it: removing an emergency account is a decision, not a side effect of a deploy.
 */
export async function bootstrap(deps: Deps, adminIds: string[]): Promise<{ created: string[] }> {
  const { store } = deps;
  const now = deps.clock.now();
  const at = now.toISOString();
  const created: string[] = [];
  const ignoreConflict = async (work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      if (!(error instanceof DomainError && error.code === 'Conflict')) throw error;
    }
  };

  if (!(await store.get(keys.install()))) {
    await ignoreConflict(() =>
      store.transact([ops.install(at), ops.audit(auditEvent(now, SYSTEM_ACTOR, 'elevate.installed', {}, {}))]),
    );
  }
  for (const input of BUILT_IN_ROLES) {
    if (await readRole(store, input.id)) continue;
    const { writes } = newRoleOps(input, true, at);
    await ignoreConflict(() =>
      store.transact([
        ...writes,
        ops.audit(auditEvent(now, SYSTEM_ACTOR, 'role.created', { roleId: input.id }, { builtIn: true })),
      ]),
    );
  }
  for (const principalId of [...new Set(adminIds)]) {
    const slot = {
      principalType: 'user' as const,
      principalId,
      roleId: ADMIN_ROLE,
      assignmentType: 'active' as const,
      scope: '/',
    };
    if (await readLive(store, slot)) continue;
    const requestId = newId('req', now);
    const assignment: Assignment = {
      id: newId('asg', now),
      ...slot,
      principalType: 'user',
      origin: 'assigned',
      status: 'Active',
      startDateTime: at,
      endDateTime: null,
      requestId,
      eligibilityId: null,
      extensions: 0,
      justification: 'break-glass administrator named at deploy (ELEVATE_BOOTSTRAP_ADMINS)',
      createdAt: at,
      updatedAt: at,
      version: 1,
    };
    const request = newRequestRecord(
      SYSTEM_ACTOR,
      now,
      {
        action: 'adminAssign',
        assignmentType: 'active',
        principalType: 'user',
        roleId: ADMIN_ROLE,
        scope: '/',
        policyScope: '/',
        justification: assignment.justification ?? undefined,
        ticket: undefined,
      },
      principalId,
      { start: now, end: null },
      { type: 'noExpiration' },
      'Granted',
    );
    request.id = requestId;
    request.assignmentId = assignment.id;
    const target = { principalId, roleId: ADMIN_ROLE, scope: '/', assignmentId: assignment.id, requestId };
    // One audit event: the assignment's, recording the request it was made by (eventOfChange).
    const event = eventOfChange(
      { target, request },
      { action: 'assignment.bootstrapped', target, details: { assignment } },
    );
    await ignoreConflict(async () => {
      await store.transact([
        ...ops.createAssignment(assignment),
        ops.createRequest(request),
        ops.audit(auditEvent(now, SYSTEM_ACTOR, event.action, event.target, event.details)),
      ]);
      created.push(principalId);
    });
  }
  return { created };
}
