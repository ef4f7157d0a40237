/**
 * One request (/requests/{id}, the approval mail's deep link): its facts and progress, and, for an approver of its
 * current stage, Approve / Deny (with the approver's MFA step-up when the policy needs it).
 */
import Container from '@cloudscape-design/components/container';
import Header from '@cloudscape-design/components/header';
import KeyValuePairs from '@cloudscape-design/components/key-value-pairs';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Spinner from '@cloudscape-design/components/spinner';
import type { Page } from '../api.ts';
import { useConsole, usePolled } from '../app/context.tsx';
import type { PageProps } from '../app/routes.ts';
import { approvalProgress, askedDuration, DecisionForm, ticketText } from '../components/decision.tsx';
import { ErrorText } from '../components/outcome.tsx';
import { RequestStatus } from '../components/status.tsx';
import { formatDate } from '../format.ts';
import type { Request } from '../types.ts';

export default function RequestDetail({ params: [id = ''] }: PageProps) {
  const { api } = useConsole();
  const loaded = usePolled(async () => {
    const request = await api.get<Request>(`/v1/requests/${encodeURIComponent(id)}`);
    // Whether the caller may decide it now: it waits for them (the API's own list of what waits for the caller).
    let mine = false;
    if (request.status === 'PendingApproval') {
      const waiting = await api.get<Page<Request>>('/v1/approvals?limit=200');
      mine = waiting.items.some((w) => w.id === request.id);
    }
    return { request, mine };
  });
  if (!loaded.data) return loaded.error ? <ErrorText error={loaded.error} /> : <Spinner size="large" />;
  const { request: r, mine } = loaded.data;
  return (
    <SpaceBetween size="l">
      <ErrorText error={loaded.error} />
      <Container header={<Header variant="h2">{`${r.principalId}: ${r.roleId} at ${r.scope}`}</Header>}>
        <KeyValuePairs
          columns={3}
          items={[
            { label: 'Request', value: r.id },
            { label: 'Status', value: <RequestStatus status={r.status} /> },
            { label: 'Requester', value: r.principalId },
            { label: 'Action', value: r.action },
            { label: 'Role', value: r.roleId },
            { label: 'Scope', value: r.scope },
            { label: 'Justification', value: r.justification ?? '—' },
            { label: 'Ticket', value: ticketText(r) },
            { label: 'Duration', value: askedDuration(r) },
            { label: 'Approval', value: approvalProgress(r) },
            { label: 'Created', value: formatDate(r.createdAt) },
            { label: 'Decided', value: formatDate(r.decidedAt) },
            ...(r.failureReason ? [{ label: 'Failure', value: r.failureReason }] : []),
          ]}
        />
      </Container>
      {mine && r.status === 'PendingApproval' && (
        <Container header={<Header variant="h2">Your decision</Header>}>
          <DecisionForm request={r} after={loaded.reload} />
        </Container>
      )}
    </SpaceBetween>
  );
}
