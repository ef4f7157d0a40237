import type { Assignment } from '../domain/assignment.ts';
import type { AuditEvent } from '../domain/audit.ts';
import { chainId, dayOf } from '../domain/audit-chain.ts';
import { fenceRecordDue } from '../domain/fence.ts';
import type { MailSuppression } from '../domain/mail-feedback.ts';
import type { PrincipalRef } from '../domain/primitives.ts';
import { decodeAudit, encodeAudit } from './audit-item.ts';
import { type AttrType, type EntityInfo, entity } from './keyspace.ts';
import type {
  AlertRecord,
  AuditExportRecord,
  AwsRefRecord,
  ChangeRecord,
  DecisionRecord,
  FenceRecord,
  GroupRecord,
  IdempotencyItem,
  InstanceRecord,
  LastUseRecord,
  OrgNodeRecord,
  OutboxRecord,
  PolicyRecord,
  Principal,
  RequestRecord,
  ReviewRecord,
  RoleRecord,
  ScopedPolicyRecord,
  SettingsRecord,
  SlackInteractionRecord,
  SlackMessageRecord,
  SlackUserRecord,
  TargetsRecord,
} from './records.ts';

/**
 * Every entity of the one table and every access pattern, declared once (see keyspace.ts). The item keys, the
 * gets, the queries (records.ts `keys`, `queries`) and the key table of docs/data-model.md all come from here.
 *
 * `{p}` is a principal: `<principalType>#<principalId>` (`user#alice`, `group#dbas`). Users, groups and service
 * principals have separate id spaces: a user token whose sub is a group's id never reads or writes the group's items.
 */

/** A principal in a key: its type, then its id (types hold no `#`, so no two principals share a key). */
export const principalPart = (p: PrincipalRef): string => `${p.principalType}#${p.principalId}`;

/** The sort key of an assignment without an end: after every real end. */
export const END_OF_TIME = '9999-12-31T23:59:59.999Z';

const VERSIONED = { version: 'number' } as const satisfies Record<string, AttrType>;

export const role = entity<RoleRecord>()({
  name: 'role',
  doc: 'a role (its live-assignment counter: a role is deleted only at 0)',
  patterns: {
    primary: { pk: 'ROLE#{id}', sk: 'ROLE' },
    all: { index: 'gsi1', pk: 'ROLES', sk: '{id}', doc: 'GET /v1/roles' },
  },
  shape: { id: 'string', liveAssignments: 'number', ...VERSIONED },
});

export const policy = entity<PolicyRecord>()({
  name: 'policy',
  doc: "a role's approval and activation policy",
  patterns: { primary: { pk: 'ROLE#{roleId}', sk: 'POLICY' } },
  shape: { roleId: 'string', policy: 'object', ...VERSIONED },
});

/**
 * A role's policy at one scope other than `/` (issue 15). Its sort key starts with the base policy's (`POLICY`), so
 * one query of the base policy's pattern with a sort-key prefix lists a role's base policy first, then the others in
 * scope order (`queries.policies`).
 */
export const scopedPolicy = entity<ScopedPolicyRecord>()({
  name: 'scopedPolicy',
  doc: "a role's policy at one scope other than / (for that scope and below)",
  patterns: { primary: { pk: 'ROLE#{roleId}', sk: 'POLICY#{scope}' } },
  shape: { roleId: 'string', scope: 'string', policy: 'object', ...VERSIONED },
});

export const targets = entity<TargetsRecord>()({
  name: 'targets',
  doc: "where a role's grants are provisioned in AWS (absent: none)",
  patterns: { primary: { pk: 'ROLE#{roleId}', sk: 'TARGETS' } },
  shape: { roleId: 'string', targets: 'array', ...VERSIONED },
});

