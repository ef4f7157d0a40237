/** A request's status as a Cloudscape status indicator (the status's own word, read out as it is shown). */
import StatusIndicator, { type StatusIndicatorProps } from '@cloudscape-design/components/status-indicator';
import type { Request } from '../types.ts';

const KIND: Record<Request['status'], StatusIndicatorProps.Type> = {
  PendingApproval: 'pending',
  Scheduled: 'pending',
  Provisioning: 'in-progress',
  Granted: 'success',
  Denied: 'error',
  Canceled: 'stopped',
  TimedOut: 'stopped',
  Revoked: 'stopped',
  Failed: 'error',
};

export function RequestStatus({ status }: { status: Request['status'] }) {
  return <StatusIndicator type={KIND[status] ?? 'info'}>{status}</StatusIndicator>;
}
