import type { Deps } from '../deps.ts';
import type { ApproverRef } from '../domain/approval.ts';
import { inForce } from '../domain/assignment.ts';
import { normalizeAddress } from '../domain/mail-feedback.ts';
import { type PrincipalRef, userRef } from '../domain/primitives.ts';
import { ADMIN_ROLE } from '../domain/role.ts';
import { log as defaultLog, errorFields, type Log } from '../log.ts';
import type { Mail } from '../ports/mailer.ts';
import type { WorkflowInput } from '../ports/workflow.ts';
import { keys, queries, stored } from '../store/records.ts';
import { suppressedAmong } from './mail-feedback.ts';

/**
 * What happens after a change commits: workflow starts and resumptions, mail. (Lifecycle events are not effects:
 * they are written in the change's transaction, `ops.publish`, and published from the table's stream.)
 * Each is tried once (its SDK client retries transport errors, 5xx and throttling: SDK_MAX_ATTEMPTS, see retry.ts;
 * a second retry here would multiply the sends) and its failure is logged; none can undo or fail the change.
 * Whatever must happen regardless (expiry, time-outs, grants at a scheduled start) the reconcile job also does.
 */
export type Effect =
  | { kind: 'startWorkflow'; name: string; input: WorkflowInput }
  | { kind: 'stopWorkflow'; name: string; cause: string }
  | { kind: 'resumeTask'; token: string | null; output: unknown }
  | { kind: 'failTask'; token: string | null; error: string; cause: string }
  | { kind: 'mail'; to: Recipients; mail: Omit<Mail, 'to'> };

export interface Recipients {
  /** Principals by type and id: a user's mail goes to its profile's e-mail, a group's to the group profile's list. */
  principals?: PrincipalRef[];
  approvers?: ApproverRef[];
  admins?: boolean;
  addresses?: string[];
}

/** Runs the effects once each (the SDK retries transport errors); a failure is logged with `log` (an API call's
 * `ctx.log`: the line names its request) and the change stands. */
export async function runEffects(deps: Deps, effects: Effect[], log: Log = defaultLog): Promise<void> {
  await Promise.all(
    effects.map((e) =>
      runOne(deps, e).catch((error: unknown) =>
        log('error', `after-commit ${e.kind} failed; the change stands`, errorFields(error)),
      ),
    ),
  );
}

async function runOne(deps: Deps, effect: Effect): Promise<void> {
  switch (effect.kind) {
    case 'startWorkflow':
      return deps.workflow.start(effect.name, effect.input);
    case 'stopWorkflow':
      return deps.workflow.stop(effect.name, effect.cause);
    case 'resumeTask':
      if (effect.token) await deps.workflow.succeed(effect.token, effect.output);
      return;
    case 'failTask':
      if (effect.token) await deps.workflow.fail(effect.token, effect.error, effect.cause);
      return;
    case 'mail':
      return sendMail(deps, effect, await addressed(deps, effect.to));
  }
}

interface Addressed {
  to: string[];
  principals: Map<string, PrincipalRef>;
}

async function sendMail(deps: Deps, effect: Extract<Effect, { kind: 'mail' }>, a: Addressed): Promise<void> {
  if (a.to.length) await deps.mailer.send({ ...effect.mail, to: a.to, principals: a.principals });
}

/** The addresses a mail goes to (its recipients' recorded e-mails, suppressed ones left out). */
async function addressed(deps: Deps, to: Recipients, admins?: Promise<string[]>): Promise<Addressed> {
  const resolved = await resolve(deps, to, admins);
  const kept = await withoutSuppressed(deps, [...resolved.keys()]);
  return { to: kept, principals: principalsOf(resolved, kept) };
}

/**
 * The effects of a change made ready while its transaction runs: each mail's recipients are read (profiles,
 * administrators, suppressions) beside the transaction instead of after it, so after the commit only the sends and
 * workflow calls remain. Nothing is sent before `run`, which the caller calls once the change committed (a change
 * that did not commit drops them: only reads were made). A failure to build or address an effect fails that effect
 * only, logged at `run`, as in runEffects. `admins`: the active administrators, when the caller already reads them.
 */
