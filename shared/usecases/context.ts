import type { Authority } from '../auth/authority.ts';
import { authorityOf } from '../auth/authority.ts';
import type { Caller } from '../auth/caller.ts';
import type { Deps } from '../deps.ts';
import { type Actor, type AuditEvent, type AuditTarget, emptyTarget, eventHash } from '../domain/audit.ts';
import { forbidden } from '../domain/errors.ts';
import { newId } from '../ids.ts';
import { ops, type WriteOp } from '../store/records.ts';

export interface IdempotencyKey {
  key: string;
  fingerprint: string;
  /** This call's claim on the key (shared/http/idempotency.ts), which its response replaces. */
  claim?: string;
}

/** One API call: who calls, when (one `now` for the whole call), and the ports. */
export class Ctx {
  readonly now: Date;
  #authority: Promise<Authority> | undefined;

  constructor(
    readonly deps: Deps,
    readonly caller: Caller,
    readonly idempotency?: IdempotencyKey,
  ) {
    this.now = deps.clock.now();
  }

  get store() {
    return this.deps.store;
  }

  get actor(): Actor {
    return { id: this.caller.id, type: 'user' };
  }

  /** The caller's authority, read once per call. */
  authority(): Promise<Authority> {
    this.#authority ??= authorityOf(this.deps.store, this.caller, this.now);
    return this.#authority;
  }

  async requireAdmin(what: string): Promise<void> {
    if (!(await this.authority()).admin) throw forbidden(`${what} needs an active elevate-admin assignment`);
  }

  async isReader(): Promise<boolean> {
    const a = await this.authority();
    return a.admin || a.auditor;
  }

  /** An audit event by this caller, ready to go into the change's transaction. */
  audit(action: string, target: Partial<AuditTarget>, details: Record<string, unknown> = {}): WriteOp {
    return ops.audit(auditEvent(this.now, this.actor, action, target, details));
  }

  /** Whether remember() gave this call's change the write of its response. */
  remembered = false;

  /** The write that remembers this call's response under its Idempotency-Key (none without a key). */
  remember(status: number, body: unknown): WriteOp[] {
    if (!this.idempotency) return [];
    this.remembered = true;
    const expires = new Date(this.now.getTime() + this.deps.config.idempotencyTtlHours * 3_600_000);
    return [
      ops.idempotency(
        this.caller.id,
        this.idempotency.key,
        { fingerprint: this.idempotency.fingerprint, status, body },
        expires,
        this.idempotency.claim,
      ),
    ];
  }
}

export function auditEvent(
  now: Date,
  actor: Actor,
  action: string,
  target: Partial<AuditTarget>,
  details: Record<string, unknown>,
): AuditEvent {
  const event = {
    id: newId('evt', now),
    time: now.toISOString(),
    action,
    actor,
    target: { ...emptyTarget(), ...target },
    details,
    previousHash: null,
  };
  return { ...event, hash: eventHash(event) };
}
