import type { Deps, ProvisioningPorts } from '../deps.ts';
import { SYSTEM_ACTOR } from '../domain/audit.ts';
import { DomainError } from '../domain/errors.ts';
import { addFence, dueFences, type Fence, FenceRefused, newFence, renderPolicy } from '../domain/fence.ts';
import { errorFields, log } from '../log.ts';
import type { OperationStatus } from '../ports/identity-center.ts';
import { type FenceRecord, keys, ops, type PendingProvisioning, queries, stored } from '../store/records.ts';
import { alertId, raise, readAlertSettings, resolveAlert } from './alerts.ts';
import { NO_BUDGET, type TimeBudget } from './audit.ts';
import { auditEvent } from './context.ts';

/**
 * The session fence (provisioning.md, "Sessions end when access ends"; the rules are shared/domain/fence.ts).
 *
 * - `fenceSession`, called once an account assignment's deletion SUCCEEDED: adds the Deny for that user's sessions
 *   in that account issued before the end to the permission set's inline policy, provisions the permission set to
 *   that account and waits for it; audits `session.fenced`. A fence that cannot be made (the policy would outgrow
 *   AWS's limits, the provisioning FAILED, AWS refused) raises `sessionFenceFailed` (high) and answers `failed`: it
 *   never throws, so the removal that called it stands.
 * - `unfenceDue`, run by the reconcile job: takes out the statements whose end + SessionDuration + 5 minutes has
 *   passed, provisions again, audits `session.unfenced`; and follows the provisionings their callers stopped
 *   waiting for.
 *
 * The fences of a permission set are kept in one version-guarded record (the source of Elevate's statements): a
 * writer changes the record, then writes the policy from it and checks that the record did not change meanwhile,
 * writing again if it did. So of two fences racing, the last policy written holds both.
 */

/** How long a caller waits for a ProvisionPermissionSet (then the reconcile job follows it). */
export interface PollPolicy {
  /** Describes in all. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** @default the clock's (`deps.clock.sleep`: real time in Lambda, no real wait on a manual clock) */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * About 11.5 s of waiting (0.5, 1, 2, 4, 4 s): well inside the workflow handler's 30 s, and more than a provisioning
 * to one account usually takes.
 */
export const DEFAULT_POLL: PollPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 4_000 };

/** The scheduled jobs' shorter wait (3.5 s): what is still IN_PROGRESS is followed by the next run. */
export const JOB_POLL: PollPolicy = { ...DEFAULT_POLL, attempts: 3 };

export interface FenceInput {
  permissionSetArn: string;
  accountId: string;
  /** The Identity Center UserName of the user whose access ended. */
  userName: string;
  /** When the access ended: the end time, or the moment of an early removal. */
  end: string | Date;
  requestId: string;
  /** The Elevate principal (audit). */
  principalId?: string | null;
}

export type FenceResult =
  | { status: 'skipped'; reason: string }
  | { status: 'fenced'; fence: Fence; provisioning: 'SUCCEEDED' | 'IN_PROGRESS' }
  | { status: 'failed'; reason: string };

/** Most times a writer goes round when the record keeps changing under it. */
const MAX_ROUNDS = 10;

const emptyRecord = (permissionSetArn: string, now: string): FenceRecord => ({
  permissionSetArn,
  fences: [],
  pending: [],
  version: 0,
  updatedAt: now,
});

async function readRecord(deps: Deps, permissionSetArn: string): Promise<FenceRecord | undefined> {
  const item = await deps.store.get(keys.fences(permissionSetArn));
  return item ? stored.fences.fromItem(item) : undefined;
}

/** Changes the record with `change` (read, change, conditional write; again on a conflict). */
async function updateRecord(
  deps: Deps,
  permissionSetArn: string,
  change: (r: FenceRecord) => Pick<FenceRecord, 'fences' | 'pending'>,
): Promise<FenceRecord> {
  for (let round = 0; ; round++) {
    const now = deps.clock.now().toISOString();
    const current = await readRecord(deps, permissionSetArn);
    const base = current ?? emptyRecord(permissionSetArn, now);
    const next: FenceRecord = { ...base, ...change(base), version: base.version + 1, updatedAt: now };
    try {
      await deps.store.transact([ops.putFences(next, current ? current.version : null)]);
      return next;
    } catch (error) {
      if (!(error instanceof DomainError) || round >= MAX_ROUNDS) throw error;
    }
  }
}

