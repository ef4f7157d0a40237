import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { LOCAL_SLACK_SIGNING_SECRET, type SlackCall, type SlackPosted } from '#infra/local/slack.ts';
import { postInteraction, slackClick } from '#infra/local/slack-click.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';
import { type AnonymousApiClient, type ApiClient, api, startTestServer } from '#test/support/local.ts';

/**
 * Slack approvals on the local runtime, end to end: the request's messages in the Slack stand-in, a click signed as
 * Slack signs it (`npm run slack:click`), the decision through the API's use case, every message updated and the
 * requester told; the same audit events as an API decision except `channel`; the approver's MFA sends the approver to
 * the console. The refusals one by one, at the use case: test/integration/slack.integration.test.ts.
 */
const run = promisify(execFile);
let server: LocalServer;
let anonymous: AnonymousApiClient;
let admin: ApiClient;

interface StandIn {
  items: SlackPosted[];
  calls: SlackCall[];
}
interface AuditEvent {
  action: string;
  actor: { id: string };
  target: { requestId: string | null };
  details: Record<string, unknown>;
}

const standIn = async () => (await anonymous.get<StandIn>('/_local/slack/messages')).body;
const messagesOf = async (requestId: string) =>
  (await standIn()).items.filter((m) => JSON.stringify(m).includes(requestId));
const audit = async (requestId: string) =>
  (await admin.get<{ items: AuditEvent[] }>('/v1/audit-events?limit=200')).body.items.filter(
    (e) => e.target.requestId === requestId || e.details.requestId === requestId,
  );
const statusOf = async (id: string) => (await admin.get<{ status: string }>(`/v1/requests/${id}`)).body.status;

