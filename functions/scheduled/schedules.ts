/**
 * The scheduled jobs: the single source that the CDK `Schedules` construct and the local runtime both read.
 * Plain data only (no handler code). Each `fn` is a Lambda function with the entry
 * `functions/scheduled/<fn>.ts` exporting `handler`; `expression` is an EventBridge schedule expression
 * (`rate(N minutes|hours|days)` or `cron(...)`, UTC).
 */
export const SCHEDULES = [
  {
    name: 'reconcile',
    fn: 'reconcile',
    expression: 'rate(5 minutes)',
    description:
      'expires what a workflow missed, starts what is due, times out stale approvals, sends expiry reminders',
  },
  {
    name: 'audit-export',
    fn: 'audit-export',
    expression: 'cron(15 0 * * ? *)',
    description: 'exports the previous UTC day of audit events to S3 (also runs the on-demand exports)',
  },
  {
    name: 'reviews',
    fn: 'reviews',
    expression: 'rate(1 hour)',
    description:
      'access reviews: starts due instances and their decision items, reminds halfway, completes, fills defaults, applies',
  },
  {
    name: 'alerts',
    fn: 'alerts',
    expression: 'rate(1 hour)',
    description: 'security alerts: raises an alert per cause found, resolves those whose cause has gone',
  },
  {
    name: 'digest',
    fn: 'digest',
    expression: 'cron(0 8 ? * MON *)',
    description: 'the weekly digest to administrators (Monday 08:00 UTC)',
  },
  {
    name: 'organization-sync',
    fn: 'organization-sync',
    expression: 'rate(1 hour)',
    description: 'copies the AWS Organizations tree (root, OUs, accounts) into the table: what /ous/<id> scopes cover',
  },
  {
    name: 'drift',
    fn: 'drift',
    expression: 'rate(1 hour)',
    description:
      'assignments of managed permission sets and groups that no live grant backs: alert assignedOutsideElevate (or remove)',
  },
] as const;

/**
 * Each scheduled function's timeout in seconds (Lambda's own limit, 900 at most), read by the CDK stack and by the
 * local runtime's Lambda context alike, so a job's time budget is the same in both: the audit export of a busy day
 * and a review campaign stream for minutes; the others end well before their next run.
 */
export const SCHEDULE_TIMEOUT_SECONDS: Readonly<Record<(typeof SCHEDULES)[number]['name'], number>> = {
  reconcile: 60,
  'audit-export': 900,
  reviews: 900,
  alerts: 60,
  digest: 60,
  'organization-sync': 60,
  // Lists every account each managed permission set is provisioned to; goes on from where a cut-short run stopped.
  drift: 300,
};