/**
 * Writes the inline policy from the record: foreign statements kept, Elevate's replaced by the record's fences;
 * again while the record changed meanwhile (a racing writer's fence is then in the next write).
 */
async function syncPolicy(deps: Deps, ports: ProvisioningPorts, permissionSetArn: string): Promise<void> {
  const idc = ports.identityCenter;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const record = await readRecord(deps, permissionSetArn);
    const current = await idc.getInlinePolicy(permissionSetArn);
    const rendered = renderPolicy(current, record?.fences ?? []);
    if (rendered.kind === 'tooLarge') {
      throw new FenceRefused(
        `the inline policy of ${permissionSetArn} would be ${rendered.size.nonWhitespace} non-whitespace characters ` +
          `(${rendered.size.bytes} bytes) with Elevate's fences, over AWS's limits (10,240 and 32,768) even coalesced`,
      );
    }
    if (rendered.kind === 'none') {
      if (current !== null) await idc.deleteInlinePolicy(permissionSetArn);
    } else if (rendered.policy !== current) {
      await idc.putInlinePolicy(permissionSetArn, rendered.policy);
    }
    const after = await readRecord(deps, permissionSetArn);
    if ((after?.version ?? 0) === (record?.version ?? 0)) return;
  }
  throw new Error(`the fences of ${permissionSetArn} kept changing while their policy was written`);
}

/**
 * ProvisionPermissionSet to one account, described until it ends or the poll gives up (IN_PROGRESS). A clock that
 * did not move while the poll slept (the manual clock of tests and of the local runtime) does not move on its own:
 * the poll gives up at once, and the reconcile job follows the provisioning on the clock.
 */
async function provision(
  deps: Deps,
  ports: ProvisioningPorts,
  permissionSetArn: string,
  accountId: string,
  poll: PollPolicy,
): Promise<OperationStatus> {
  let status: OperationStatus;
  try {
    status = await ports.identityCenter.provisionPermissionSet(permissionSetArn, accountId);
  } catch (error) {
    // Another provisioning of the permission set is in flight (the adapter's retries spent): it may have started
    // before this policy was written, so the permission set is provisioned again once it has ended (followPending).
    if (error instanceof Error && error.name === 'ConflictException') return NOT_STARTED;
    throw error;
  }
  const sleep = poll.sleep ?? ((ms: number) => deps.clock.sleep(ms));
  for (let attempt = 0; status.status === 'IN_PROGRESS' && attempt < poll.attempts; attempt++) {
    const before = deps.clock.now().getTime();
    await sleep(Math.min(poll.maxDelayMs, poll.baseDelayMs * 2 ** attempt));
    if (deps.clock.now().getTime() <= before) break;
    status = await ports.identityCenter.describeProvisioning(status.requestId);
  }
  return status;
}

/** A provisioning to be started again later (its pending entry has no request id yet). */
const NOT_STARTED: OperationStatus = { requestId: '', status: 'IN_PROGRESS', failureReason: null };

/** The reconcile job's one look: no waiting. */
const NO_WAIT: PollPolicy = { ...JOB_POLL, attempts: 0 };

const pendingKey = (p: PendingProvisioning) => `${p.accountId}|${p.requestId}|${p.startedAt}`;

const sameFence = (a: Pick<Fence, 'userName' | 'accountId' | 'end'>, b: Fence): boolean =>
  a.userName === b.userName && a.accountId === b.accountId && a.end === b.end;

const failureSubject = (permissionSetArn: string, accountId: string, userName: string) =>
  `${permissionSetArn}|${accountId}|${userName}`;

async function raiseFenceFailed(deps: Deps, input: FenceInput, reason: string): Promise<void> {
  const now = deps.clock.now();
  const affected = {
    permissionSetArn: input.permissionSetArn,
    accountId: input.accountId,
    userName: input.userName,
    principalId: input.principalId ?? null,
    requestId: input.requestId,
    end: new Date(input.end).toISOString(),
  };
  try {
    await deps.store.transact([
      ops.audit(
        auditEvent(
          now,
          SYSTEM_ACTOR,
          'session.fenceFailed',
          { principalId: input.principalId ?? null, requestId: input.requestId },
          { ...affected, reason },
        ),
      ),
    ]);
    await raise(
      deps,
      {
        type: 'sessionFenceFailed',
        subject: failureSubject(input.permissionSetArn, input.accountId, input.userName),
        affected: [affected],
        details: { reason },
      },
      await readAlertSettings(deps),
    );
  } catch (error) {
    log('error', 'could not raise sessionFenceFailed', { ...affected, reason, ...errorFields(error) });
  }
}

