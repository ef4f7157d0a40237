/**
 * "Access reviews": the caller's review items still to decide, with the recommendation and its reason; Approve or
 * Deny each (with the page's justification), or accept every recommendation at once.
 */
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import Container from '@cloudscape-design/components/container';
import FormField from '@cloudscape-design/components/form-field';
import Header from '@cloudscape-design/components/header';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Table from '@cloudscape-design/components/table';
import Textarea from '@cloudscape-design/components/textarea';
import { useState } from 'react';
import type { Page } from '../api.ts';
import { useConsole, usePolled } from '../app/context.tsx';
import { ErrorText, useAction } from '../components/outcome.tsx';
import { formatDate } from '../format.ts';
import type { ReviewDecision } from '../types.ts';

type Verdict = 'Approve' | 'Deny';

export default function Reviews() {
  const { api, announce } = useConsole();
  const items = usePolled(async () => {
    const page = await api.get<Page<ReviewDecision>>('/v1/me/reviews?limit=200');
    return page.items.filter((d) => d.decision === 'NotReviewed');
  });
  const [justification, setJustification] = useState('');
  const action = useAction();

  const send = async (d: ReviewDecision, decision: Verdict, why: string): Promise<void> => {
    await api.send('POST', `/v1/access-reviews/${d.reviewId}/instances/${d.instanceId}/decisions/${d.id}`, {
      decision,
      ...(why && { justification: why }),
    });
  };
  const act = async (work: () => Promise<void>, said: string) => {
    if (await action.run(work)) announce(said);
    await items.reload();
  };
  const decideOne = (d: ReviewDecision, decision: Verdict) =>
    void act(
      () => send(d, decision, justification.trim()),
      `${decision === 'Approve' ? 'Kept' : 'Removal decided for'} ${d.principalId}'s ${d.roleId}`,
    );
  const acceptAll = () => {
    const waiting = items.data ?? [];
    void act(async () => {
      for (const d of waiting) {
        await send(
          d,
          d.recommendation,
          justification.trim() || `Accepted the recommendation: ${d.recommendationReason}`,
        );
      }
    }, `${waiting.length} recommendation(s) accepted`);
  };
  const waiting = items.data ?? [];

  return (
    <SpaceBetween size="l">
      <ErrorText error={items.error} />
      <Container header={<Header variant="h2">Your decision</Header>}>
        <SpaceBetween size="s">
          <FormField
            label="Justification"
            controlId="review-justification"
            description="kept with each decision you make on this page (a review may require one)"
          >
            <Textarea
              controlId="review-justification"
              rows={2}
              value={justification}
              onChange={({ detail }) => setJustification(detail.value)}
            />
          </FormField>
          <ErrorText error={action.error} />
        </SpaceBetween>
      </Container>
      <Table
        ariaLabels={{ tableLabel: 'Access to review' }}
        header={
          <Header
            variant="h2"
            actions={
              <Button onClick={acceptAll} disabled={waiting.length === 0} loading={action.busy}>
                Accept all recommendations
              </Button>
            }
          >
            Access to review
          </Header>
        }
        loading={items.loading && !items.data}
        loadingText="Loading your reviews"
        items={waiting}
        trackBy="id"
        empty={<Box variant="p">No access is waiting for your review.</Box>}
        columnDefinitions={[
          { id: 'principal', header: 'Principal', cell: (d) => d.principalId, isRowHeader: true },
          { id: 'role', header: 'Role', cell: (d) => d.roleId },
          { id: 'scope', header: 'Scope', cell: (d) => d.scope },
          { id: 'type', header: 'Type', cell: (d) => d.assignmentType },
          {
            id: 'recommendation',
            header: 'Recommendation',
            cell: (d) => `${d.recommendation}: ${d.recommendationReason}`,
          },
          { id: 'due', header: 'Due', cell: (d) => formatDate(d.endDateTime) },
          {
            id: 'decision',
            header: 'Decision',
            cell: (d) => (
              <SpaceBetween direction="horizontal" size="xs">
                <Button onClick={() => decideOne(d, 'Approve')} disabled={action.busy}>
                  Approve
                </Button>
                <Button onClick={() => decideOne(d, 'Deny')} disabled={action.busy}>
                  Deny
                </Button>
              </SpaceBetween>
            ),
          },
        ]}
      />
    </SpaceBetween>
  );
}
