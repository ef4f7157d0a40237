import type { Caller } from '../auth/caller.ts';
import type { Deps } from '../deps.ts';
import { forbidden, notFound } from '../domain/errors.ts';
import { mailStatus } from '../domain/mail-feedback.ts';
import { type PrincipalRef, userRef } from '../domain/primitives.ts';
import type { Principal, PrincipalInput, PrincipalView } from '../domain/principal.ts';
import { keys, ops, stored } from '../store/records.ts';
import type { CallContext } from './context.ts';
import { mailStatusOf, suppressionOf } from './mail-feedback.ts';

/**
 * Sets a principal's profile. The suppression of its address (a permanent bounce or a complaint) is not part of
 * the profile and stays as it is, unless the input clears it (`mail: { suppressed: false }`), audited as
 * `principal.mailUnsuppressed` in the same transaction.
 */
export async function putPrincipal(ctx: CallContext, id: string, input: PrincipalInput): Promise<PrincipalView> {
  const principal: Principal = {
    id,
    type: input.type,
    displayName: input.displayName,
    email: input.email ?? null,
    updatedAt: ctx.now.toISOString(),
  };
  const suppression = await suppressionOf(ctx.store, principal.email);
  const clear = input.mail?.suppressed === false && suppression !== undefined;
  await ctx.store.transact([
    ops.putPrincipal(principal),
    ctx.audit('principal.updated', { principalId: id }, { principal }),
    ...(clear
      ? [
          ops.clearMailSuppression(suppression.address, suppression.feedbackId),
          ctx.audit(
            'principal.mailUnsuppressed',
            { principalId: id },
            { principalType: principal.type, address: suppression.address, was: suppression },
          ),
        ]
      : []),
  ]);
  return { ...principal, mail: mailStatus(clear ? undefined : suppression) };
}

/** A profile, by principal type and id: the caller reads its own user profile, admins and auditors any. */
export async function getPrincipal(ctx: CallContext, p: PrincipalRef): Promise<PrincipalView> {
  const own = p.principalType === 'user' && p.principalId === ctx.caller.id;
  if (!own && !(await ctx.isReader())) {
    throw forbidden('reading another principal needs elevate-admin or elevate-auditor');
  }
  const item = await ctx.store.get(keys.principal(p));
  if (!item) throw notFound(`${p.principalType} '${p.principalId}'`);
  const principal = stored.principal.fromItem(item);
  return { ...principal, mail: await mailStatusOf(ctx.store, principal.email) };
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
