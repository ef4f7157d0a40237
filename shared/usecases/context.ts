import type { Authority } from '../auth/authority.ts';
import { authorityOf } from '../auth/authority.ts';
import type { Caller } from '../auth/caller.ts';
import type { Deps } from '../deps.ts';
import { type Actor, type AuditEvent, type AuditTarget, emptyTarget, eventHash } from '../domain/audit.ts';
import { forbidden } from '../domain/errors.ts';
import { adminMfaRequired, checkAdminMfa } from '../domain/gate.ts';
import type { Settings } from '../domain/settings.ts';
import { newId } from '../ids.ts';
import { log as invocationLog, type Log } from '../log.ts';
import type { LifecycleEvent } from '../ports/events.ts';
import { ops, type WriteOp } from '../store/records.ts';
import { readSettings } from './settings.ts';

export interface IdempotencyKey {
  key: string;
  fingerprint: string;
  /** This call's claim on the key (shared/http/idempotency.ts), which its response replaces. */
  claim?: string;
}

/**
 * A pending change being applied on a second administrator's approval: the call runs as its proposer's, and its
 * main transaction (the one that remembers its response) also records the change as Applied.
 */
export interface ApplyingChange {
  /** The change's record after the decision (status Applied, decidedBy, ...), without its result yet. */
  applied: (result: { status: number; body: unknown }) => WriteOp[];
  /** Set once the change's writes joined a transaction. */
  committed: boolean;
  id: string;
  approvedBy: string;
}

/**
 * What a use case knows of the one API call it serves (`ctx` in every use case): who calls, when (one `now` for the
 * whole call), the ports, the Idempotency-Key, and its logger (whose lines carry the call's request id, passed on to
 * what runs after the change commits: `runEffects(..., ctx.log)`). Not an access request: those are `RequestRecord`.
 */
export class CallContext {
  readonly now: Date;
  #authority: Promise<Authority> | undefined;
  #settings: Promise<Settings> | undefined;
  /** Set when this call applies an approved pending change (see governance.ts). */
  change: ApplyingChange | undefined;
  /** Where the call came from: the HTTP API (the CLI and the console call it too) or Slack's interactions. */
  channel: 'api' | 'slack' = 'api';

  constructor(
    readonly deps: Deps,
    readonly caller: Caller,
    public idempotency?: IdempotencyKey,
    readonly log: Log = invocationLog,
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

  /** The governance settings, read once per call. */
  settings(): Promise<Settings> {
    this.#settings ??= readSettings(this.deps.store).then((s) => s.settings);
    return this.#settings;
  }

  /**
   * A change made with elevate-admin authority: the caller holds an active elevate-admin and, unless the settings
   * (or the deployment) say otherwise, signed in with MFA.
   */
  async requireAdmin(what: string): Promise<void> {
    if (!(await this.authority()).admin) throw forbidden(`${what} needs an active elevate-admin assignment`);
    await this.requireAdminMfa(what);
  }

  /** The MFA half of requireAdmin, for callers whose admin authority is already established. */
  async requireAdminMfa(what: string): Promise<void> {
    checkAdminMfa(adminMfaRequired(this.deps.config.adminMfa, await this.settings()), this.caller.mfa, what);
  }

  async isReader(): Promise<boolean> {
    const a = await this.authority();
    return a.admin || a.auditor;
  }

  /**
   * An audit event by this caller, ready to go into the change's transaction; with `publishes`, also those lifecycle
   * events (published from the audit event: `ops.audit`).
   */
  audit(
    action: string,
    target: Partial<AuditTarget>,
    details: Record<string, unknown> = {},
    publishes: readonly LifecycleEvent[] = [],
  ): WriteOp {
    const withChange = this.change
      ? { ...details, change: { id: this.change.id, approvedBy: this.change.approvedBy } }
      : details;
    return ops.audit(auditEvent(this.now, this.actor, action, target, withChange), publishes);
  }

  /** Whether remember() gave this call's change the write of its response. */
  remembered = false;

  /**
   * The status this call answers when it succeeds: its operation's, as the API contract gives it (the HTTP wrapper
   * sets it). 200 for a call made outside the API: an approved change applied as its proposer's call.
   */
  successStatus = 200;

  /**
   * The writes that go into the call's main transaction with its response: the Idempotency-Key's record (none
   * without a key) and, when the call applies an approved change, the change's Applied record and audit event.
   * The response's status is the call's success status, unless `status` names another.
   */
  remember(body: unknown, status: number = this.successStatus): WriteOp[] {
    const writes: WriteOp[] = [];
    if (this.change && !this.change.committed) {
      writes.push(...this.change.applied({ status, body }));
      this.change.committed = true;
    }
    if (!this.idempotency) return writes;
    this.remembered = true;
    const expires = new Date(this.now.getTime() + this.deps.config.idempotencyTtlHours * 3_600_000);
    writes.push(
      ops.idempotency(
        this.caller.id,
        this.idempotency.key,
        { fingerprint: this.idempotency.fingerprint, status, body },
        expires,
        this.idempotency.claim,
      ),
    );
    return writes;
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
