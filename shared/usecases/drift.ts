import type { Clock } from '../clock.ts';
import type { Deps, ProvisioningPorts } from '../deps.ts';
import { SYSTEM_ACTOR } from '../domain/audit.ts';
import {
  assignmentKey,
  backsNow,
  DRIFT_GRACE_MS,
  type DriftUnit,
  membershipKey,
  recordedKeys,
  refBacks,
  unitKey,
} from '../domain/drift.ts';
import { refIdOf } from '../domain/provisioning.ts';
import type { Target } from '../domain/targets.ts';
import { errorFields, log } from '../log.ts';
import type { AccountAssignment } from '../ports/identity-center.ts';
import { type AlertRecord, keys, ops, queries, stored } from '../store/records.ts';
import { alertId, raise, readAlertSettings, resolveAlert } from './alerts.ts';
import { toAssignment } from './assignments.ts';
import { NO_BUDGET, type TimeBudget } from './audit.ts';
import { auditEvent } from './context.ts';
import { JOB_POLL, type PollPolicy } from './fence.ts';

/**
 * The `drift` job (hourly; provisioning.md, "Drift"; the rules are shared/domain/drift.ts). For every managed
 * permission set (named in any role's targets), in every account it is provisioned to, and every managed group, it
 * lists what AWS has and raises `assignedOutsideElevate` (high) for each account assignment or membership that no
 * live Elevate grant backs; in `remove` mode it also deletes it (a deletion is polled until it ends) and audits
 * `drift.removed`, after checking once more, just before, that no grant backs it now. An alert whose cause has gone
 * is resolved by the run that looks at its unit again.
 *
 * Works a unit (a permission set in one account, or a group) at a time within `budget`; a run cut short keeps
 * where it stopped (job progress `drift`) and the next run goes on from there.
 */
export interface DriftReport {
  units: number;
  found: number;
  removed: number;
  resolved: number;
  failed: number;
  complete: boolean;
}

const JOB = 'drift';

interface Managed {
  /** The roles whose targets name each permission set / group. */
  permissionSets: Map<string, Set<string>>;
  groups: Map<string, Set<string>>;
  targets: Map<string, Target[]>;
}

async function managedTargets(deps: Deps): Promise<Managed> {
  const roleIds: string[] = [];
  for await (const item of deps.store.stream(queries.roles())) roleIds.push(String(item.id));
  const records = (await deps.store.getMany(roleIds.map((id) => keys.targets(id)))).map(stored.targets.fromItem);
  const managed: Managed = { permissionSets: new Map(), groups: new Map(), targets: new Map() };
  for (const r of records) {
    if (r.targets.length === 0) continue;
    managed.targets.set(r.roleId, r.targets);
    for (const t of r.targets) {
      const [map, key] =
        t.type === 'identityCenterAccountAssignment'
          ? [managed.permissionSets, t.permissionSetArn]
          : [managed.groups, t.groupId];
      map.set(key, (map.get(key) ?? new Set()).add(r.roleId));
    }
  }
  return managed;
}

/**
 * What backs findings besides their reference items (heldRefs): the grants that ended within the grace, by the
 * targets recorded on them (their removal is in flight). A grant held by a group records a set of targets per
 * member (group-provisioning.ts), held like any grant's: it needs nothing more here.
 */
async function backing(deps: Deps, now: Date): Promise<Set<string>> {
  const keysBacked = new Set<string>();
  const from = new Date(now.getTime() - DRIFT_GRACE_MS).toISOString();
  for (const status of ['Expired', 'Revoked']) {
    for await (const item of deps.store.stream(queries.assignmentsEndedBetween(status, from, '9999'))) {
      const a = toAssignment(item);
      if (a.provisioning && backsNow(a, now)) for (const k of recordedKeys(a.provisioning.targets)) keysBacked.add(k);
    }
  }
  return keysBacked;
}

/** The findings (by key) whose reference item shows a live grant holding them or Elevate's operation in flight. */
async function heldRefs(deps: Deps, found: readonly Found[]): Promise<Set<string>> {
  const byRef = new Map<string, string>();
  for (const f of found) {
    if (f.kind === 'membership') {
      byRef.set(
        refIdOf({
          type: 'identityCenterGroupMembership',
          groupId: f.groupId,
          accountId: null,
          identityCenterUserId: f.userId,
        }),
        f.key,
      );
    } else if (f.assignment.principalType === 'USER') {
      byRef.set(
        refIdOf({
          type: 'identityCenterAccountAssignment',
          permissionSetArn: f.assignment.permissionSetArn,
          accountId: f.assignment.accountId,
          identityCenterUserId: f.assignment.principalId,
        }),
        f.key,
      );
    }
  }
  const held = new Set<string>();
  const items = await deps.store.getMany([...byRef.keys()].map((refId) => keys.awsRef(refId)));
  for (const item of items) {
    const ref = stored.awsRef.fromItem(item);
    const key = byRef.get(ref.refId);
    if (key && refBacks(ref)) held.add(key);
  }
  return held;
}