export const fences = entity<FenceRecord>()({
  name: 'fences',
  doc: "the session fences Elevate keeps in one permission set's inline policy",
  patterns: {
    primary: { pk: 'FENCE#{permissionSetArn}', sk: 'FENCES' },
    due: {
      index: 'gsi1',
      pk: 'FENCES',
      sk: '{due}#{permissionSetArn}',
      when: (r) => fenceRecordDue(r) !== null,
      doc: 'what the reconcile job has to do next (sparse)',
    },
  },
  fields: { due: (r) => fenceRecordDue(r) ?? '' },
  shape: { permissionSetArn: 'string', fences: 'array', pending: 'array', ...VERSIONED },
});

export const orgNode = entity<OrgNodeRecord>()({
  name: 'orgNode',
  doc: 'a root, OU or account of the AWS organization, as the organization-sync job last saw it',
  patterns: {
    primary: { pk: 'ORG#{id}', sk: 'NODE' },
    scopes: { index: 'gsi1', pk: 'SCOPES', sk: '{scope}', doc: 'GET /v1/scopes, in scope order' },
  },
  shape: { id: 'string', scope: 'string' },
});

export const principal = entity<Principal>()({
  name: 'principal',
  doc: 'the profile of a user, group or service principal (display name, email)',
  patterns: { primary: { pk: 'PRINCIPAL#{p}', sk: 'PROFILE' } },
  fields: { p: (r) => principalPart({ principalType: r.type, principalId: r.id }) },
  shape: { id: 'string', type: 'string', displayName: 'string?', email: 'string?', slackUserId: 'string?' },
});

/** A Slack user linked to a principal (set by an admin, or found by the principal's e-mail): who a click is. */
export const slackUser = entity<SlackUserRecord>()({
  name: 'slackUser',
  doc: 'the principal a Slack user id is (shared/usecases/slack.ts); a click from an unlinked user decides nothing',
  patterns: { primary: { pk: 'SLACKUSER#{slackUserId}', sk: 'PRINCIPAL' } },
  shape: { slackUserId: 'string', principalId: 'string', source: 'string' },
});

/** A modal submission from Slack handed to the asynchronous run: one decision per submission, whatever retries. */
export const slackInteraction = entity<SlackInteractionRecord>()({
  name: 'slackInteraction',
  doc: 'a Slack modal submission by its payload digest: queued, taken by a run, done (retries decide nothing twice)',
  patterns: { primary: { pk: 'SLACKSUBMIT#{id}', sk: 'SUBMISSION' } },
  shape: { id: 'string', status: 'string' },
});

/** One Slack message of a request (a direct message or the channel's), updated after every decision. */
export const slackMessage = entity<SlackMessageRecord>()({
  name: 'slackMessage',
  doc: "a request's Slack messages, one per destination (channel or user), claimed before it is posted",
  patterns: { primary: { pk: 'SLACKMSG#{requestId}', sk: '{destination}' } },
  shape: { requestId: 'string', destination: 'string', channel: 'string?', ts: 'string?' },
});

/** An address SES reported a permanent bounce or a complaint for (normalised: mail-feedback.ts); no mail goes to it. */
export const mailSuppression = entity<MailSuppression>()({
  name: 'mailSuppression',
  doc: 'an address no mail goes to (a permanent bounce or a complaint), and why',
  patterns: { primary: { pk: 'MAILSUPPRESS#{address}', sk: 'SUPPRESSION' } },
  shape: { address: 'string', reason: 'string', kind: 'string', feedbackId: 'string', since: 'string' },
});

const ASSIGNMENT_SHAPE = {
  id: 'string',
  principalId: 'string',
  principalType: 'string',
  roleId: 'string',
  scope: 'string',
  assignmentType: 'string',
  status: 'string',
  startDateTime: 'string',
  endDateTime: 'string?',
  ...VERSIONED,
} as const satisfies Record<string, AttrType>;

