import { createHash } from 'node:crypto';
import type { Deps } from '../deps.ts';
import {
  type AlertSettings,
  AlertSettings as AlertSettingsSchema,
  type AlertType,
  alertSeverity,
  boundedAffected,
  checkDismissable,
  defaultAlertSettings,
  type Finding,
  nextAlertStatus,
  overThreshold,
  SCANNED_ALERT_TYPES,
  withDefaults,
} from '../domain/alerts.ts';
import { type Assignment, effectiveStatus } from '../domain/assignment.ts';
import { type AuditEvent, SYSTEM_ACTOR } from '../domain/audit.ts';
import { durationMs } from '../domain/duration.ts';
import { DomainError, notFound } from '../domain/errors.ts';
import type { RolePolicy } from '../domain/policy.ts';
import { errorFields, log } from '../log.ts';
import { alertRaised } from '../notifications/templates.ts';
import { type AlertRecord, keys, ops, queries, stored } from '../store/records.ts';
import type { Page } from '../store/store.ts';
import { lastActivations, toAssignment } from './assignments.ts';
import { forEachAuditEvent, NO_BUDGET, type TimeBudget } from './audit.ts';
import { auditEvent, type CallContext } from './context.ts';
import { runEffects } from './effects.ts';

/**
 * Security alerts: an hourly scan finds each type's causes, raises an alert per cause, and resolves alerts
 * whose cause has gone. A raised alert of high severity mails the admins at once; the rest go in the digest.
 */
export const alertId = (type: string, subject: string) =>
  `${type}-${createHash('sha256').update(subject).digest('hex').slice(0, 12)}`;

export async function readAlertSettings(deps: Pick<Deps, 'store'>): Promise<AlertSettings> {
  const item = await deps.store.get(keys.alertSettings(), false);
  const parsed = AlertSettingsSchema.safeParse(withDefaults(item && stored.alertSettings.fromItem(item).settings));
  return parsed.success ? parsed.data : defaultAlertSettings();
}

export async function putAlertSettings(ctx: CallContext, settings: AlertSettings): Promise<AlertSettings> {
  const old = await readAlertSettings(ctx.deps);
  await ctx.store.transact([
    ops.putAlertSettings(settings),
    ctx.audit('alertSettings.updated', {}, { old, new: settings }),
  ]);
  return settings;
}

export const presentAlert = (a: AlertRecord) => {
  const { version: _v, ...rest } = a;
  return rest;
};

export async function listAlerts(
  ctx: CallContext,
  status: string | undefined,
  page: { limit: number; nextToken?: string | undefined },
): Promise<Page<ReturnType<typeof presentAlert>>> {
  return ctx.store.page([queries.alerts(status)], {
    ...page,
    map: (item) => presentAlert(stored.alert.fromItem(item)),
  });
}

export async function dismissAlert(ctx: CallContext, id: string): Promise<ReturnType<typeof presentAlert>> {
  const item = await ctx.store.get(keys.alert(id));
  if (!item) throw notFound(`alert '${id}'`);
  const alert = stored.alert.fromItem(item);
  checkDismissable(alert);
  const dismissed: AlertRecord = {
    ...alert,
    status: 'dismissed',
    updatedAt: ctx.now.toISOString(),
    version: alert.version + 1,
  };
  await ctx.store.transact([
    ops.putAlert(dismissed, alert.version),
    ctx.audit('alert.dismissed', {}, { alertId: id, type: alert.type }),
  ]);
  return presentAlert(dismissed);
}

