import type { Caller } from '../auth/caller.ts';
import type { Deps } from '../deps.ts';
import { forbidden, invalid, notFound } from '../domain/errors.ts';
import { mailStatus } from '../domain/mail-feedback.ts';
import { type PrincipalRef, userRef } from '../domain/primitives.ts';
import type { Principal, PrincipalInput, PrincipalView } from '../domain/principal.ts';
import { keys, ops, stored, type WriteOp } from '../store/records.ts';
import type { CallContext } from './context.ts';
import { mailStatusOf, suppressionOf } from './mail-feedback.ts';

/**
 * Sets a principal's profile. The suppression of its address (a permanent bounce or a complaint) is not part of
 * the profile and stays as it is, unless the input clears it (`mail: { suppressed: false }`), audited as
 * `principal.mailUnsuppressed` in the same transaction.
 */
export async function putPrincipal(ctx: CallContext, id: string, input: PrincipalInput): Promise<PrincipalView> {
  const before = await ctx.store.get(keys.principal({ principalType: input.type, principalId: id }));
  const linked = before ? stored.principal.fromItem(before).slackUserId : undefined;
  const slackUserId = input.slackUserId === undefined ? linked : input.slackUserId;
  const principal: Principal = {
    id,
    type: input.type,
    displayName: input.displayName,
    email: input.email ?? null,
    ...(slackUserId === undefined ? {} : { slackUserId }),
    updatedAt: ctx.now.toISOString(),
  };
  const suppression = await suppressionOf(ctx.store, principal.email);
  const clear = input.mail?.suppressed === false && suppression !== undefined;
  await ctx.store.transact([
    ops.putPrincipal(principal),
    ...slackLinkWrites(id, input.type, linked, input.slackUserId),
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

/**
 * The link of a Slack user to a user principal (docs/slack.md), set by an admin: the new Slack user is linked (unless
 * it is another principal's: 409), the one it replaces unlinked; `null` unlinks. Only users decide in Slack.
 */
function slackLinkWrites(
  principalId: string,
  type: Principal['type'],
  linked: string | null | undefined,
  wanted: string | null | undefined,
): WriteOp[] {
  if (wanted === undefined || wanted === linked) return [];
  if (wanted !== null && type !== 'user')
    throw invalid('only a user is linked to a Slack user', [{ path: 'slackUserId', message: 'only for type user' }]);
  return [
    ...(linked ? [ops.deleteSlackUser(linked, principalId)] : []),
    ...(wanted ? [ops.putSlackUser({ slackUserId: wanted, principalId, source: 'admin' }, principalId)] : []),
  ];
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
        ...(existing?.slackUserId === undefined ? {} : { slackUserId: existing.slackUserId }),
        updatedAt: deps.clock.now().toISOString(),
      }),
    ]);
  }
  if (recorded.size > 10_000) recorded.clear();
  recorded.set(caller.id, seen);
}
