import type { ApproverFacts } from '../domain/approval.ts';
import { DomainError, notFound } from '../domain/errors.ts';
import { userRef } from '../domain/primitives.ts';
import { maySeeRequest } from '../domain/visibility.ts';
import type { RequestRecord } from '../store/records.ts';
import type { CallContext } from './context.ts';
import { memberships } from './groups.ts';
import { readRequest, targetOf } from './request-records.ts';

/** The caller's authority and Elevate group memberships and ownerships, for matching approvers. */
export function approverFacts(ctx: CallContext): Promise<ApproverFacts & { auditor: boolean }> {
  let facts = readFacts.get(ctx);
  if (!facts) {
    facts = readApproverFacts(ctx);
    readFacts.set(ctx, facts);
  }
  return facts;
}

/** Read once per call, as the authority is (a decision starts the read beside its request's). */
const readFacts = new WeakMap<CallContext, Promise<ApproverFacts & { auditor: boolean }>>();

async function readApproverFacts(ctx: CallContext): Promise<ApproverFacts & { auditor: boolean }> {
  const [authority, groups] = await Promise.all([
    ctx.authority(),
    memberships(ctx.store, userRef(ctx.caller.id), ctx.now),
  ]);
  return { admin: authority.admin, auditor: authority.auditor, memberOf: groups.members, ownerOf: groups.owners };
}

/**
 * A request the caller may see, or the very 404 of a request that does not exist. A call that would have changed
 * it (`operationId` given) and was hidden this way is audited as `authorization.refused` (code NotFound).
 */
export async function readVisibleRequest(ctx: CallContext, id: string, operationId?: string): Promise<RequestRecord> {
  const r = await readRequest(ctx.store, id);
  if ((r.principalType === 'user' && r.principalId === ctx.caller.id) || r.createdBy === ctx.caller.id) return r; // no authority or group reads
  if (maySeeRequest(r, ctx.caller, await approverFacts(ctx))) return r;
  const hidden = notFound(`request '${id}'`);
  if (operationId) await auditRefusal(ctx, r, operationId, hidden);
  throw hidden;
}

/** A refused decision or cancel (403, a policy refusal such as MfaRequired, or a hidden request) leaves its trace. */
export async function auditRefusal(
  ctx: CallContext,
  r: RequestRecord,
  operationId: string,
  error: DomainError,
): Promise<void> {
  await ctx.store.transact([ctx.audit('authorization.refused', targetOf(r), { operationId, code: error.code })]);
}

/** Runs a decision or cancel on a visible request; a refusal by authority or policy is audited, then thrown. */
export async function audited<T>(
  ctx: CallContext,
  r: RequestRecord,
  operationId: string,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DomainError && (error.status === 403 || error.isPolicyRefusal)) {
      await auditRefusal(ctx, r, operationId, error);
    }
    throw error;
  }
}
