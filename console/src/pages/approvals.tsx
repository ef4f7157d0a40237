/**
 * "Approvals": the requests waiting for the caller, each a region with requester, role, scope, justification,
 * ticket, asked duration, stage and quorum progress, and Approve / Deny with a justification. The list polls; a
 * card being filled in keeps what was typed (each card is keyed by its request).
 */
import Box from '@cloudscape-design/components/box';
import Container from '@cloudscape-design/components/container';
import Header from '@cloudscape-design/components/header';
import KeyValuePairs from '@cloudscape-design/components/key-value-pairs';
import Link from '@cloudscape-design/components/link';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Spinner from '@cloudscape-design/components/spinner';
import type { Page } from '../api.ts';
import { useConsole, usePolled } from '../app/context.tsx';
import { approvalProgress, askedDuration, DecisionForm, ticketText } from '../components/decision.tsx';
import { ErrorText } from '../components/outcome.tsx';
import { formatDate } from '../format.ts';
import type { Request } from '../types.ts';

function RequestCard({ request: r, after }: { request: Request; after: () => Promise<void> }) {
  const { navigate } = useConsole();
  const headingId = `approval-${r.id}`;
  return (
    <section aria-labelledby={headingId}>
      <Container
        header={
          <Header variant="h2">
            <span id={headingId}>
              <Link
                fontSize="heading-m"
                href={`/requests/${r.id}`}
                onFollow={(event) => {
                  event.preventDefault();
                  navigate(`/requests/${r.id}`);
                }}
              >
                {`${r.principalId}: ${r.roleId} at ${r.scope}`}
              </Link>
            </span>
          </Header>
        }
      >
        <SpaceBetween size="m">
          <KeyValuePairs
            columns={4}
            items={[
              { label: 'Requester', value: r.principalId },
              { label: 'Role', value: r.roleId },
              { label: 'Scope', value: r.scope },
              { label: 'Justification', value: r.justification ?? '—' },
              { label: 'Ticket', value: ticketText(r) },
              { label: 'Duration', value: askedDuration(r) },
              { label: 'Progress', value: approvalProgress(r) },
              { label: 'Asked at', value: formatDate(r.createdAt) },
            ]}
          />
          <DecisionForm request={r} after={after} />
        </SpaceBetween>
      </Container>
    </section>
  );
}

export default function Approvals() {
  const { api } = useConsole();
  const waiting = usePolled(async () => (await api.get<Page<Request>>('/v1/approvals?limit=200')).items);
  return (
    <SpaceBetween size="l">
      <ErrorText error={waiting.error} />
      {!waiting.data ? (
        waiting.error ? null : (
          <Spinner size="large" />
        )
      ) : waiting.data.length === 0 ? (
        <Box variant="p">Nothing is waiting for your approval.</Box>
      ) : (
        waiting.data.map((r) => <RequestCard key={r.id} request={r} after={waiting.reload} />)
      )}
    </SpaceBetween>
  );
}
