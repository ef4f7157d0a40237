import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { DomainError } from '../domain/errors.ts';
import type { CallContext } from '../usecases/context.ts';
import {
  claimIdempotencyKey,
  type IdempotencyItem,
  IdempotencyRace,
  idempotencyRecord,
  releaseIdempotencyClaim,
} from '../usecases/idempotency.ts';
import { problem } from './problem.ts';

/**
 * Idempotency-Key: the first call with a key claims it (a conditional put), runs, and replaces the claim with
 * its response in the change's transaction. A duplicate that arrives meanwhile is held: it reads the key's item
 * (strongly consistent) every POLL_MS, up to HOLD_POLLS times (about 2 s), and answers the first call's response
 * as soon as it is there; only after that is it a 409 with Retry-After. A record past its expiry (DynamoDB's TTL
 * deletes items up to days late) is treated as absent, and a claim past its lease (a claimant that died) may be
 * taken over. A call that remembers nothing (a refusal, a failure) gives its claim up, so a retry is judged again.
 */
const POLL_MS = 50;
const HOLD_POLLS = 40;
/** Longer than an API call can run (API Gateway answers after 30 s). */
const LEASE_MS = 60_000;

type Response = APIGatewayProxyStructuredResultV2;

function differentRequest(): DomainError {
  return new DomainError('Conflict', 'this Idempotency-Key was used with a different request; use a new key');
}

function replayed(record: IdempotencyItem & { pending?: undefined }): Response {
  const base: Response = { statusCode: record.status, headers: { 'idempotent-replayed': 'true' } };
  if (record.body === undefined) return base;
  return {
    ...base,
    headers: { 'content-type': 'application/json', 'idempotent-replayed': 'true' },
    body: JSON.stringify(record.body),
  };
}

/** The first call's response (waiting for it a little), or this call's claim on the key. */
export async function claimOrReplay(
  ctx: CallContext,
  key: string,
  fingerprint: string,
): Promise<{ response: Response } | { claim: string }> {
  for (let polls = 0; ; ) {
    const found = await idempotencyRecord(ctx, key);
    if (found && found.fingerprint !== fingerprint) throw differentRequest();
    if (found && !found.pending) return { response: replayed(found) };
    if (found) {
      if (++polls > HOLD_POLLS) {
        return {
          response: problem(
            new DomainError('Conflict', 'a request with this Idempotency-Key is still in progress; retry'),
            { 'retry-after': '1' },
          ),
        };
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      continue;
    }
    const claim = randomUUID();
    const leaseEnd = new Date(ctx.now.getTime() + LEASE_MS);
    try {
      await claimIdempotencyKey(ctx, key, { fingerprint, claim }, leaseEnd);
      return { claim };
    } catch (error) {
      if (!(error instanceof IdempotencyRace)) {
        // The claim may have been made though its answer was lost (a timeout after DynamoDB committed): the random
        // claim id tells whether the record holds this call's claim; otherwise the failure stands.
        const after = await idempotencyRecord(ctx, key).catch(() => undefined);
        if (after?.pending && after.claim === claim) return { claim };
        throw error;
      }
      // Another call claimed it between the read and the put: read again (and wait for it).
    }
  }
}

/** Gives up a claim its call did not turn into a response. */
export function releaseClaim(ctx: CallContext, key: string, claim: string): Promise<void> {
  return releaseIdempotencyClaim(ctx, key, claim);
}

/** The response remembered under the key, if any (after a lost race to remember one). */
export async function remembered(ctx: CallContext, key: string, fingerprint: string): Promise<Response | undefined> {
  const found = await idempotencyRecord(ctx, key);
  if (!found || found.pending) return undefined;
  if (found.fingerprint !== fingerprint) throw differentRequest();
  return replayed(found);
}
