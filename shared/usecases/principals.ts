import type { Caller } from '../auth/caller.ts';
import type { Deps } from '../deps.ts';
import { forbidden, notFound } from '../domain/errors.ts';
import { type PrincipalRef, userRef } from '../domain/primitives.ts';
import type { Principal, PrincipalInput } from '../domain/principal.ts';
import { keys, ops, stored } from '../store/records.ts';
import type { Ctx } from './context.ts';

export async function putPrincipal(ctx: Ctx, id: string, input: PrincipalInput): Promise<Principal> {
  const principal: Principal = {
    id,
    type: input.type,
    displayName: input.displayName,
    email: input.email ?? null,
    updatedAt: ctx.now.toISOString(),
  };
  await ctx.store.transact([
    ops.putPrincipal(principal),
    ctx.audit('principal.updated', { principalId: id }, { principal }),
  ]);
  return principal;
}

/** A profile, by principal type and id: the caller reads its own user profile, admins and auditors any. */
export async function getPrincipal(ctx: Ctx, p: PrincipalRef): Promise<Principal> {
  const own = p.principalType === 'user' && p.principalId === ctx.caller.id;
  if (!own && !(await ctx.isReader())) {
    throw forbidden('reading another principal needs elevate-admin or elevate-auditor');
  }
  const item = await ctx.store.get(keys.principal(p));
  if (!item) throw notFound(`${p.principalType} '${p.principalId}'`);
  return stored.principal.fromItem(item);
}

/** What this process last recorded per caller, so a caller's name and e-mail are written once, not per call. */
const recorded = new Map<string, string>();

/**
 * Records the caller's e-mail and name from its token (who mail goes to). Not audited: it is what the
 * identity provider said, not a change anyone made in Elevate. The caller is a user: its claims only ever update the
 * profile of the `user` of its id, never a group's or a service principal's of the same id.
 */
export async function recordCaller(deps: Deps, caller: Caller): Promise<void> {
  if (!caller.email && !caller.name) return;
  const seen = `${caller.email ?? ''}\u0000${caller.name ?? ''}`;
  if (recorded.get(caller.id) === seen) return;
  const current = await deps.store.get(keys.principal(userRef(caller.id)), false);
  const existing = current ? stored.principal.fromItem(current) : undefined;
  if (existing?.email !== caller.email || existing?.displayName !== caller.name) {
    await deps.store.transact([
      ops.putPrincipal({
        id: caller.id,
        type: 'user',
        displayName: caller.name ?? existing?.displayName ?? null,
        email: caller.email ?? existing?.email ?? null,
        updatedAt: deps.clock.now().toISOString(),
      }),
    ]);
  }
  if (recorded.size > 10_000) recorded.clear();
  recorded.set(caller.id, seen);
}
