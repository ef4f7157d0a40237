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
] as const;