/** One thing in AWS that a unit lists: an account assignment (user or group) or a group membership. */
type Found =
  | { kind: 'assignment'; key: string; assignment: AccountAssignment }
  | { kind: 'membership'; key: string; groupId: string; userId: string; membershipId: string };

async function listUnit(ports: ProvisioningPorts, unit: DriftUnit): Promise<Found[]> {
  if (unit.kind === 'accountAssignments') {
    const found = await ports.identityCenter.listAccountAssignments(unit.accountId, unit.permissionSetArn);
    return found.map((a) => ({
      kind: 'assignment',
      // A group's assignment is never one Elevate made: its key names no user a grant could back.
      key:
        a.principalType === 'USER'
          ? assignmentKey(a.permissionSetArn, a.accountId, a.principalId)
          : `ps|${a.permissionSetArn}|${a.accountId}|GROUP:${a.principalId}`,
      assignment: a,
    }));
  }
  const members = await ports.identityStore.listMemberships(unit.groupId);
  return members.map((m) => ({
    kind: 'membership',
    key: membershipKey(m.groupId, m.userId),
    groupId: m.groupId,
    userId: m.userId,
    membershipId: m.membershipId,
  }));
}

const describeFound = (f: Found): Record<string, unknown> =>
  f.kind === 'assignment'
    ? {
        type: 'identityCenterAccountAssignment',
        permissionSetArn: f.assignment.permissionSetArn,
        accountId: f.assignment.accountId,
        principalType: f.assignment.principalType,
        principalId: f.assignment.principalId,
      }
    : { type: 'identityCenterGroupMembership', groupId: f.groupId, userId: f.userId };

/** Deletes what drift found (an assignment: polled until its deletion ends). */
async function remove(
  ports: ProvisioningPorts,
  f: Found,
  poll: PollPolicy,
  clock: Clock,
): Promise<{ status: string; reason: string | null }> {
  if (f.kind === 'membership') {
    await ports.identityStore.deleteMembership(f.membershipId);
    return { status: 'SUCCEEDED', reason: null };
  }
  let status = await ports.identityCenter.deleteAccountAssignment(f.assignment);
  const sleep = poll.sleep ?? ((ms: number) => clock.sleep(ms));
  for (let attempt = 0; status.status === 'IN_PROGRESS' && attempt < poll.attempts; attempt++) {
    await sleep(Math.min(poll.maxDelayMs, poll.baseDelayMs * 2 ** attempt));
    status = await ports.identityCenter.describeAssignmentDeletion(status.requestId);
  }
  return { status: status.status, reason: status.failureReason };
}

/** The units of a run, in their fixed order: each managed permission set × the accounts it is provisioned to, each managed group. */
async function driftUnits(ports: ProvisioningPorts, managed: Managed): Promise<DriftUnit[]> {
  const units: DriftUnit[] = [];
  for (const permissionSetArn of [...managed.permissionSets.keys()].sort()) {
    for (const accountId of (await ports.identityCenter.listAccountsForPermissionSet(permissionSetArn)).sort()) {
      units.push({ kind: 'accountAssignments', permissionSetArn, accountId });
    }
  }
  for (const groupId of [...managed.groups.keys()].sort()) units.push({ kind: 'groupMemberships', groupId });
  return units;
}

/** The drift alerts standing now, by unit (each is resolved by the run that looks at its unit again). */
async function standingAlerts(deps: Deps): Promise<Map<string, AlertRecord[]>> {
  const standing = new Map<string, AlertRecord[]>();
  for (const status of ['active', 'dismissed']) {
    for await (const item of deps.store.stream(queries.alerts(status))) {
      const alert = stored.alert.fromItem(item);
      if (alert.type !== 'assignedOutsideElevate') continue;
      const unit = String(alert.details.unit ?? '');
      standing.set(unit, [...(standing.get(unit) ?? []), alert]);
    }
  }
  return standing;
}

type UnitContext = {
  backed: Set<string>;
  managed: Managed;
  mode: 'alert' | 'remove';
  poll: PollPolicy;
  standing: Map<string, AlertRecord[]>;
  report: DriftReport;
  budget: TimeBudget;
};

/** Looks at the units from `start` on while time is left; the key of the last unit looked at. */
async function driftOfUnits(
  deps: Deps,
  ports: ProvisioningPorts,
  units: DriftUnit[],
  ctx: UnitContext,
  after: string | undefined,
): Promise<string | undefined> {
  let last = after;
  for (const unit of units) {
    if (ctx.budget.timeLeft() < ctx.budget.reserveMs) {
      ctx.report.complete = false;
      break;
    }
    const key = unitKey(unit);
    try {
      if (!(await driftOfUnit(deps, ports, unit, ctx))) {
        // Out of time inside the unit: the next run looks at it again from its start.
        ctx.report.complete = false;
        break;
      }
    } catch (error) {
      ctx.report.failed++;
      log('error', 'drift: could not check a unit', { unit: key, ...errorFields(error) });
    }
    ctx.report.units++;
    last = key;
  }
  return last;
}