export function prepareEffects(
  deps: Deps,
  effects: Promise<Effect[]>,
  log: Log = defaultLog,
  admins?: Promise<string[]>,
): { run: () => Promise<void> } {
  const ready = effects.then((list) =>
    list.map((e) => ({ e, to: e.kind === 'mail' ? quiet(addressed(deps, e.to, admins)) : undefined })),
  );
  quiet(ready);
  const failed = (kind: string) => (error: unknown) =>
    log('error', `after-commit ${kind} failed; the change stands`, errorFields(error));
  return {
    run: async () => {
      const list = await ready.catch(failed('effects'));
      await Promise.all(
        (list ?? []).map(({ e, to }) =>
          (e.kind === 'mail' && to ? to.then((a) => sendMail(deps, e, a)) : runOne(deps, e)).catch(failed(e.kind)),
        ),
      );
    },
  };
}

/** A promise started ahead of its use: a rejection surfaces where it is awaited, never as an unhandled one. */
export function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

/**
 * E-mail addresses of the recipients: principals' recorded e-mail (a group's is its list), admins', literal ones.
 * Each profile is read under its principal type: an approver `user` is a user's profile, an approver `group` or
 * `groupOwners` the group's, admins are users. (Owners have no list of their own: the group's list is mailed.)
 */
async function resolve(
  deps: Deps,
  r: Recipients,
  admins?: Promise<string[]>,
): Promise<Map<string, PrincipalRef | null>> {
  const wanted = new Map<string, PrincipalRef>();
  const add = (p: PrincipalRef) => wanted.set(`${p.principalType}\u0000${p.principalId}`, p);
  for (const p of r.principals ?? []) add(p);
  for (const a of r.approvers ?? []) {
    if (a.type === 'role') r = { ...r, admins: true };
    else add({ principalType: a.type === 'user' ? 'user' : 'group', principalId: a.id });
  }
  if (r.admins) for (const id of await (admins ?? activeAdmins(deps))) add(userRef(id));
  const found = wanted.size ? await deps.store.getMany([...wanted.values()].map((p) => keys.principal(p))) : [];
  const out = new Map<string, PrincipalRef | null>();
  for (const p of found.map((i) => stored.principal.fromItem(i))) {
    if (p.email && !out.has(p.email)) out.set(p.email, { principalType: p.type, principalId: p.id });
  }
  for (const address of r.addresses ?? []) if (!out.has(address)) out.set(address, null);
  return out;
}

/**
 * The addresses that are not suppressed (SES reported a permanent bounce or a complaint: mail-feedback.ts). A
 * skipped recipient is logged and counted (never by address: logs hold none); the others are mailed. A failure to
 * read the suppressions fails this mail effect only (retried, then logged), never the change.
 */
async function withoutSuppressed(deps: Deps, addresses: string[]): Promise<string[]> {
  const suppressed = await suppressedAmong(deps.store, addresses);
  if (suppressed.size === 0) return addresses;
  const kept = addresses.filter((a) => !suppressed.has(normalizeAddress(a)));
  defaultLog('info', 'mail not sent to suppressed recipients (a permanent bounce or a complaint)', {
    suppressedRecipients: addresses.length - kept.length,
    recipients: kept.length,
  });
  return kept;
}

function principalsOf(resolved: Map<string, PrincipalRef | null>, to: string[]): Map<string, PrincipalRef> {
  const out = new Map<string, PrincipalRef>();
  for (const address of to) {
    const p = resolved.get(address);
    if (p) out.set(address, p);
  }
  return out;
}

/** The users holding elevate-admin (active, at /) now: who mail "to admins" goes to. */
export async function activeAdmins(deps: Deps): Promise<string[]> {
  const now = deps.clock.now();
  const items = await deps.store.all(queries.assignmentsOfRole(ADMIN_ROLE), false);
  return items
    .filter(
      (i) => i.principalType === 'user' && i.assignmentType === 'active' && i.scope === '/' && inForce(i as never, now),
    )
    .map((i) => String(i.principalId));
}