/** Raises or refreshes one alert now (the scan, and write-time causes such as a missed expiry). */
export async function raise(
  deps: Deps,
  finding: Finding,
  settings: AlertSettings,
): Promise<'raised' | 'updated' | 'kept'> {
  const now = deps.clock.now();
  const id = alertId(finding.type, finding.subject);
  const item = await deps.store.get(keys.alert(id));
  const current = item ? stored.alert.fromItem(item) : undefined;
  const next = nextAlertStatus(current, true);
  if (next === 'keep') return 'kept';
  const nowIso = now.toISOString();
  const severity = alertSeverity(settings, finding.type);
  const alert: AlertRecord = {
    id,
    type: finding.type,
    severity,
    status: 'active',
    detectedAt: next === 'raise' ? nowIso : (current?.detectedAt ?? nowIso),
    updatedAt: nowIso,
    ...boundedAffected(finding.affected),
    details: { subject: finding.subject, ...finding.details },
    version: (current?.version ?? 0) + 1,
  };
  const writes = [ops.putAlert(alert, current ? current.version : null)];
  if (next === 'raise')
    writes.push(
      ops.audit(
        auditEvent(
          now,
          SYSTEM_ACTOR,
          'alert.raised',
          {},
          { alertId: id, type: finding.type, severity, subject: finding.subject },
        ),
      ),
    );
  await deps.store.transact(writes);
  if (next === 'raise' && severity === 'high') {
    await runEffects(deps, [
      {
        kind: 'mail',
        to: { admins: true },
        mail: alertRaised(finding.type, severity, nowIso, alert.affected, alert.affectedCount),
      },
    ]);
  }
  return next === 'raise' ? 'raised' : 'updated';
}

/**
 * Resolves an active (or dismissed) alert whose cause has gone, for the types raised where their cause happens
 * (SCANNED_ALERT_TYPES are resolved by the scan). False when there is none to resolve.
 */
export async function resolveAlert(deps: Deps, id: string): Promise<boolean> {
  const item = await deps.store.get(keys.alert(id));
  if (!item) return false;
  const alert = stored.alert.fromItem(item);
  if (alert.status === 'resolved') return false;
  const now = deps.clock.now();
  await deps.store.transact([
    ops.putAlert(
      { ...alert, status: 'resolved', updatedAt: now.toISOString(), version: alert.version + 1 },
      alert.version,
    ),
    ops.audit(auditEvent(now, SYSTEM_ACTOR, 'alert.resolved', {}, { alertId: alert.id, type: alert.type })),
  ]);
  return true;
}

/** The hourly scan. */
export async function scanAlerts(
  deps: Deps,
  budget: TimeBudget = NO_BUDGET,
): Promise<{ raised: number; resolved: number; active: number; complete: boolean }> {
  const settings = await readAlertSettings(deps);
  const progress = await deps.store.get(keys.jobProgress('alerts'));
  // The job's own record of its progress, in the shape it wrote.
  const saved = progress && (stored.jobProgress.fromItem(progress).progress as ScanProgress);
  // A run that goes on from a cut-short one scans the same audit window, from where that one stopped.
  const scan: Scan = {
    complete: true,
    saved,
    next: { at: saved?.at ?? deps.clock.now().toISOString(), streams: {} },
  };
  const findings = await findCauses(deps, settings, budget, scan);
  await deps.store.transact([
    scan.complete ? ops.deleteJobProgress('alerts') : ops.putJobProgress('alerts', { ...scan.next }),
  ]);
  const found = new Set(findings.map((f) => alertId(f.type, f.subject)));
  let raised = 0;
  let failed = 0;
  for (const f of findings) {
    // One finding that cannot be written never keeps the others (an emergencyAccountUsed among them) unraised.
    try {
      if ((await raise(deps, f, settings)) === 'raised') raised++;
    } catch (error) {
      failed++;
      log(error instanceof DomainError ? 'warn' : 'error', 'could not raise an alert', {
        type: f.type,
        subject: f.subject,
        ...errorFields(error),
      });
    }
  }
  let resolved = 0;
  const now = deps.clock.now();
  // An alert is resolved only by a scan that saw everything (one cut short by its time budget resolves nothing).
  for await (const item of scan.complete ? deps.store.stream(queries.alerts()) : []) {
    const alert = stored.alert.fromItem(item);
    if (found.has(alert.id) || alert.status === 'resolved') continue;
    if (!SCANNED_ALERT_TYPES.has(alert.type as AlertType)) continue;
    const next: AlertRecord = {
      ...alert,
      status: 'resolved',
      updatedAt: now.toISOString(),
      version: alert.version + 1,
    };
    try {
      await deps.store.transact([
        ops.putAlert(next, alert.version),
        ops.audit(auditEvent(now, SYSTEM_ACTOR, 'alert.resolved', {}, { alertId: alert.id, type: alert.type })),
      ]);
      resolved++;
    } catch (error) {
      failed++;
      log(error instanceof DomainError ? 'warn' : 'error', 'could not resolve an alert', {
        alertId: alert.id,
        ...errorFields(error),
      });
    }
  }
  log('info', 'alerts scan done', { findings: findings.length, raised, resolved, failed, complete: scan.complete });
  return { raised, resolved, active: found.size, complete: scan.complete };
}

