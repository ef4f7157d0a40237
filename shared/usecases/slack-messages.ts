import type { Deps } from '../deps.ts';
import { type ApproverRef, currentStageIndex } from '../domain/approval.ts';
import { inForce } from '../domain/assignment.ts';
import { DomainError } from '../domain/errors.ts';
import { memberRole, ownerRole } from '../domain/group.ts';
import { approverMfaRequired, type RolePolicy } from '../domain/policy.ts';
import { userRef } from '../domain/primitives.ts';
import { DEFAULT_SLACK_NOTIFICATIONS, type MessageFacts, outcomeText, requestMessage } from '../domain/slack.ts';
import { errorFields, log } from '../log.ts';
import type { Slack } from '../ports/slack.ts';
import { keys, ops, queries, type RequestRecord, type SlackMessageRecord, stored } from '../store/records.ts';
import { readRequest } from './request-records.ts';
import { policyOfRequest, requireRole } from './roles.ts';

/**
 * Brings a request's Slack messages up to date after it changed (created, decided from any channel, canceled, timed
 * out): posts the current stage's message to each approver Elevate can find in Slack and to the policy's channel (once
 * each: a destination is claimed in the table before it is posted), updates every message posted before, and once
 * the request is decided tells the requester. An after-commit effect: a Slack outage fails this effect only (logged),
 * never the change; each message is tried on its own.
 */
export async function syncSlackMessages(deps: Deps, requestId: string): Promise<void> {
  const slack = deps.slack;
  if (!slack) return;
  const r = await readRequest(deps.store, requestId);
  if (r.approval.stages.length === 0) return;
  const [policy, role] = await Promise.all([policyOfRequest(deps.store, r), requireRole(deps.store, r.roleId)]);
  const message = requestMessage(messageFacts(deps, r, role.displayName, policy));
  const posted = (await deps.store.all(queries.slackMessages(r.id))).map((i) => stored.slackMessage.fromItem(i));
  const known = new Set(posted.map((m) => m.destination));
  const jobs: Promise<unknown>[] = [];
  for (const m of posted) {
    if (m.channel && m.ts && !m.destination.startsWith(OUTCOME)) {
      jobs.push(slack.update(m.channel, m.ts, message).catch(logged('chat.update', r.id)));
    }
  }
  for (const destination of await destinationsOf(deps, slack, r, policy)) {
    if (!known.has(destination)) jobs.push(postOnce(deps, slack, r.id, destination, message));
  }
  if (r.status !== 'PendingApproval') {
    const requester = r.principalType === 'user' ? await slackUserOf(deps, slack, r.principalId) : null;
    if (requester && !known.has(`${OUTCOME}${requester}`)) {
      jobs.push(
        postOnce(deps, slack, r.id, `${OUTCOME}${requester}`, {
          text: outcomeText({ id: r.id, roleName: role.displayName, scope: r.scope, status: r.status }),
          blocks: [],
        }),
      );
    }
  }
  await Promise.all(jobs);
}

/** The destination of the requester's outcome message (a user id after it). */
const OUTCOME = 'outcome:';

const logged = (method: string, requestId: string) => (error: unknown) =>
  log('warn', `Slack ${method} failed; the request stands`, { requestId, ...errorFields(error) });

/** Claims the destination, posts, records where; a failed post gives the claim up (the next sync posts it). */
async function postOnce(
  deps: Deps,
  slack: Slack,
  requestId: string,
  destination: string,
  message: { text: string; blocks: unknown[] },
): Promise<void> {
  const claim: SlackMessageRecord = { requestId, destination, channel: null, ts: null };
  try {
    await deps.store.transact([ops.claimSlackMessage(claim)]);
  } catch (error) {
    if (error instanceof DomainError) return; // another sync posts it
    throw error;
  }
  const channel = destination.startsWith(OUTCOME) ? destination.slice(OUTCOME.length) : destination;
  try {
    const at = await slack.postMessage(channel, message);
    await deps.store.transact([ops.postedSlackMessage({ ...claim, channel: at.channel, ts: at.ts })]);
  } catch (error) {
    logged('chat.postMessage', requestId)(error);
    await deps.store.transact([ops.releaseSlackMessage(requestId, destination)]).catch(() => undefined);
  }
}