export const assignment = entity<Assignment>()({
  name: 'assignment',
  doc: 'an assignment, live or ended (eligible or active; assigned or activated)',
  patterns: {
    primary: { pk: 'ASG#{id}', sk: 'ASG' },
    byRole: { index: 'gsi1', pk: 'ROLEASG#{roleId}', sk: '{createdAt}#{id}', doc: "a role's, newest first" },
    byStatus: { index: 'gsi2', pk: 'ASGSTATUS#{status}', sk: '{end}#{id}', doc: 'by end (none: 9999-...)' },
    byPrincipal: { index: 'gsi3', pk: 'ASGP#{p}', sk: '{createdAt}#{id}', doc: "a principal's, newest first" },
  },
  fields: { p: principalPart, end: (a) => a.endDateTime ?? END_OF_TIME },
  shape: ASSIGNMENT_SHAPE,
});

/**
 * What an eligibility's live slot carries beside its assignment (issue 18, bench/README.md): its last activation
 * (`lastUse`: `{ assignmentId, at }`, set by each activation's one update of the slot, records.ts
 * `ops.activationStands`). It is not part of the assignment (`fromItem` leaves it off); a change of the assignment
 * keeps it (records.ts `ops.replaceAssignment` updates the slot, never puts it whole).
 */
export const SLOT_GUARDS = { lastUse: 'lastUse' } as const;

/**
 * The live slot is the strongly consistent view of a principal's Scheduled and Active assignments (its key makes
 * a duplicate live assignment impossible, and the access check one Query). It is a copy of the assignment, written
 * in the same transaction, and deleted when the assignment ends.
 */
export const live = entity<Assignment>()({
  name: 'live',
  doc: 'the live slot: a copy of a live assignment, one per principal, role, type and scope',
  patterns: { primary: { pk: 'P#{p}', sk: 'LIVE#{roleId}#{assignmentType}#{scope}' } },
  fields: { p: principalPart },
  shape: ASSIGNMENT_SHAPE,
  beside: (attr) => attr === SLOT_GUARDS.lastUse,
});

/** While a request for a slot waits (approval, or a scheduled start), no second one may be made. */
export const pending = entity<{ requestId: string }>()({
  name: 'pending',
  doc: 'a request waits for this slot (approval or its start): no second one',
  patterns: { primary: { pk: 'P#{p}', sk: 'PENDING#{roleId}#{assignmentType}#{scope}' } },
  shape: { requestId: 'string' },
});

/** Marks a reminder as sent, so each reminder goes out once (`1d`, `1h` before the end). */
export const reminder = entity<{ at: string }>()({
  name: 'reminder',
  doc: 'a reminder (`1d`, `1h` before the end) was sent',
  patterns: { primary: { pk: 'ASG#{assignmentId}', sk: 'REMINDER#{which}' } },
  shape: { at: 'string' },
});

/**
 * When an eligibility was last activated, as activations wrote it before issue 18 (now on the eligibility's live
 * slot, `SLOT_GUARDS.lastUse`): still read (stale-eligibility alerts, reviews, a removal's guard), no longer written.
 */
export const lastUse = entity<LastUseRecord>()({
  name: 'lastUse',
  doc: "an eligibility's last activation as written before issue 18 (now on its live slot): read only",
  patterns: { primary: { pk: 'ASG#{eligibilityId}', sk: 'LASTUSE' } },
  shape: { eligibilityId: 'string', at: 'string' },
});

export const request = entity<RequestRecord>()({
  name: 'request',
  doc: 'a request (activation, extension, renewal, admin change) and its approval',
  patterns: {
    primary: { pk: 'REQ#{id}', sk: 'REQ' },
    byPrincipal: { index: 'gsi1', pk: 'REQP#{p}', sk: '{createdAt}#{id}', doc: "a principal's, newest first" },
    byStatus: { index: 'gsi2', pk: 'REQSTATUS#{status}', sk: '{createdAt}#{id}', doc: 'by status, newest first' },
    all: { index: 'gsi3', pk: 'REQS', sk: '{createdAt}#{id}', doc: 'all, newest first' },
  },
  fields: { p: principalPart },
  shape: {
    id: 'string',
    status: 'string',
    principalId: 'string',
    principalType: 'string',
    roleId: 'string',
    scope: 'string',
    createdBy: 'string',
    approval: 'object',
    schedule: 'object',
    ...VERSIONED,
  },
});