/** Where a cut-short scan stopped in each of its audit streams, and what it had counted (the `alerts` job progress). */
interface ScanProgress {
  /** The time the scan's windows end at (the first, cut-short run's). */
  at: string;
  streams: Record<string, { after?: string | undefined; done: boolean; state: unknown }>;
}
interface Scan {
  complete: boolean;
  saved: ScanProgress | undefined;
  next: ScanProgress;
}

/**
 * Streams the window's audit events (a page at a time) to `visit` those of one action, going on from where a
 * cut-short run stopped (with what it had counted: `state`); notes an early stop and the position reached.
 */
async function auditEventsOf<S>(
  deps: Deps,
  action: string,
  from: Date,
  to: Date,
  budget: TimeBudget,
  scan: Scan,
  initial: S,
  visit: (state: S, e: AuditEvent) => void,
): Promise<S> {
  const saved = scan.saved?.streams[action];
  const state = saved ? (saved.state as S) : initial;
  if (saved?.done) {
    scan.next.streams[action] = saved;
    return state;
  }
  const { complete, last } = await forEachAuditEvent(
    deps.store,
    from.toISOString(),
    to.toISOString(),
    (e) => {
      if (e.action === action) visit(state, e);
    },
    budget,
    saved?.after,
  );
  scan.next.streams[action] = { after: last, done: complete, state };
  if (!complete) scan.complete = false;
  return state;
}

async function findCauses(deps: Deps, s: AlertSettings, budget: TimeBudget, scan: Scan): Promise<Finding[]> {
  const now = deps.clock.now();
  const windowEnd = new Date(scan.next.at);
  const findings: Finding[] = [];
  const roles = (await deps.store.all(queries.roles(), false)).map((i) => stored.role.fromItem(i));
  const privileged = new Set(roles.filter((r) => r.privileged).map((r) => r.id));

  if (s.roleWithoutMfa.enabled && privileged.size) findings.push(...(await rolesWithoutMfa(deps, privileged)));
  if (s.tooManyPermanentAssignments.enabled) {
    const permanent = (await deps.store.all(queries.permanentActive(), false))
      .map(toAssignment)
      .filter((a) => a.assignmentType === 'active' && privileged.has(a.roleId) && effectiveStatus(a, now) === 'Active');
    if (permanent.length > s.tooManyPermanentAssignments.threshold) {
      findings.push({
        type: 'tooManyPermanentAssignments',
        subject: 'privileged',
        affected: permanent.map((a) => ({ assignmentId: a.id, principalId: a.principalId, roleId: a.roleId })),
        details: { count: permanent.length, threshold: s.tooManyPermanentAssignments.threshold },
      });
    }
  }
  if (s.activatedTooFrequently.enabled) {
    const from = new Date(windowEnd.getTime() - durationMs(s.activatedTooFrequently.window));
    // Counted per principal and role as the events stream by (memory: one count per pair, not the events).
    const counts = await auditEventsOf<Record<string, number>>(
      deps,
      'assignment.activated',
      from,
      windowEnd,
      budget,
      scan,
      {},
      (c, e) => {
        const key = `${e.target.principalId}#${e.target.roleId}`;
        c[key] = (c[key] ?? 0) + 1;
      },
    );
    for (const [key, count] of overThreshold(new Map(Object.entries(counts)), s.activatedTooFrequently.threshold)) {
      const [principalId, roleId] = key.split('#');
      findings.push({
        type: 'activatedTooFrequently',
        subject: key,
        affected: [{ principalId, roleId }],
        details: { count, window: s.activatedTooFrequently.window },
      });
    }
  }
  if (s.staleEligibility.enabled) findings.push(...(await staleEligibilities(deps, s, privileged, now)));
  if (s.emergencyAccountUsed.enabled) findings.push(...(await emergencyAccountsUsed(deps, s, now)));
  if (s.expiryMissed.enabled) {
    const from = new Date(windowEnd.getTime() - durationMs(s.expiryMissed.window));
    const missed = await auditEventsOf<Record<string, unknown>[]>(
      deps,
      'alert.expiryMissed',
      from,
      windowEnd,
      budget,
      scan,
      [],
      (m, e) => {
        m.push({ assignmentId: e.target.assignmentId, principalId: e.target.principalId, roleId: e.target.roleId });
      },
    );
    if (missed.length) {
      findings.push({
        type: 'expiryMissed',
        subject: 'all',
        affected: missed,
        details: { count: missed.length, window: s.expiryMissed.window },
      });
    }
  }
  if (s.provisioningFailed.enabled) {
    // Raised by the workflow as it sees the failure; kept while a failure is within the window.
    const from = new Date(windowEnd.getTime() - durationMs(s.provisioningFailed.window));
    const failed = await auditEventsOf<Record<string, unknown>[]>(
      deps,
      'assignment.provisioningFailed',
      from,
      windowEnd,
      budget,
      scan,
      [],
      (m, e) => {
        m.push({
          assignmentId: e.target.assignmentId,
          principalId: e.target.principalId,
          roleId: e.target.roleId,
          scope: e.target.scope,
          failureReason: e.details.failureReason ?? null,
        });
      },
    );
    for (const { failureReason, ...f } of failed) {
      findings.push({
        type: 'provisioningFailed',
        subject: String(f.assignmentId),
        affected: [f],
        details: { failureReason },
      });
    }
  }
  return findings;
}