/**
 * Fences the sessions of `userName` in `accountId` issued before `end` (see the top of this file). Nothing is
 * done without Identity Center or with FenceSessions off.
 */
export async function fenceSession(
  deps: Deps,
  input: FenceInput,
  opts: { poll?: PollPolicy } = {},
): Promise<FenceResult> {
  const ports = deps.provisioning;
  const config = deps.config.identityCenter;
  if (!ports || !config) return { status: 'skipped', reason: 'IAM Identity Center is not configured' };
  if (!config.fenceSessions) return { status: 'skipped', reason: 'FenceSessions is off' };
  const poll = opts.poll ?? DEFAULT_POLL;
  const { permissionSetArn, accountId } = input;
  let fence: Fence | undefined;
  try {
    const ps = await ports.identityCenter.describePermissionSet(permissionSetArn);
    if (!ps) throw new FenceRefused(`the permission set ${permissionSetArn} does not exist`);
    fence = newFence({ ...input, sessionDuration: ps.sessionDuration });
    const made = fence;
    await updateRecord(deps, permissionSetArn, (r) => ({ fences: addFence(r.fences, made), pending: r.pending }));
    try {
      await syncPolicy(deps, ports, permissionSetArn);
    } catch (error) {
      // Not in the policy: not in the record either (a merged, later fence of the user stays).
      await updateRecord(deps, permissionSetArn, (r) => ({
        fences: r.fences.filter((f) => !sameFence(made, f)),
        pending: r.pending,
      }));
      throw error;
    }
    const status = await provision(deps, ports, permissionSetArn, accountId, poll);
    if (status.status === 'FAILED') {
      throw new FenceRefused(
        `provisioning ${permissionSetArn} to ${accountId} FAILED: ${status.failureReason ?? 'no reason given'}`,
      );
    }
    if (status.status === 'IN_PROGRESS') {
      const pending: PendingProvisioning = {
        accountId,
        requestId: status.requestId,
        startedAt: deps.clock.now().toISOString(),
        purpose: 'fence',
      };
      await updateRecord(deps, permissionSetArn, (r) => ({ fences: r.fences, pending: [...r.pending, pending] }));
    }
    const now = deps.clock.now();
    await deps.store.transact([
      ops.audit(
        auditEvent(
          now,
          SYSTEM_ACTOR,
          'session.fenced',
          { principalId: made.principalId, requestId: made.requestId },
          {
            permissionSetArn,
            accountId,
            userName: made.userName,
            end: made.end,
            removeAfter: made.removeAfter,
            sessionDuration: ps.sessionDuration,
            provisioning: { requestId: status.requestId, status: status.status },
          },
        ),
      ),
    ]);
    await resolveAlert(deps, alertId('sessionFenceFailed', failureSubject(permissionSetArn, accountId, made.userName)));
    return { status: 'fenced', fence: made, provisioning: status.status };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    log('error', 'session fence failed', {
      permissionSetArn,
      accountId,
      userName: input.userName,
      ...errorFields(error),
    });
    await raiseFenceFailed(deps, input, reason);
    return { status: 'failed', reason };
  }
}

export interface UnfenceReport {
  /** Statements taken out. */
  unfenced: number;
  /** Provisionings followed to their end. */
  followed: number;
  failed: number;
  complete: boolean;
}

/**
 * The reconcile job's part: for each permission set with something due, follows its pending provisionings and
 * takes out the fences whose end + SessionDuration + 5 minutes has passed (then provisions each of their accounts
 * again). Works within `budget`; what it did not reach is still due.
 */
export async function unfenceDue(
  deps: Deps,
  now: Date,
  budget: TimeBudget = NO_BUDGET,
  opts: { poll?: PollPolicy } = {},
): Promise<UnfenceReport> {
  const report: UnfenceReport = { unfenced: 0, followed: 0, failed: 0, complete: true };
  const ports = deps.provisioning;
  if (!ports) return report;
  const poll = opts.poll ?? JOB_POLL;
  for await (const item of deps.store.stream(queries.fencesDue(now.toISOString()))) {
    if (budget.timeLeft() < budget.reserveMs) {
      report.complete = false;
      break;
    }
    const permissionSetArn = String(item.permissionSetArn);
    try {
      await followPending(deps, ports, permissionSetArn, report);
      await unfence(deps, ports, permissionSetArn, now, poll, report);
    } catch (error) {
      report.failed++;
      log('error', 'could not unfence', { permissionSetArn, ...errorFields(error) });
    }
  }
  if (report.unfenced || report.followed || report.failed) log('info', 'unfence done', { ...report });
  return report;
}