/** Where the current stage's message goes: its approvers' direct messages (policy permitting) and the channel. */
async function destinationsOf(deps: Deps, slack: Slack, r: RequestRecord, policy: RolePolicy): Promise<string[]> {
  if (r.status !== 'PendingApproval') return [];
  const settings = policy.notifications.slack ?? DEFAULT_SLACK_NOTIFICATIONS;
  const stage = r.approval.stages[currentStageIndex(r.approval)];
  const out: string[] = [];
  if (stage && settings.directMessages) {
    const people = await approverUsers(deps, stage.approvers);
    // Never the requester (who cannot decide): the outcome reaches them instead.
    const ids = await Promise.all(
      [...people].filter((p) => p !== r.principalId).map((p) => slackUserOf(deps, slack, p)),
    );
    for (const id of ids) if (id) out.push(id);
  }
  if (settings.channel) out.push(settings.channel);
  return [...new Set(out)];
}

/**
 * The users among a stage's approvers that Elevate knows: users by id, a group's (or its owners') active members
 * of the Elevate group. An identity-provider group's members are not known to Elevate: only the channel reaches them.
 */
async function approverUsers(deps: Deps, approvers: ApproverRef[]): Promise<Set<string>> {
  const now = deps.clock.now();
  const users = new Set<string>();
  for (const a of approvers) {
    if (a.type === 'user') users.add(a.id);
    else if (a.type === 'group' || a.type === 'groupOwners') {
      const roleId = a.type === 'group' ? memberRole(a.id) : ownerRole(a.id);
      const items = await deps.store.all(queries.assignmentsOfRole(roleId), false);
      for (const i of items) {
        if (i.principalType === 'user' && i.assignmentType === 'active' && inForce(i as never, now)) {
          users.add(String(i.principalId));
        }
      }
    }
  }
  return users;
}

/** A miss of users.lookupByEmail is remembered this long (a hit is kept on the principal and the link). */
const MISS_TTL_MS = 10 * 60_000;
const misses = new Map<string, number>();

/**
 * The Slack user of a user principal: the one linked to it (by an admin, or found before), else the one Slack has
 * for its e-mail (users.lookupByEmail), then linked (principal and link in one transaction). An admin's unlink
 * (`slackUserId: null`) stands: no lookup then.
 */
export async function slackUserOf(deps: Deps, slack: Slack, principalId: string): Promise<string | null> {
  const item = await deps.store.get(keys.principal(userRef(principalId)), false);
  if (!item) return null;
  const p = stored.principal.fromItem(item);
  if (p.slackUserId !== undefined) return p.slackUserId;
  if (!p.email) return null;
  const missed = misses.get(p.email);
  const now = deps.clock.now().getTime();
  if (missed !== undefined && missed > now) return null;
  const found = await slack.lookupByEmail(p.email);
  if (!found) {
    if (misses.size > 10_000) misses.clear();
    misses.set(p.email, now + MISS_TTL_MS);
    return null;
  }
  try {
    await deps.store.transact([
      ops.linkPrincipalSlackUser(p, found),
      ops.putSlackUser({ slackUserId: found, principalId, source: 'email' }, principalId),
    ]);
  } catch (error) {
    // The Slack user is linked to another principal, or the profile changed: use it, do not link it.
    if (!(error instanceof DomainError)) throw error;
  }
  return found;
}

function messageFacts(deps: Deps, r: RequestRecord, roleName: string, policy: RolePolicy): MessageFacts {
  const consoleUrl = deps.config.consoleUrl ? `${deps.config.consoleUrl}/requests/${encodeURIComponent(r.id)}` : null;
  return {
    id: r.id,
    principalId: r.principalId,
    principalName: null,
    roleId: r.roleId,
    roleName,
    scope: r.scope,
    justification: r.justification,
    ticket: r.ticket,
    startDateTime: r.schedule.startDateTime,
    endDateTime: r.schedule.expiration.endDateTime ?? null,
    status: r.status,
    stages: r.approval.stages.map((s) => ({
      status: s.status,
      requiredApprovals: s.requiredApprovals,
      decisions: s.decisions,
    })),
    currentStage: currentStageIndex(r.approval),
    consoleUrl,
    requireApproverMfa: approverMfaRequired(policy),
  };
}
