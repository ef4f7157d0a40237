import type { Targets } from '../domain/targets.ts';
import { ops, type TargetsRecord } from '../store/records.ts';
import type { CallContext } from './context.ts';
import { checkTargetsExist, readTargets } from './provisioning.ts';
import { requireRole } from './roles.ts';

/** GET /v1/roles/{roleId}/targets: where the role's grants are provisioned (none: `[]`). */
export async function getTargets(ctx: CallContext, roleId: string): Promise<Targets> {
  await requireRole(ctx.store, roleId);
  return { targets: (await readTargets(ctx.store, roleId))?.targets ?? [] };
}

/**
 * PUT /v1/roles/{roleId}/targets (admin): every permission set and group named must exist in AWS (400
 * TargetNotReady); the change applies to grants made after it. Audited as `role.targetsUpdated` with old and new.
 */
export async function putTargets(ctx: CallContext, roleId: string, input: Targets): Promise<Targets> {
  await requireRole(ctx.store, roleId);
  await checkTargetsExist(ctx.deps, input.targets);
  const current = await readTargets(ctx.store, roleId);
  const next: TargetsRecord = {
    roleId,
    targets: input.targets,
    version: (current?.version ?? 0) + 1,
    updatedAt: ctx.now.toISOString(),
  };
  await ctx.store.transact([
    ...ops.putTargets(next, current?.version ?? null),
    ctx.audit('role.targetsUpdated', { roleId }, { old: current?.targets ?? [], new: input.targets }),
    ...ctx.remember({ targets: input.targets }),
  ]);
  return { targets: input.targets };
}
