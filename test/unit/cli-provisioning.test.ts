import { expect, describe as group, it } from 'vitest';
import { describe } from '../../cli/commands/access.ts';
import type { AccessRequest } from '../../cli/types.ts';

const request = (over: Partial<AccessRequest>): AccessRequest => ({
  id: 'req_1',
  action: 'selfActivate',
  status: 'Granted',
  assignmentType: 'active',
  principalId: 'alice',
  principalType: 'user',
  roleId: 'ops',
  scope: '/accounts/111111111111',
  policyScope: '/',
  justification: 'x',
  ticket: null,
  schedule: {
    startDateTime: '2026-12-01T10:00:00Z',
    expiration: { type: 'afterDuration', endDateTime: null, duration: 'PT1H' },
  },
  createdBy: 'alice',
  createdAt: '2026-12-01T10:00:00Z',
  decidedAt: '2026-12-01T10:00:00Z',
  assignmentId: 'asg_1',
  approval: { stages: [] },
  eligibilityId: null,
  failureReason: null,
  ...over,
});

group('the CLI line of a request being provisioned in AWS', () => {
  it('says it is being provisioned while the request is Provisioning', () => {
    expect(describe(request({ status: 'Provisioning' }))).toBe('provisioning in AWS… (request req_1)');
  });

  it('gives the AWS reason of a failed provisioning', () => {
    expect(describe(request({ status: 'Failed', failureReason: 'AccessDenied on the member account' }))).toBe(
      'request req_1: AccessDenied on the member account',
    );
  });
});
