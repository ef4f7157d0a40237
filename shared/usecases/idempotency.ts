import { type IdempotencyItem, IdempotencyRace, keys, ops, stored } from '../store/records.ts';
import type { CallContext } from './context.ts';

/**
 * The records of the Idempotency-Key (shared/http/idempotency.ts decides what a call does with them): the item under
 * the caller's key, the claim a call makes on it while it runs, and giving that claim up. The response that replaces
 * a claim is written in the change's own transaction (`CallContext.remember`).
 */
export { type IdempotencyItem, IdempotencyRace };

/** The item under the caller's key, or undefined when there is none or it has expired (TTL deletes it late). */
export async function idempotencyRecord(ctx: CallContext, key: string): Promise<IdempotencyItem | undefined> {
  const item = await ctx.store.get(keys.idempotency(ctx.caller.id, key));
  if (!item) return undefined;
  const expiresAt = Number(item.ttl);
  if (Number.isFinite(expiresAt) && expiresAt * 1000 <= ctx.now.getTime()) return undefined;
  return stored.idempotency.fromItem(item);
}

/**
 * This call's claim on the key until `leaseEnd`: made only where no record is, or the one there has expired or is a
 * claim past its lease; else IdempotencyRace.
 */
export async function claimIdempotencyKey(
  ctx: CallContext,
  key: string,
  claim: { fingerprint: string; claim: string },
  leaseEnd: Date,
): Promise<void> {
  await ctx.store.transact([ops.idempotencyClaim(ctx.caller.id, key, claim, leaseEnd, ctx.now)]);
}

/** Gives up a claim its call did not turn into a response (nothing when the claim is no longer this call's). */
export async function releaseIdempotencyClaim(ctx: CallContext, key: string, claim: string): Promise<void> {
  try {
    await ctx.store.transact([ops.releaseIdempotencyClaim(ctx.caller.id, key, claim)]);
  } catch (error) {
    if (!(error instanceof IdempotencyRace)) throw error;
  }
}