beforeAll(async () => {
  server = await startTestServer({ clockStart: new Date('2026-12-03T09:00:00Z'), slack: true });
  anonymous = api(server);
  admin = anonymous.as({ sub: 'admin', mfa: true });
  // Bob and Mallory are linked by an administrator; Alice is found by her e-mail (users.lookupByEmail).
  for (const [id, email, slackUserId] of [
    ['alice', 'alice@example.com', undefined],
    ['bob', 'bob@example.com', 'U0BOB'],
    ['mallory', 'mallory@example.com', 'U0MALLORY'],
  ] as const) {
    const put = await admin.put(`/v1/principals/${id}`, {
      type: 'user',
      displayName: id,
      email,
      ...(slackUserId ? { slackUserId } : {}),
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
  }
  expect((await anonymous.post('/_local/slack/users', { email: 'alice@example.com', id: 'U0ALICE' })).status).toBe(200);
}, 240_000);

afterAll(async () => {
  await server?.stop();
});

let roles = 0;
/** A role of its own that Bob approves (one approval), Alice eligible; a pending request of Alice's for it. */
async function pendingRequest(options: { requireApproverMfa?: boolean } = {}): Promise<string> {
  const roleId = `slack-e2e-${++roles}`;
  expect((await admin.post('/v1/roles', { id: roleId, displayName: `Role ${roles}`, privileged: true })).status).toBe(
    201,
  );
  const policy = defaultPolicy();
  policy.activation.requireMfa = false;
  policy.activation.approval = {
    required: true,
    stages: [{ approvers: [{ type: 'user', id: 'bob' }], requiredApprovals: 1, timeout: 'PT4H' }],
    ...(options.requireApproverMfa ? { requireApproverMfa: true } : {}),
  };
  policy.notifications.slack = { channel: 'C0APPROVALS', directMessages: true };
  expect((await admin.put(`/v1/roles/${roleId}/policy`, policy)).status).toBe(200);
  expect(
    (
      await admin.post('/v1/requests', {
        action: 'adminAssign',
        assignmentType: 'eligible',
        principalId: 'alice',
        roleId,
      })
    ).status,
  ).toBe(201);
  const asked = await anonymous.as({ sub: 'alice' }).post<{ id: string }>('/v1/requests', {
    action: 'selfActivate',
    assignmentType: 'active',
    roleId,
    justification: 'INC-7',
  });
  expect(asked.status, JSON.stringify(asked.body)).toBe(202);
  return asked.body.id;
}

const click = (requestId: string, user: string, action: 'approve' | 'deny' = 'approve') =>
  slackClick({
    url: server.url,
    signingSecret: LOCAL_SLACK_SIGNING_SECRET,
    requestId,
    user,
    action,
    reason: 'INC-7 checked',
  });

describe('Slack approvals on the local runtime', () => {
  it('request → message to the approver and the channel → slack:click approve → Granted, messages updated, requester told', async () => {
    // Prepare
    const id = await pendingRequest();
    const posted = await messagesOf(id);
    expect(posted.map((m) => m.channel).sort()).toEqual(['C0APPROVALS', 'D0BOB']);
    const buttons = JSON.stringify(posted[0]?.blocks);
    expect(buttons).toContain('elevate.approve');
    expect(buttons).toContain('INC-7');

    // Act: the script, as a person runs it
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/slack-click.ts',
        '--request',
        id,
        '--user',
        'U0BOB',
        '--action',
        'approve',
        '--reason',
        'INC-7 checked',
      ],
      { env: { ...process.env, ELEVATE_URL: server.url, ELEVATE_SLACK_SIGNING_SECRET: LOCAL_SLACK_SIGNING_SECRET } },
    );

    // Assess (the decision's effects all done: every message updated)
    expect(stdout).toContain(`U0BOB approved ${id} in Slack`);
    await server.idle();
    expect(await statusOf(id)).toBe('Granted');
    const after = await messagesOf(id);
    for (const channel of ['C0APPROVALS', 'D0BOB']) {
      const m = after.find((x) => x.channel === channel) as SlackPosted;
      expect(m.updates, channel).toBeGreaterThanOrEqual(1);
      const shown = JSON.stringify(m.blocks);
      expect(shown).toContain('*Outcome:* Granted');
      expect(shown).toContain('bob approved: INC-7 checked');
      expect(shown).not.toContain('elevate.approve');
    }
    const toRequester = after.find((m) => m.channel === 'D0ALICE') as SlackPosted;
    expect(toRequester.text).toBe(`Your request ${id} for Role ${roles} at / is Granted.`);
    const decided = (await audit(id)).find((e) => e.action === 'request.approved');
    expect(decided?.actor.id).toBe('bob');
  }, 120_000);

  it('gives the same audit events for a decision in Slack as through the API, except channel', async () => {
    // Prepare
    const inSlack = await pendingRequest();
    const inApi = await pendingRequest();

    // Act
    expect(await click(inSlack, 'U0BOB')).toEqual({ decided: true, refusal: null });
    await server.idle();
    const approved = await anonymous
      .as({ sub: 'bob', email: 'bob@example.com' })
      .post(`/v1/requests/${inApi}/approve`, { justification: 'INC-7 checked' });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);

    // Assess: the decision's events, with the ids and times of each request taken out
    // every id, role and time made for each request is a placeholder; `channel` is set apart
    const neutral = (value: unknown) =>
      JSON.parse(
        JSON.stringify(value)
          .replace(/\b[a-z]{3}_[0-9A-Z]{26}\b/g, '<id>')
          .replace(/slack-e2e-\d+/g, '<role>')
          .replace(/Role \d+/g, '<role name>'),
      ) as unknown;
    const shape = async (id: string) =>
      (await audit(id))
        .filter((e) => e.actor.id === 'bob')
        .map((e) => {
          const { channel, ...details } = e.details;
          return { action: e.action, details: neutral(details), channel };
        })
        .sort((a, b) => a.action.localeCompare(b.action));
    const slackEvents = await shape(inSlack);
    const apiEvents = await shape(inApi);
    expect(slackEvents.map(({ channel: _, ...rest }) => rest)).toEqual(
      apiEvents.map(({ channel: _, ...rest }) => rest),
    );
    expect(slackEvents.map((e) => e.action)).toContain('request.approved');
    expect(slackEvents.find((e) => e.action === 'request.approved')?.channel).toBe('slack');
    expect(apiEvents.find((e) => e.action === 'request.approved')?.channel).toBe('api');
  }, 120_000);

  it("answers Slack's submission at once and decides after it: the answer comes before the decision's effects", async () => {
    // Prepare: Slack's chat.update (the decision's effect: every message of the request updated) answers in 4 s
    const id = await pendingRequest();
    const user = { id: 'U0BOB' };
    const clicked = await postInteraction(server.url, LOCAL_SLACK_SIGNING_SECRET, {
      type: 'block_actions',
      user,
      trigger_id: 'trigger-timed',
      channel: { id: 'D0BOB' },
      actions: [{ type: 'button', action_id: 'elevate.approve', value: id }],
    });
    expect(clicked.status).toBe(200);
    const opened = (await standIn()).calls.find(
      (c) => c.method === 'views.open' && c.args.trigger_id === 'trigger-timed',
    );
    expect(opened).toBeDefined();
    const metadata = (opened?.args.view as { private_metadata: string } | undefined)?.private_metadata ?? '';
    const updatesOf = async () =>
      (await standIn()).calls.filter((c) => c.method === 'chat.update' && JSON.stringify(c.args).includes(id));
    expect((await anonymous.post('/_local/slack/latency', { method: 'chat.update', ms: 4_000 })).status).toBe(200);

    // Act: the submission, timed
    const t0 = performance.now();
    const answer = await postInteraction(server.url, LOCAL_SLACK_SIGNING_SECRET, {
      type: 'view_submission',
      user,
      view: {
        id: 'V0TIMED',
        callback_id: 'elevate.decision',
        private_metadata: metadata,
        state: { values: { justification: { justification: { value: 'timed' } } } },
      },
    });
    const answeredIn = performance.now() - t0;
    const updatesAtAnswer = await updatesOf();
    await server.idle();
    expect((await anonymous.post('/_local/slack/latency', { method: 'chat.update', ms: 0 })).status).toBe(200);

    // Assess: answered before any update could be (each takes 4 s); then decided once, every message updated
    expect(answer).toEqual({ status: 200, body: { response_action: 'clear' } });
    expect(answeredIn).toBeLessThan(4_000);
    expect(updatesAtAnswer).toEqual([]);
    expect(await statusOf(id)).toBe('Granted');
    expect((await updatesOf()).map((c) => c.args.channel).sort()).toEqual(['C0APPROVALS', 'D0BOB']);
    expect((await audit(id)).filter((e) => e.action === 'request.approved')).toHaveLength(1);
  }, 120_000);

  it('refuses, over HTTP, a forged signature and a timestamp 6 minutes old: 401, nothing changed, audited', async () => {
    // Prepare
    const id = await pendingRequest();
    const payload = {
      type: 'view_submission',
      user: { id: 'U0BOB' },
      view: { callback_id: 'elevate.decision', private_metadata: '{}', state: { values: {} } },
    };
    const now = Math.floor(Date.parse((await anonymous.get<{ now: string }>('/_local/clock')).body.now) / 1000);

    // Act
    const forged = await postInteraction(server.url, 'guessed-secret', payload);
    const stale = await postInteraction(server.url, LOCAL_SLACK_SIGNING_SECRET, payload, String(now - 6 * 60));

    // Assess
    expect([forged.status, stale.status]).toEqual([401, 401]);
    expect(await statusOf(id)).toBe('PendingApproval');
    const refused = (
      await admin.get<{ items: AuditEvent[] }>('/v1/audit-events?action=slack.refused&limit=200')
    ).body.items.map((e) => e.details.reason);
    expect(refused).toEqual(expect.arrayContaining(['badSignature', 'staleTimestamp']));
  }, 120_000);

  it('refuses in Slack the requester, a non-approver, an unmapped user and a second decision, each told why', async () => {
    // Prepare
    const id = await pendingRequest();

    // Act + Assess: each refused with the reason Slack shows them (ephemeral), the request still pending
    expect(await click(id, 'U0ALICE')).toEqual({ decided: false, refusal: 'You cannot decide your own request.' });
    expect(await click(id, 'U0MALLORY', 'deny')).toEqual({
      decided: false,
      refusal: 'You are not an approver of the current stage of this request.',
    });
    expect((await click(id, 'U0NOBODY')).refusal).toContain('not linked to an Elevate principal');
    expect(await statusOf(id)).toBe('PendingApproval');
    expect(await click(id, 'U0BOB', 'deny')).toEqual({ decided: true, refusal: null });
    expect(await click(id, 'U0BOB')).toEqual({ decided: false, refusal: 'This request was already decided.' });
    expect(await statusOf(id)).toBe('Denied');
    const refusals = (await audit(id))
      .filter((e) => e.action === 'authorization.refused' || e.action === 'slack.refused')
      .map((e) => [e.actor.id, e.details.code ?? e.details.reason]);
    expect(refusals).toEqual(
      expect.arrayContaining([
        ['alice', 'SelfApprovalForbidden'],
        ['mallory', 'Forbidden'],
        [expect.any(String), 'unmapped'],
        ['bob', 'AlreadyDecided'],
      ]),
    );
  }, 120_000);

  it("sends the approver to the console when the policy requires the approver's MFA: no decision without it", async () => {
    // Prepare
    const id = await pendingRequest({ requireApproverMfa: true });
    const message = (await messagesOf(id)).find((m) => m.channel === 'D0BOB') as SlackPosted;
    expect(JSON.stringify(message.blocks)).toContain(`"url":"${server.url}/requests/${id}"`);
    expect(JSON.stringify(message.blocks)).not.toContain('elevate.approve');

    // Act
    const inSlack = await click(id, 'U0BOB');
    const withoutMfa = await anonymous
      .as({ sub: 'bob', mfa: false })
      .post<{ code: string }>(`/v1/requests/${id}/approve`, { justification: 'ok' });

    // Assess: refused in Slack (with the console's link) and through the API (400), audited; then MFA decides
    expect(inSlack.decided).toBe(false);
    expect(inSlack.refusal).toContain(`${server.url}/requests/${id}`);
    expect(withoutMfa.status).toBe(400);
    expect(withoutMfa.body.code).toBe('ApproverMfaRequired');
    expect(await statusOf(id)).toBe('PendingApproval');
    const codes = (await audit(id))
      .filter((e) => e.action === 'authorization.refused')
      .map((e) => [e.details.code, e.details.channel]);
    expect(codes).toEqual(
      expect.arrayContaining([
        ['ApproverMfaRequired', 'slack'],
        ['ApproverMfaRequired', 'api'],
      ]),
    );
    const withMfa = await anonymous.as({ sub: 'bob', mfa: true }).post(`/v1/requests/${id}/approve`, {});
    expect(withMfa.status, JSON.stringify(withMfa.body)).toBe(200);
    expect(await statusOf(id)).toBe('Granted');
  }, 120_000);
});