/**
 * Audit events live in the partition of their hash chain (`<yyyy-mm-dd>#<shard>`, picked per transaction by the
 * store), so concurrent writers spread over AUDIT_SHARDS partitions a day; an event not yet linked sits in shard 0
 * of its day.
 */
const AUDIT_PATTERNS = {
  primary: { pk: 'AUDIT#{chain}', sk: '{time}#{id}' },
  byPrincipal: {
    index: 'gsi1',
    pk: 'AUDITP#{principalId}',
    sk: '{time}#{id}',
    when: (e: AuditEvent) => !!e.target.principalId,
    doc: 'of a target principal',
  },
  byActor: { index: 'gsi2', pk: 'AUDITA#{actorId}', sk: '{time}#{id}', doc: 'of an actor' },
  byRole: {
    index: 'gsi3',
    pk: 'AUDITR#{roleId}',
    sk: '{time}#{id}',
    when: (e: AuditEvent) => !!e.target.roleId,
    doc: 'of a target role',
  },
} as const;

export const audit = entity<AuditEvent>()({
  name: 'audit',
  doc: 'an audit event, in the partition of its hash chain `<yyyy-mm-dd>#<shard>`',
  patterns: AUDIT_PATTERNS,
  fields: {
    chain: (e) => e.chain ?? chainId(dayOf(e.time), 0),
    principalId: (e) => e.target.principalId,
    actorId: (e) => e.actor.id,
    roleId: (e) => e.target.roleId,
  },
  // Stored without what the keys hold, hashes binary, details compressed (issue 18: an event under 1 KB).
  codec: {
    encode: encodeAudit,
    decode: (attrs, item) => decodeAudit(AUDIT_PATTERNS, attrs, item),
  },
  shape: { id: 'string', time: 'string', action: 'string', actor: 'object', target: 'object', hash: 'string' },
});

/** The head of one audit hash chain (`<yyyy-mm-dd>#<shard>`): `{ hash, seq }` of its last event. */
export const auditHead = entity<{ chain: string; hash: string; seq: number }>()({
  name: 'auditHead',
  doc: 'the head of one audit hash chain: hash and seq of its last event',
  patterns: { primary: { pk: 'AUDITHEAD#{chain}', sk: 'HEAD' } },
  shape: { hash: 'string', seq: 'number' },
});

/** A UTC day that has audit events (written with the first event of each of its chains). */
export const auditDay = entity<{ day: string }>()({
  name: 'auditDay',
  doc: 'a UTC day that has audit events (a newest-first listing skips empty days)',
  patterns: {
    primary: { pk: 'AUDITDAY#{day}', sk: 'DAY' },
    all: { index: 'gsi1', pk: 'AUDITDAYS', sk: '{day}', doc: 'the days, by date' },
  },
  shape: { day: 'string' },
});

export const auditExport = entity<AuditExportRecord>()({
  name: 'export',
  doc: 'an audit export (its run, lease and result)',
  patterns: {
    primary: { pk: 'EXPORT#{id}', sk: 'EXPORT' },
    all: { index: 'gsi1', pk: 'EXPORTS', sk: '{createdAt}#{id}', doc: 'newest first' },
  },
  shape: { id: 'string', from: 'string', to: 'string', status: 'string', ...VERSIONED },
});

/** The head of the chain of export manifests: the SHA-256 and key of the last manifest written. */
export const exportHead = entity<{
  manifestSha256?: string;
  manifestKey?: string;
  seq?: number;
  lockedBy?: string;
  lockUntil?: string;
}>()({
  name: 'exportHead',
  doc: 'the head of the export manifest chain (and its lock)',
  patterns: { primary: { pk: 'EXPORTHEAD', sk: 'HEAD' } },
});

