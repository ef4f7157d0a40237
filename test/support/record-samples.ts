import type { Assignment } from '#shared/domain/assignment.ts';
import type { AuditEvent } from '#shared/domain/audit.ts';
import type { MailSuppression } from '#shared/domain/mail-feedback.ts';
import type {
  AlertRecord,
  AuditExportRecord,
  ChangeRecord,
  DecisionRecord,
  FenceRecord,
  GroupRecord,
  InstanceRecord,
  OrgNodeRecord,
  PolicyRecord,
  Principal,
  RequestRecord,
  ReviewRecord,
  RoleRecord,
  ScopedPolicyRecord,
  SettingsRecord,
  TargetsRecord,
} from '#shared/store/records.ts';

/**
 * One complete sample of every stored record, with the key-bearing fields set to recognisable values (each id
 * names its entity), for the tests that pin the stored key formats and check the key declarations.
 */
export const T = '2026-05-01T10:00:00.000Z';
export const END = '2026-05-01T18:00:00.000Z';

export const role: RoleRecord = {
  id: 'db-admin',
  displayName: 'DB admin',
  description: null,
  builtIn: false,
  privileged: false,
  createdAt: T,
  updatedAt: T,
  liveAssignments: 2,
  version: 3,
} as RoleRecord;

export const policy = { roleId: 'db-admin', policy: {}, version: 1, updatedAt: T } as unknown as PolicyRecord;
export const scopedPolicy = {
  roleId: 'db-admin',
  scope: '/ous/ou-ab12-cdef3456',
  policy: {},
  version: 1,
  updatedAt: T,
} as unknown as ScopedPolicyRecord;

export const targets: TargetsRecord = { roleId: 'db-admin', targets: [], version: 1, updatedAt: T };

export const fences: FenceRecord = {
  permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef',
  fences: [
    {
      userName: 'alice',
      accountId: '111122223333',
      end: '2026-05-01T10:00:00Z',
      removeAfter: '2026-05-01T11:05:00.000Z',
      requestId: 'req-1',
      principalId: 'alice',
    },
  ],
  pending: [],
  version: 1,
  updatedAt: T,
};

export const orgNode: OrgNodeRecord = {
  scope: '/ous/ou-1/accounts/111122223333',
  type: 'account',
  id: '111122223333',
  name: 'prod',
  parentScope: '/ous/ou-1',
  ancestors: ['r-1', 'ou-1'],
  status: 'ACTIVE',
  updatedAt: T,
};

export const principal: Principal = {
  id: 'alice',
  type: 'user',
  displayName: 'Alice',
  email: 'alice@example.com',
  updatedAt: T,
};

export const mailSuppression: MailSuppression = {
  address: 'alice@example.com',
  reason: 'bounce',
  kind: 'Permanent/General',
  diagnostic: 'smtp; 550 5.1.1 user unknown',
  feedbackId: 'fb-1',
  since: T,
  principal: { principalType: 'user', principalId: 'alice' },
};

export const assignment: Assignment = {
  id: 'asg-1',
  principalId: 'alice',
  principalType: 'user',
  roleId: 'db-admin',
  scope: '/accounts/111122223333',
  assignmentType: 'active',
  origin: 'activated',
  status: 'Active',
  startDateTime: T,
  endDateTime: END,
  requestId: 'req-1',
  eligibilityId: 'asg-0',
  extensions: 0,
  justification: null,
  createdAt: T,
  updatedAt: T,
  version: 2,
};

export const permanent: Assignment = {
  ...assignment,
  id: 'asg-2',
  origin: 'assigned',
  assignmentType: 'eligible',
  endDateTime: null,
  eligibilityId: null,
};

export const request: RequestRecord = {
  id: 'req-1',
  action: 'selfActivate',
  status: 'PendingApproval',
  assignmentType: 'active',
  principalId: 'alice',
  principalType: 'user',
  roleId: 'db-admin',
  scope: '/accounts/111122223333',
  policyScope: '/',
  justification: 'ticket 42',
  ticket: null,
  schedule: { startDateTime: T, expiration: { type: 'afterDuration', endDateTime: null, duration: 'PT1H' } },
  createdBy: 'alice',
  createdAt: T,
  decidedAt: null,
  assignmentId: null,
  approval: { stages: [] },
  eligibilityId: 'asg-0',
  failureReason: null,
  version: 1,
  taskToken: null,
};

