/** "My requests": the caller's requests, newest first, with their status and approval progress; cancel while pending. */
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import Header from '@cloudscape-design/components/header';
import Link from '@cloudscape-design/components/link';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Table from '@cloudscape-design/components/table';
import type { Page } from '../api.ts';
import { useConsole, usePolled } from '../app/context.tsx';
import { approvalProgress } from '../components/decision.tsx';
import { ErrorText, useAction } from '../components/outcome.tsx';
import { RequestStatus } from '../components/status.tsx';
import { formatDate } from '../format.ts';
import type { Request } from '../types.ts';

function CancelButton({ request: r, after }: { request: Request; after: () => Promise<void> }) {
  const { api, announce } = useConsole();
  const action = useAction();
  const cancel = async () => {
    const ok = await action.run(async () => {
      await api.send<Request>('POST', `/v1/requests/${encodeURIComponent(r.id)}/cancel`);
      announce(`Request for ${r.roleId} canceled`);
    });
    if (ok) await after();
  };
  return (
    <SpaceBetween size="xxs">
      <Button onClick={() => void cancel()} loading={action.busy}>
        Cancel request
      </Button>
      <ErrorText error={action.error} />
    </SpaceBetween>
  );
}

export default function MyRequests() {
  const { api, session, navigate } = useConsole();
  const requests = usePolled(async () => {
    const page = await api.get<Page<Request>>(`/v1/requests?limit=100&principalId=${encodeURIComponent(session.sub)}`);
    return page.items;
  });
  return (
    <SpaceBetween size="l">
      <ErrorText error={requests.error} />
      <Table
        ariaLabels={{ tableLabel: 'Your requests, newest first' }}
        header={<Header variant="h2">Your requests, newest first</Header>}
        loading={requests.loading && !requests.data}
        loadingText="Loading your requests"
        items={requests.data ?? []}
        trackBy="id"
        empty={<Box variant="p">You have no requests.</Box>}
        columnDefinitions={[
          {
            id: 'request',
            header: 'Request',
            isRowHeader: true,
            cell: (r) => (
              <Link
                href={`/requests/${r.id}`}
                onFollow={(event) => {
                  event.preventDefault();
                  navigate(`/requests/${r.id}`);
                }}
              >
                {`${r.roleId} at ${r.scope}`}
              </Link>
            ),
          },
          { id: 'action', header: 'Action', cell: (r) => r.action },
          { id: 'status', header: 'Status', cell: (r) => <RequestStatus status={r.status} /> },
          { id: 'approval', header: 'Approval', cell: approvalProgress },
          { id: 'created', header: 'Created', cell: (r) => formatDate(r.createdAt) },
          {
            id: 'actions',
            header: 'Actions',
            cell: (r) =>
              r.status === 'PendingApproval' && r.createdBy === session.sub ? (
                <CancelButton request={r} after={requests.reload} />
              ) : null,
          },
        ]}
      />
    </SpaceBetween>
  );
}