async function followPending(
  deps: Deps,
  ports: ProvisioningPorts,
  permissionSetArn: string,
  report: UnfenceReport,
): Promise<void> {
  const record = await readRecord(deps, permissionSetArn);
  const ended = new Set<string>();
  const started: PendingProvisioning[] = [];
  for (const p of record?.pending ?? []) {
    let status: OperationStatus;
    if (p.requestId === NOT_STARTED.requestId) {
      // Deferred (it met another provisioning in flight): provisioned again now, or still deferred.
      status = await provision(deps, ports, permissionSetArn, p.accountId, NO_WAIT);
      if (status.requestId === NOT_STARTED.requestId) continue;
      if (status.status === 'IN_PROGRESS') started.push({ ...p, requestId: status.requestId });
    } else {
      status = await ports.identityCenter.describeProvisioning(p.requestId);
      if (status.status === 'IN_PROGRESS') continue;
    }
    ended.add(pendingKey(p));
    if (status.status === 'IN_PROGRESS') continue;
    report.followed++;
    if (status.status === 'FAILED') {
      const reason = `provisioning ${permissionSetArn} to ${p.accountId} (${p.purpose}) FAILED: ${status.failureReason ?? 'no reason given'}`;
      const now = deps.clock.now();
      await raise(
        deps,
        {
          type: 'sessionFenceFailed',
          subject: `${permissionSetArn}|${p.accountId}|provisioning`,
          affected: [{ permissionSetArn, accountId: p.accountId, requestId: p.requestId, purpose: p.purpose }],
          details: { reason, at: now.toISOString() },
        },
        await readAlertSettings(deps),
      );
    }
  }
  if (ended.size === 0) return;
  await updateRecord(deps, permissionSetArn, (r) => ({
    fences: r.fences,
    pending: [...r.pending.filter((p) => !ended.has(pendingKey(p))), ...started],
  }));
}

async function unfence(
  deps: Deps,
  ports: ProvisioningPorts,
  permissionSetArn: string,
  now: Date,
  poll: PollPolicy,
  report: UnfenceReport,
): Promise<void> {
  const record = await readRecord(deps, permissionSetArn);
  const { due } = dueFences(record?.fences ?? [], now);
  if (due.length === 0) return;
  const next = await updateRecord(deps, permissionSetArn, (r) => ({
    // Only the fences read as due, unchanged since (a fence merged meanwhile has a later removal).
    fences: r.fences.filter((f) => !due.some((d) => sameFence(d, f) && d.removeAfter === f.removeAfter)),
    pending: r.pending,
  }));
  const gone = due.filter((d) => !next.fences.some((f) => sameFence(d, f)));
  await syncPolicy(deps, ports, permissionSetArn);
  const provisioned = new Map<string, OperationStatus>();
  for (const accountId of new Set(gone.map((f) => f.accountId))) {
    const status = await provision(deps, ports, permissionSetArn, accountId, poll);
    provisioned.set(accountId, status);
    if (status.status === 'IN_PROGRESS') {
      const pending: PendingProvisioning = {
        accountId,
        requestId: status.requestId,
        startedAt: deps.clock.now().toISOString(),
        purpose: 'unfence',
      };
      await updateRecord(deps, permissionSetArn, (r) => ({ fences: r.fences, pending: [...r.pending, pending] }));
    } else if (status.status === 'FAILED') {
      report.failed++;
      log(
        'warn',
        'provisioning after an unfence FAILED (the statement is out of the policy; the next provisioning applies it)',
        {
          permissionSetArn,
          accountId,
          reason: status.failureReason,
        },
      );
    }
  }
  const at = deps.clock.now();
  const events = gone.map((f) => {
    const status = provisioned.get(f.accountId);
    return ops.audit(
      auditEvent(
        at,
        SYSTEM_ACTOR,
        'session.unfenced',
        { principalId: f.principalId, requestId: f.requestId },
        {
          permissionSetArn,
          accountId: f.accountId,
          userName: f.userName,
          end: f.end,
          removeAfter: f.removeAfter,
          provisioning: status ? { requestId: status.requestId, status: status.status } : null,
        },
      ),
    );
  });
  for (let i = 0; i < events.length; i += 25) await deps.store.transact(events.slice(i, i + 25));
  report.unfenced += gone.length;
}