export const auditEvent: AuditEvent = {
  id: 'aud-1',
  time: T,
  action: 'assignment.created',
  actor: { id: 'bob', type: 'user' },
  target: { principalId: 'alice', roleId: 'db-admin', scope: '/', assignmentId: 'asg-1', requestId: null },
  details: {},
  hash: 'h1',
  previousHash: null,
  chain: '2026-05-01#3',
  seq: 7,
};

export const auditExport: AuditExportRecord = {
  id: 'exp-1',
  from: T,
  to: END,
  format: 'jsonl',
  status: 'Pending',
  createdAt: T,
  createdBy: 'bob',
  owner: null,
  leaseUntil: null,
  continuedBy: null,
  completedAt: null,
  recordCount: null,
  objectKey: null,
  sha256: null,
  manifestKey: null,
  manifestSha256: null,
  previousManifestSha256: null,
  error: null,
  version: 1,
};

export const group: GroupRecord = { id: 'dbas', displayName: 'DBAs', description: null, createdAt: T };

export const alert: AlertRecord = {
  id: 'staleEligibility#asg-0',
  type: 'staleEligibility',
  severity: 'low',
  status: 'active',
  detectedAt: T,
  updatedAt: T,
  affected: [],
  affectedCount: 0,
  details: {},
  version: 1,
};

export const settings: SettingsRecord = { settings: {}, version: 1, updatedAt: T, updatedBy: 'bob' };

export const change = {
  id: 'chg-1',
  kind: 'settings',
  summary: 'settings',
  proposedBy: 'bob',
  proposedAt: T,
  expiresAt: END,
  status: 'Pending',
  request: { operationId: 'putSettings', params: {}, body: {} },
  decidedBy: null,
  decidedAt: null,
  justification: null,
  result: null,
  proposer: { id: 'bob' },
  version: 1,
} as unknown as ChangeRecord;

export const review = {
  id: 'rev-1',
  displayName: 'Quarterly',
  scope: { roleIds: ['db-admin'], assignmentTypes: ['eligible'] },
  reviewers: { type: 'self', principals: [] },
  duration: 'P7D',
  recurrence: { type: 'quarterly', startDateTime: T },
  defaultDecision: 'none',
  autoApply: false,
  requireJustification: false,
  recommendationLookback: 'P30D',
  nextStartDateTime: END,
  createdBy: 'bob',
  createdAt: T,
  nextIndex: 1,
  version: 1,
} as ReviewRecord;

export const instance = {
  id: 'rvi-1',
  reviewId: 'rev-1',
  displayName: 'Quarterly',
  status: 'InProgress',
  startDateTime: T,
  endDateTime: END,
  counts: { total: 0, notReviewed: 0, approve: 0, deny: 0, dontKnow: 0, applied: 0, failed: 0 },
  ready: true,
  completedAt: null,
  appliedAt: null,
  phase: 'open',
  cursor: '',
  reminded: false,
  reviewers: { type: 'self', principals: [] },
  scope: { roleIds: ['db-admin'], assignmentTypes: ['eligible'] },
  defaultDecision: 'none',
  autoApply: false,
  requireJustification: false,
  recommendationLookback: 'P30D',
  createdAt: T,
} as InstanceRecord;

export const decision: DecisionRecord = {
  id: 'rvd-1',
  instanceId: 'rvi-1',
  reviewId: 'rev-1',
  assignmentId: 'asg-0',
  principalId: 'alice',
  principalType: 'user',
  roleId: 'db-admin',
  scope: '/',
  assignmentType: 'eligible',
  recommendation: 'Approve',
  recommendationReason: 'used',
  decision: 'NotReviewed',
  reviewedBy: null,
  reviewedAt: null,
  justification: null,
  applyResult: 'NotApplied',
  applyDetail: null,
  endDateTime: END,
  queue: 'self',
  version: 1,
};