/** The daily export of one UTC day was started (once per day, whatever the retries of the schedule). */
export const dailyExport = entity<{ exportId: string }>()({
  name: 'dailyExport',
  doc: 'the daily export of a UTC day was started',
  patterns: { primary: { pk: 'EXPORTDAY#{day}', sk: 'DAILY' } },
  shape: { exportId: 'string' },
});

/** Where a run of a scheduled job (`alerts`, `digest`) cut short by its time budget stopped: the next run goes on. */
/** `progress` is the job's own (JSON) record of where it stopped, read back by the job that wrote it. */
export const jobProgress = entity<{ job: string; progress: unknown }>()({
  name: 'jobProgress',
  doc: 'where a scheduled job cut short by its time budget stopped',
  patterns: { primary: { pk: 'JOB#{job}', sk: 'PROGRESS' } },
  shape: { job: 'string', progress: 'object' },
});

export const group = entity<GroupRecord>()({
  name: 'group',
  doc: 'a group of Elevate',
  patterns: {
    primary: { pk: 'GROUP#{id}', sk: 'GROUP' },
    all: { index: 'gsi1', pk: 'GROUPS', sk: '{id}', doc: 'GET /v1/groups' },
  },
  shape: { id: 'string', displayName: 'string' },
});

/** One alert per type and subject (`<type>#<subject>`), raised and resolved by the alerts scan. */
export const alert = entity<AlertRecord>()({
  name: 'alert',
  doc: 'an alert, one per type and subject (`<type>#<subject>`)',
  patterns: {
    primary: { pk: 'ALERT#{id}', sk: 'ALERT' },
    all: { index: 'gsi1', pk: 'ALERTS', sk: '{status}#{detectedAt}#{id}', doc: 'by status' },
  },
  shape: { id: 'string', type: 'string', status: 'string', affected: 'array', ...VERSIONED },
});

export const alertSettings = entity<{ settings: Record<string, unknown> }>()({
  name: 'alertSettings',
  doc: 'the settings of the alerts scan',
  patterns: { primary: { pk: 'META', sk: 'ALERTSETTINGS' } },
  shape: { settings: 'object' },
});

/** The governance settings (GET/PUT /v1/settings). */
export const settings = entity<SettingsRecord>()({
  name: 'settings',
  doc: 'the governance settings',
  patterns: { primary: { pk: 'META', sk: 'SETTINGS' } },
  shape: { ...VERSIONED },
});

export const install = entity<{ installedAt: string }>()({
  name: 'install',
  doc: 'when Elevate was installed (bootstrap ran)',
  patterns: { primary: { pk: 'META', sk: 'INSTALL' } },
  shape: { installedAt: 'string' },
});

/** A change held for a second administrator (requireSecondAdmin). */
export const change = entity<ChangeRecord>()({
  name: 'change',
  doc: 'a change held for a second administrator',
  patterns: {
    primary: { pk: 'CHANGE#{id}', sk: 'CHANGE' },
    all: { index: 'gsi1', pk: 'CHANGES', sk: '{proposedAt}#{id}', doc: 'newest first' },
    byStatus: { index: 'gsi2', pk: 'CHANGESTATUS#{status}', sk: '{expiresAt}#{id}', doc: 'by expiry' },
  },
  shape: { id: 'string', status: 'string', proposer: 'object', request: 'object', ...VERSIONED },
});

export const idempotency = entity<IdempotencyItem>()({
  name: 'idempotency',
  doc: 'the response (or the running claim) under an Idempotency-Key',
  patterns: { primary: { pk: 'IDEM#{callerId}#{key}', sk: 'IDEM' } },
  shape: { fingerprint: 'string' },
});

/** A lifecycle event waiting in the outbox, by its UTC day (for a replay) and time. */
export const outbox = entity<OutboxRecord>()({
  name: 'outbox',
  doc: 'a lifecycle event in the transactional outbox, by UTC day',
  patterns: { primary: { pk: 'OUTBOX#{day}', sk: '{time}#{id}' } },
  fields: { day: (o) => o.time.slice(0, 10) },
  shape: { id: 'string', type: 'string', detail: 'object', time: 'string' },
});