export async function detectDrift(
  deps: Deps,
  budget: TimeBudget = NO_BUDGET,
  opts: { poll?: PollPolicy } = {},
): Promise<DriftReport> {
  const report: DriftReport = { units: 0, found: 0, removed: 0, resolved: 0, failed: 0, complete: true };
  const ports = deps.provisioning;
  if (!ports) return report;
  const settings = await readAlertSettings(deps);
  const { enabled, mode } = settings.assignedOutsideElevate;
  if (!enabled) return report;
  const now = deps.clock.now();
  const managed = await managedTargets(deps);
  const units = await driftUnits(ports, managed);

  const progress = (await deps.store.get(keys.jobProgress(JOB)))?.progress as { after?: string } | undefined;
  const after = progress?.after;
  const order = units.map(unitKey);
  const start = after ? order.indexOf(after) + 1 : 0;
  const standing = await standingAlerts(deps);

  const backed = await backing(deps, now);
  const poll = opts.poll ?? JOB_POLL;
  const ctx: UnitContext = { backed, managed, mode, poll, standing, report, budget };
  const last = await driftOfUnits(deps, ports, units.slice(start), ctx, after);
  if (report.complete) {
    // The units that are gone (a permission set or group no longer managed): their alerts' cause is gone too.
    const current = new Set(order);
    for (const [unit, alerts] of standing) {
      if (current.has(unit)) continue;
      for (const a of alerts) if (await resolveAlert(deps, a.id)) report.resolved++;
    }
    await deps.store.transact([ops.deleteJobProgress(JOB)]);
  } else {
    await deps.store.transact([ops.putJobProgress(JOB, { after: last ?? null })]);
  }
  log('info', 'drift done', { ...report, mode });
  return report;
}

/** What a unit has in AWS that no grant backs (in `remove` mode, checked once more, fresh, just before removing). */
async function unbacked(deps: Deps, ports: ProvisioningPorts, unit: DriftUnit, ctx: UnitContext): Promise<Found[]> {
  const listed = (await listUnit(ports, unit)).filter((f) => !ctx.backed.has(f.key));
  const held = await heldRefs(deps, listed);
  const found = listed.filter((f) => !held.has(f.key));
  if (!found.length || ctx.mode !== 'remove') return found;
  // A grant made since the run began holds what it provisions.
  const stillBacked = await backing(deps, deps.clock.now());
  for (const k of await heldRefs(deps, found)) stillBacked.add(k);
  return found.filter((f) => !stillBacked.has(f.key));
}

/** In `remove` mode, deletes what was found and audits it; null in `alert` mode. */
async function removeFound(
  deps: Deps,
  ports: ProvisioningPorts,
  f: Found,
  what: Record<string, unknown>,
  unitKeyOf: string,
  ctx: UnitContext,
): Promise<{ status: string; reason: string | null } | null> {
  if (ctx.mode !== 'remove') return null;
  let removal: { status: string; reason: string | null };
  try {
    removal = await remove(ports, f, ctx.poll, deps.clock);
  } catch (error) {
    removal = { status: 'FAILED', reason: error instanceof Error ? error.message : String(error) };
  }
  // IN_PROGRESS: AWS is deleting it (the poll stopped waiting); the next run sees it gone.
  if (removal.status === 'FAILED') ctx.report.failed++;
  else ctx.report.removed++;
  await deps.store.transact([
    ops.audit(
      auditEvent(deps.clock.now(), SYSTEM_ACTOR, 'drift.removed', {}, { ...what, unit: unitKeyOf, ...removal }),
    ),
  ]);
  return removal;
}

async function driftOfUnit(deps: Deps, ports: ProvisioningPorts, unit: DriftUnit, ctx: UnitContext): Promise<boolean> {
  const key = unitKey(unit);
  const found = await unbacked(deps, ports, unit, ctx);
  const raised = new Set<string>();
  const settings = await readAlertSettings(deps);
  for (const f of found) {
    if (ctx.budget.timeLeft() < ctx.budget.reserveMs) return false;
    ctx.report.found++;
    const what = describeFound(f);
    const removal = await removeFound(deps, ports, f, what, key, ctx);
    const subject = f.key;
    raised.add(alertId('assignedOutsideElevate', subject));
    await raise(
      deps,
      {
        type: 'assignedOutsideElevate',
        subject,
        affected: [what],
        details: {
          unit: key,
          mode: ctx.mode,
          removed: removal !== null && removal.status !== 'FAILED',
          ...(removal?.status === 'FAILED' ? { removeFailed: removal } : {}),
        },
      },
      settings,
    );
  }
  for (const alert of ctx.standing.get(key) ?? []) {
    if (raised.has(alert.id)) continue;
    if (await resolveAlert(deps, alert.id)) ctx.report.resolved++;
  }
  return true;
}