/** roleWithoutMfa: a privileged role whose policy (at `/` or at any scope of its own) lets it be activated without MFA. */
async function rolesWithoutMfa(deps: Deps, privileged: Set<string>): Promise<Finding[]> {
  const findings: Finding[] = [];
  const policies = await deps.store.getMany([...privileged].map((id) => keys.policy(id)));
  for (const p of policies.map((i) => stored.policy.fromItem(i))) {
    const scoped = p.scopes?.length
      ? (await deps.store.getMany(p.scopes.map((s) => keys.scopedPolicy(p.roleId, s)))).map(
          stored.scopedPolicy.fromItem,
        )
      : [];
    const without = [{ scope: '/', policy: p.policy }, ...scoped]
      .filter((x) => !(x.policy as RolePolicy).activation.requireMfa)
      .map((x) => x.scope)
      .sort();
    if (without.length > 0) {
      findings.push({
        type: 'roleWithoutMfa',
        subject: p.roleId,
        affected: [{ roleId: p.roleId }],
        details: {
          reason: 'the privileged role can be activated without MFA',
          ...(without.length === 1 && without[0] === '/' ? {} : { scopes: without }),
        },
      });
    }
  }
  return findings;
}

/** staleEligibility: privileged eligibilities older than the threshold and not activated since. */
async function staleEligibilities(
  deps: Deps,
  s: AlertSettings,
  privileged: Set<string>,
  now: Date,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const cutoff = new Date(now.getTime() - s.staleEligibility.days * 86_400_000);
  const eligible = (await deps.store.all(queries.assignmentsByStatus('Active'), false))
    .map(toAssignment)
    .filter(
      (a: Assignment) =>
        a.assignmentType === 'eligible' && privileged.has(a.roleId) && a.createdAt < cutoff.toISOString(),
    );
  const lastUse = await lastActivations(deps.store, eligible);
  const stale = eligible.filter((a) => (lastUse.get(a.id) ?? '') < cutoff.toISOString());
  if (stale.length) {
    findings.push({
      type: 'staleEligibility',
      subject: 'privileged',
      affected: stale.map((a) => ({
        assignmentId: a.id,
        principalId: a.principalId,
        roleId: a.roleId,
        lastActivatedAt: lastUse.get(a.id) ?? null,
      })),
      details: { days: s.staleEligibility.days },
    });
  }
  return findings;
}

/** emergencyAccountUsed: a break-glass admin acted within the window. */
async function emergencyAccountsUsed(deps: Deps, s: AlertSettings, now: Date): Promise<Finding[]> {
  const findings: Finding[] = [];
  const from = new Date(now.getTime() - durationMs(s.emergencyAccountUsed.window)).toISOString();
  for (const adminId of deps.config.bootstrapAdmins) {
    let acts = 0;
    for await (const _ of deps.store.stream(queries.audit({ actorId: adminId }, from, now.toISOString()))) acts++;
    if (acts) {
      findings.push({
        type: 'emergencyAccountUsed',
        subject: adminId,
        affected: [{ principalId: adminId }],
        details: { actions: acts, window: s.emergencyAccountUsed.window },
      });
    }
  }
  return findings;
}