// ---- access reviews ----------------------------------------------------------------------------------

export const review = entity<ReviewRecord>()({
  name: 'review',
  doc: 'an access review definition',
  patterns: {
    primary: { pk: 'REVIEW#{id}', sk: 'REVIEW' },
    all: { index: 'gsi1', pk: 'REVIEWS', sk: '{createdAt}#{id}', doc: 'newest first' },
    due: {
      index: 'gsi2',
      pk: 'REVIEWDUE',
      sk: '{nextStartDateTime}#{id}',
      when: (r) => !!r.nextStartDateTime,
      doc: 'sparse: only definitions with a next instance',
    },
  },
  shape: { id: 'string', scope: 'object', reviewers: 'object', ...VERSIONED },
});

export const reviewInstance = entity<InstanceRecord>()({
  name: 'reviewInstance',
  doc: "an instance of an access review, and the job's progress on it",
  patterns: {
    primary: { pk: 'REVIEW#{reviewId}', sk: 'INST#{id}' },
    atWork: {
      index: 'gsi3',
      pk: 'RVWORK',
      sk: '{id}',
      when: (i) => i.phase !== 'done',
      doc: 'sparse: only instances the job still works on',
    },
  },
  shape: { id: 'string', reviewId: 'string', status: 'string', phase: 'string', cursor: 'string', counts: 'object' },
});

/**
 * A decision sits in exactly one reviewer queue (gsi1 by principal for `self`, gsi2 by role for `approvers`, gsi3 by
 * instance for `principals`) with the sort key `<decision>#<id>`, so `NotReviewed#` is the queue.
 */
export const reviewDecision = entity<DecisionRecord>()({
  name: 'reviewDecision',
  doc: 'a decision of a review instance, in one reviewer queue',
  patterns: {
    primary: { pk: 'RVI#{instanceId}', sk: 'DEC#{id}' },
    byPrincipal: {
      index: 'gsi1',
      pk: 'RVDP#{instanceId}#{p}',
      sk: '{decision}#{id}',
      when: (d) => d.queue === 'self',
      doc: 'queue `self`',
    },
    byRole: {
      index: 'gsi2',
      pk: 'RVDR#{instanceId}#{roleId}',
      sk: '{decision}#{id}',
      when: (d) => d.queue === 'approvers',
      doc: 'queue `approvers`',
    },
    byInstance: {
      index: 'gsi3',
      pk: 'RVDI#{instanceId}',
      sk: '{decision}#{id}',
      when: (d) => d.queue === 'principals',
      doc: 'queue `principals`',
    },
  },
  fields: { p: principalPart },
  shape: { id: 'string', instanceId: 'string', decision: 'string', queue: 'string', ...VERSIONED },
});

/**
 * One AWS account assignment (user × permission set × account) or membership (user × group) that Elevate
 * provisions: the grants that hold it, and what Elevate knows of it in AWS (shared/usecases/provisioning-steps.ts).
 */
export const awsRef = entity<AwsRefRecord>()({
  name: 'awsRef',
  doc: 'an AWS account assignment or membership Elevate provisions: the grants holding it, its state in AWS',
  patterns: { primary: { pk: 'AWSREF#{refId}', sk: 'REF' } },
  shape: { refId: 'string' },
});

/** Every entity, in the order of the doc table. */
export const ENTITIES: readonly EntityInfo[] = [
  role,
  policy,
  scopedPolicy,
  targets,
  fences,
  orgNode,
  principal,
  mailSuppression,
  assignment,
  live,
  pending,
  reminder,
  lastUse,
  request,
  audit,
  auditHead,
  auditDay,
  auditExport,
  exportHead,
  dailyExport,
  jobProgress,
  group,
  alert,
  alertSettings,
  settings,
  install,
  change,
  idempotency,
  outbox,
  awsRef,
  review,
  reviewInstance,
  reviewDecision,
];
