import { describe, expect, it } from 'vitest';
import { approvalNeeded, type RequestFacts, reviewStarted } from '#shared/notifications/templates.ts';

const facts: RequestFacts = {
  id: 'req_01J0000000000000000000000A',
  action: 'selfActivate',
  principalId: 'alice',
  principalName: 'Alice',
  roleId: 'prod',
  roleName: 'Production',
  scope: '/',
  justification: 'INC-1',
  ticket: null,
  startDateTime: '2026-11-26T10:00:00Z',
  endDateTime: null,
};
const review = {
  reviewId: 'rev_1',
  instanceId: 'ins_1',
  displayName: 'Quarterly',
  startDateTime: '2026-11-26T10:00:00Z',
  endDateTime: '2026-12-10T10:00:00Z',
};

describe('console links in mail (deploy parameter ConsoleUrl)', () => {
  it('links the approval mail to <ConsoleUrl>/requests/{id} and the review mail to <ConsoleUrl>/reviews', () => {
    // Act
    const approval = approvalNeeded(facts, 'https://api.example.com', 0, 1, 'https://elevate.example.com');
    const started = reviewStarted(review, 'https://api.example.com', 'https://elevate.example.com');

    // Assess
    expect(approval.text).toContain(`Open:    https://elevate.example.com/requests/${facts.id}`);
    expect(approval.html).toContain(`https://elevate.example.com/requests/${facts.id}`);
    expect(started.text).toContain('Open:       https://elevate.example.com/reviews');
  });

  it('has no console line when no console address is configured', () => {
    expect(approvalNeeded(facts, 'https://api.example.com', 0, 1).text).not.toContain('Open:');
    expect(reviewStarted(review, 'https://api.example.com').text).not.toContain('Open:');
  });
});
