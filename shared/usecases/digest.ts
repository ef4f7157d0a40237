import type { Deps } from '../deps.ts';
import { log } from '../log.ts';
import * as mail from '../notifications/templates.ts';
import { keys, ops, queries, reviewQueries, stored } from '../store/records.ts';
import { forEachAuditEvent, NO_BUDGET, type TimeBudget } from './audit.ts';
import { runEffects } from './effects.ts';

/**
 * The weekly digest to administrators: activations per role, new and removed assignments, pending approvals,
 * open reviews and active alerts over the last 7 days. Read-only; the mail is its only effect.
 */
export interface Digest {
  from: string;
  to: string;
  activationsPerRole: Record<string, number>;
  assigned: number;
  removed: number;
  pendingApprovals: number;
  openReviews: number;
  activeAlerts: { id: string; type: string; severity: string }[];
  /**
   * False when the run's time ran out before every event of the week was counted: it then keeps its progress, sends
   * nothing, and the next run goes on counting the same week from there and sends the whole digest.
   */
  complete: boolean;
}

/** A cut-short digest's progress: its week, its position in the audit stream and its counts so far. */
interface DigestProgress {
  to: string;
  after?: string | undefined;
  activated: Record<string, number>;
  assigned: number;
  removed: number;
}

export async function weeklyDigest(deps: Deps, budget: TimeBudget = NO_BUDGET): Promise<Digest> {
  const progress = await deps.store.get(keys.jobProgress('digest'));
  // The job's own record of its progress, in the shape it wrote.
  const saved = progress && (stored.jobProgress.fromItem(progress).progress as DigestProgress);
  const to = saved?.to ?? deps.clock.now().toISOString();
  const from = new Date(Date.parse(to) - 7 * 86_400_000).toISOString();
  const counts: DigestProgress = saved ?? { to, activated: {}, assigned: 0, removed: 0 };
  // Streamed and counted (memory holds one page and a count per role, whatever the week's volume), from where a
  // cut-short run stopped.
  const { complete, last } = await forEachAuditEvent(
    deps.store,
    from,
    to,
    (e) => {
      if (e.action === 'assignment.activated' && e.target.roleId)
        counts.activated[e.target.roleId] = (counts.activated[e.target.roleId] ?? 0) + 1;
      else if (e.action === 'assignment.assigned') counts.assigned++;
      else if (e.action === 'assignment.revoked') counts.removed++;
    },
    budget,
    saved?.after,
  );
  const pending = await deps.store.all(queries.requestsByStatus('PendingApproval'), false);
  const alerts = (await deps.store.all(queries.alerts('active'), false)).map((i) => stored.alert.fromItem(i));
  const openReviews = await countOpenReviews(deps);
  const digest: Digest = {
    from,
    to,
    activationsPerRole: Object.fromEntries(Object.entries(counts.activated).sort(([, a], [, b]) => b - a)),
    assigned: counts.assigned,
    removed: counts.removed,
    pendingApprovals: pending.length,
    openReviews,
    activeAlerts: alerts.map((a) => ({ id: a.id, type: a.type, severity: a.severity })),
    complete,
  };
  if (!complete) {
    await deps.store.transact([ops.putJobProgress('digest', { ...counts, after: last })]);
    log('info', 'digest cut short by its time budget; the next run goes on', { after: last });
    return digest;
  }
  if (saved) await deps.store.transact([ops.deleteJobProgress('digest')]);
  const lines = [
    `Elevate, ${from.slice(0, 10)} to ${to.slice(0, 10)}`,
    '',
    'Activations per role:',
    ...(Object.keys(digest.activationsPerRole).length
      ? Object.entries(digest.activationsPerRole).map(([r, n]) => `  ${r}: ${n}`)
      : ['  none']),
    `New assignments: ${digest.assigned}`,
    `Removed assignments: ${digest.removed}`,
    `Pending approvals: ${digest.pendingApprovals}`,
    `Open access reviews: ${digest.openReviews}`,
    `Active alerts: ${digest.activeAlerts.length}`,
    ...digest.activeAlerts.map((a) => `  ${a.severity} ${a.type} (${a.id})`),
  ];
  await runEffects(deps, [
    {
      kind: 'mail',
      to: { admins: true },
      mail: mail.digest(`Elevate weekly digest: ${digest.activeAlerts.length} active alert(s)`, lines),
    },
  ]);
  log('info', 'digest sent', { alerts: digest.activeAlerts.length, pending: digest.pendingApprovals });
  return digest;
}

/** Access review instances still in progress (from the sparse index of instances the review job works on). */
async function countOpenReviews(deps: Deps): Promise<number> {
  const items = await deps.store.all(reviewQueries.instancesAtWork(), false);
  return items.filter((i) => i.status === 'InProgress').length;
}
