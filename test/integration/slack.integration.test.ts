import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, useClock } from '#shared/clock.ts';
import { type Deps, depsFromEnv } from '#shared/deps.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';
import { ACTION_APPROVE, ACTION_DENY, DECISION_CALLBACK, modalMetadata, slackSignature } from '#shared/domain/slack.ts';
import type { Slack, SlackMessage } from '#shared/ports/slack.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { handleSlackInteraction, runSlackSubmission, type SlackSubmission } from '#shared/usecases/slack.ts';
import { syncSlackMessages } from '#shared/usecases/slack-messages.ts';
import { call } from '#test/support/invoke.ts';
import { createTestTable } from '#test/support/table.ts';

/**
 * Slack's interactions at the use case against DynamoDB Local, with payloads shaped as Slack sends them and a
 * recording Slack port: the attacks of issue 17 each refused, audited, told (ephemeral or in the modal), nothing
 * changed; races decide once per approver.
 */
const SECRET = 'slack-signing-secret-for-tests';
const clock = new ManualClock(new Date('2026-12-02T10:00:00Z'));

interface Recorded {
  method: string;
  args: Record<string, unknown>;
}

class RecordingSlack implements Slack {
  calls: Recorded[] = [];
  readonly users = new Map<string, string>([
    ['bob@example.com', 'U0BOB'],
    ['carol@example.com', 'U0CAROL'],
    ['alice@example.com', 'U0ALICE'],
    ['mallory@example.com', 'U0MALLORY'],
  ]);
  #ts = 0;
  async credentials() {
    return { signingSecret: SECRET, botToken: 'xoxb-test' };
  }
  async postMessage(channel: string, message: SlackMessage) {
    this.calls.push({ method: 'chat.postMessage', args: { channel, ...message } });
    return { channel: channel.startsWith('U') ? `D${channel.slice(1)}` : channel, ts: `1.${++this.#ts}` };
  }
  async update(channel: string, ts: string, message: SlackMessage) {
    this.calls.push({ method: 'chat.update', args: { channel, ts, ...message } });
  }
  async openView(triggerId: string, view: unknown) {
    this.calls.push({ method: 'views.open', args: { triggerId, view } });
  }
  async postEphemeral(channel: string, user: string, text: string) {
    this.calls.push({ method: 'chat.postEphemeral', args: { channel, user, text } });
  }
  async lookupByEmail(email: string) {
    this.calls.push({ method: 'users.lookupByEmail', args: { email } });
    return this.users.get(email) ?? null;
  }
  of(method: string) {
    return this.calls.filter((c) => c.method === method);
  }
}

let slack: RecordingSlack;
let deps: Deps;

beforeAll(async () => {
  process.env.ELEVATE_LOG = 'silent';
  useClock(clock);
  await createTestTable();
  await bootstrap(depsFromEnv(), ['admin']);
  slack = new RecordingSlack();
  deps = { ...depsFromEnv(), slack };
  for (const [id, email] of [
    ['alice', 'alice@example.com'],
    ['bob', 'bob@example.com'],
    ['carol', 'carol@example.com'],
    ['mallory', 'mallory@example.com'],
  ]) {
    const put = await call('PUT', `/v1/principals/${id}`, {
      as: 'admin',
      body: { type: 'user', displayName: id, email },
    });
    expect(put.status).toBe(200);
  }
}, 240_000);

let roles = 0;
/** A role of its own (Bob and Carol approve, `required` of them), Alice eligible for it. */
async function makeRole(required: number): Promise<string> {
  const roleId = `slack-${++roles}`;
  expect(
    (await call('POST', '/v1/roles', { as: 'admin', body: { id: roleId, displayName: roleId, privileged: true } }))
      .status,
  ).toBe(201);
  const policy = defaultPolicy();
  policy.activation.requireMfa = false;
  policy.activation.approval = {
    required: true,
    stages: [
      {
        approvers: [
          { type: 'user', id: 'bob' },
          { type: 'user', id: 'carol' },
        ],
        requiredApprovals: required,
        timeout: 'PT4H',
      },
    ],
  };
  policy.notifications.slack = { channel: 'C0APPROVALS', directMessages: true };
  expect((await call('PUT', `/v1/roles/${roleId}/policy`, { as: 'admin', body: policy })).status).toBe(200);
  const eligible = await call('POST', '/v1/requests', {
    as: 'admin',
    body: { action: 'adminAssign', assignmentType: 'eligible', principalId: 'alice', roleId },
  });
  expect(eligible.status).toBe(201);
  return roleId;
}

/** Alice asks to activate a role of its own: a pending request, its messages posted (the approvers and the channel). */
async function pendingRequest(required = 1): Promise<string> {
  const roleId = await makeRole(required);
  const res = await call<{ id: string; status: string }>('POST', '/v1/requests', {
    as: 'alice',
    body: { action: 'selfActivate', assignmentType: 'active', roleId, justification: 'INC-7' },
  });
  expect(res.status).toBe(202);
  await syncSlackMessages(deps, res.body.id);
  return res.body.id;
}

/** The submissions handed to their asynchronous run (deployed: the function invoked again, InvocationType Event). */
const queued: SlackSubmission[] = [];
const interact = (c: Parameters<typeof handleSlackInteraction>[1]) =>
  handleSlackInteraction(deps, c, async (submission) => {
    queued.push(submission);
  });
/**
 * Runs what was handed over, as Lambda runs the asynchronous invokes once the answers are sent: a run that fails is
 * run again (Lambda retries a failed asynchronous invoke twice).
 */
async function runQueued(): Promise<void> {
  while (queued.length) {
    const jobs = queued.splice(0);
    const runs = await Promise.allSettled(jobs.map((job) => runSlackSubmission(deps, job)));
    const failed = jobs.filter((_, i) => runs[i]?.status === 'rejected');
    for (const job of failed) await runSlackSubmission(deps, job);
  }
}

const form = (payload: unknown) => `payload=${encodeURIComponent(JSON.stringify(payload))}`;
const signed = (body: string, at = clock.now()) => {
  const timestamp = String(Math.floor(at.getTime() / 1000));
  return {
    headers: { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': slackSignature(SECRET, timestamp, body) },
    rawBody: body,
  };
};
const clickBody = (requestId: string, user: string, action = ACTION_APPROVE, extra: Record<string, unknown> = {}) =>
  form({
    type: 'block_actions',
    user: { id: user, username: user.toLowerCase(), team_id: 'T1' },
    api_app_id: 'A1',
    trigger_id: `trigger-${user}`,
    channel: { id: 'C0APPROVALS', name: 'approvals' },
    container: { type: 'message', channel_id: 'C0APPROVALS' },
    actions: [{ type: 'button', action_id: action, value: requestId, block_id: 'b1' }],
    ...extra,
  });
const submitBody = (metadata: string, user: string, justification = 'looked at INC-7') =>
  form({
    type: 'view_submission',
    user: { id: user, username: user.toLowerCase(), team_id: 'T1' },
    view: {
      id: 'V1',
      callback_id: DECISION_CALLBACK,
      private_metadata: metadata,
      state: { values: { justification: { justification: { type: 'plain_text_input', value: justification } } } },
    },
  });

const request = async (id: string) =>
  (
    await call<{ status: string; approval: { stages: { decisions: unknown[] }[] } }>('GET', `/v1/requests/${id}`, {
      as: 'admin',
    })
  ).body;
const events = async (requestId: string) => {
  const res = await call<{
    items: {
      action: string;
      details: Record<string, unknown>;
      actor: { id: string };
      target: { requestId: string | null };
    }[];
  }>('GET', '/v1/audit-events?limit=200', { as: 'admin' });
  return res.body.items.filter((e) => e.target.requestId === requestId || e.details.requestId === requestId);
};

describe('Slack approvals', () => {
  it('posts the request to its approvers and the channel, and a click then a modal submission approves it', async () => {
    // Prepare
    const id = await pendingRequest();
    const posted = slack.of('chat.postMessage').filter((c) => JSON.stringify(c.args.blocks).includes(id));
    expect(posted.map((c) => c.args.channel).sort()).toEqual(['C0APPROVALS', 'U0BOB', 'U0CAROL']);

    // Act: Bob clicks Approve, then submits the modal Elevate opened
    slack.calls = [];
    expect(await interact(signed(clickBody(id, 'U0BOB')))).toEqual({ status: 200 });
    const opened = slack.of('views.open')[0]?.args as { triggerId: string; view: { private_metadata: string } };
    const answer = await interact(signed(submitBody(opened.view.private_metadata, 'U0BOB')));

    // Assess: Slack's answer comes first, before anything is decided or updated
    expect(opened.triggerId).toBe('trigger-U0BOB');
    expect(answer).toEqual({ status: 200, body: { response_action: 'clear' } });
    expect(queued).toHaveLength(1);
    expect((await request(id)).status).toBe('PendingApproval');
    expect(slack.of('chat.update')).toEqual([]);
    // then the asynchronous run decides
    await runQueued();
    expect((await request(id)).status).toBe('Granted');
    const approved = (await events(id)).find((e) => e.action === 'request.approved');
    expect(approved?.actor.id).toBe('bob');
    expect(approved?.details).toEqual({
      stage: 0,
      decision: 'Approve',
      justification: 'looked at INC-7',
      channel: 'slack',
    });
    // every message of the request updated with the outcome; the requester told
    const updates = slack.of('chat.update');
    expect(updates.map((c) => c.args.channel).sort()).toEqual(['C0APPROVALS', 'D0BOB', 'D0CAROL']);
    for (const u of updates) expect(JSON.stringify(u.args.blocks)).toContain('*Outcome:* Granted');
    expect(slack.of('chat.postMessage').map((c) => [c.args.channel, c.args.text])).toEqual([
      ['U0ALICE', expect.stringContaining('is Granted')],
    ]);
  });

  it('updates the Slack messages after a decision made through the API (any channel)', async () => {
    const id = await pendingRequest();
    slack.calls = [];
    const denied = await call('POST', `/v1/requests/${id}/deny`, { as: 'carol', body: { justification: 'no' } });
    expect(denied.status).toBe(200);
    await syncSlackMessages(deps, id);
    expect(slack.of('chat.update')).toHaveLength(3);
    const event = (await events(id)).find((e) => e.action === 'request.denied');
    expect(event?.details).toEqual({ stage: 0, decision: 'Deny', justification: 'no', channel: 'api' });
  });

  describe('refusals: nothing changes, each is audited and told', () => {
    it('refuses a forged signature and a replay 6 minutes old with 401, audited', async () => {
      const id = await pendingRequest();
      const body = clickBody(id, 'U0BOB');
      const forged = {
        ...signed(body),
        headers: {
          ...signed(body).headers,
          'x-slack-signature': slackSignature('guess', String(Math.floor(clock.now().getTime() / 1000)), body),
        },
      };
      const old = signed(body, new Date(clock.now().getTime() - 6 * 60_000));
      slack.calls = [];

      expect(await interact(forged)).toMatchObject({ refused: { status: 401 } });
      expect(await interact(old)).toMatchObject({ refused: { status: 401 } });
      expect(await interact({ headers: {}, rawBody: body })).toMatchObject({
        refused: { status: 401 },
      });

      expect(slack.calls).toEqual([]);
      expect((await request(id)).status).toBe('PendingApproval');
      const refused = (
        await call<{ items: { action: string; details: { reason: string } }[] }>(
          'GET',
          '/v1/audit-events?action=slack.refused&limit=200',
          { as: 'admin' },
        )
      ).body.items;
      expect(refused.map((e) => e.details.reason)).toEqual(expect.arrayContaining(['badSignature', 'staleTimestamp']));
    });

    it('refuses a Slack user linked to nobody, whatever the payload says elsewhere (user.name, message.user)', async () => {
      const id = await pendingRequest();
      slack.calls = [];
      const body = clickBody(id, 'U0NOBODY', ACTION_APPROVE, {
        user: { id: 'U0NOBODY', username: 'bob', name: 'bob' },
        message: { user: 'U0BOB', text: 'x' },
      });
      expect(await interact(signed(body))).toEqual({ status: 200 });
      expect(slack.of('views.open')).toEqual([]);
      expect(slack.of('chat.postEphemeral').map((c) => [c.args.user, c.args.text])).toEqual([
        ['U0NOBODY', expect.stringContaining('not linked')],
      ]);
      expect((await request(id)).status).toBe('PendingApproval');
      expect((await events(id)).map((e) => [e.action, e.details.reason])).toContainEqual(['slack.refused', 'unmapped']);
    });

    it('refuses the requester approving their own request, and a non-approver', async () => {
      const id = await pendingRequest();
      await syncSlackMessages(deps, id); // links nobody new: alice is not an approver of the stage
      // alice and mallory get linked by their e-mail (as a message to them would)
      const { slackUserOf } = await import('#shared/usecases/slack-messages.ts');
      await slackUserOf(deps, slack, 'alice');
      await slackUserOf(deps, slack, 'mallory');
      slack.calls = [];

      await interact(signed(clickBody(id, 'U0ALICE')));
      await interact(signed(clickBody(id, 'U0MALLORY', ACTION_DENY)));
      // a submission forged for them: the modal metadata signed as Elevate would (they still are who they are)
      const own = await interact(signed(submitBody(modalMetadata(SECRET, id, 'Approve', 'U0ALICE'), 'U0ALICE')));

      expect(slack.of('views.open')).toEqual([]);
      expect(slack.of('chat.postEphemeral').map((c) => c.args.text)).toEqual([
        'You cannot decide your own request.',
        'You are not an approver of the current stage of this request.',
      ]);
      expect(own).toEqual({
        status: 200,
        body: { response_action: 'errors', errors: { justification: 'You cannot decide your own request.' } },
      });
      expect((await request(id)).status).toBe('PendingApproval');
      const codes = (await events(id))
        .filter((e) => e.action === 'authorization.refused')
        .map((e) => [e.actor.id, e.details.code, e.details.channel]);
      expect(codes).toEqual(
        expect.arrayContaining([
          ['alice', 'SelfApprovalForbidden', 'slack'],
          ['mallory', 'Forbidden', 'slack'],
        ]),
      );
    });

    it('refuses a click and a submission on a request already decided', async () => {
      const id = await pendingRequest();
      expect(
        (await call('POST', `/v1/requests/${id}/approve`, { as: 'carol', body: { justification: 'ok' } })).status,
      ).toBe(200);
      slack.calls = [];

      await interact(signed(clickBody(id, 'U0BOB')));
      const late = await interact(signed(submitBody(modalMetadata(SECRET, id, 'Deny', 'U0BOB'), 'U0BOB')));

      expect(slack.of('chat.postEphemeral').map((c) => c.args.text)).toEqual(['This request was already decided.']);
      expect(late).toMatchObject({ body: { response_action: 'errors' } });
      expect((await request(id)).status).toBe('Granted');
      const refused = (await events(id)).filter((e) => e.action === 'authorization.refused');
      expect(refused.map((e) => e.details.code)).toEqual(['AlreadyDecided', 'AlreadyDecided']);
    });

    it('refuses a modal submission for another request id than the one clicked', async () => {
      const clicked = await pendingRequest();
      const other = await pendingRequest(2);
      const metadata = JSON.parse(modalMetadata(SECRET, clicked, 'Approve', 'U0BOB')) as Record<string, string>;
      const answer = await interact(signed(submitBody(JSON.stringify({ ...metadata, r: other }), 'U0BOB')));
      const stolen = await interact(signed(submitBody(JSON.stringify(metadata), 'U0CAROL')));

      expect(answer).toMatchObject({ body: { response_action: 'errors' } });
      expect(stolen).toMatchObject({ body: { response_action: 'errors' } });
      expect((await request(clicked)).status).toBe('PendingApproval');
      expect((await request(other)).status).toBe('PendingApproval');
    });

    it('refuses a huge or malformed payload without reading it', async () => {
      const huge = `payload=${'x'.repeat(70_000)}`;
      expect(await interact(signed(huge))).toMatchObject({ refused: { status: 413 } });
      expect(await interact(signed('payload=%7Bnot-json'))).toMatchObject({
        refused: { status: 400 },
      });
      expect(
        await interact(signed(form({ type: 'block_actions', user: { id: 'U0BOB' }, actions: 'x' }))),
      ).toMatchObject({ refused: { status: 400 } });
    });
  });

  it('counts each approver once when two approvers click and submit 10 times at once (quorum of 2)', async () => {
    // Prepare
    const id = await pendingRequest(2);
    const submit = (user: 'U0BOB' | 'U0CAROL', i: number) =>
      interact(signed(submitBody(modalMetadata(SECRET, id, 'Approve', user), user, `go ${i}`)));

    // Act
    slack.calls = [];
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => submit(i % 2 === 0 ? 'U0BOB' : 'U0CAROL', i)),
    );
    await runQueued();

    // Assess: one decision per approver, the request granted once; the submissions that lost told why, audited
    const cleared = answers.filter(
      (a) => 'body' in a && (a.body as { response_action: string }).response_action === 'clear',
    );
    const r = await request(id);
    expect(r.status).toBe('Granted');
    expect(r.approval.stages[0]?.decisions).toHaveLength(2);
    const log = await events(id);
    expect(log.filter((e) => e.action === 'request.approved')).toHaveLength(1);
    expect(log.filter((e) => e.action === 'request.decisionRecorded')).toHaveLength(1);
    const refused = log.filter((e) => e.action === 'authorization.refused');
    const told = slack
      .of('chat.postMessage')
      .filter((c) => String(c.args.text).startsWith('This request was already decided.'));
    // each submission either decided (2), or was refused at once in the modal, or refused by its run and told in a DM
    expect(answers.length - cleared.length + told.length).toBe(8);
    expect(refused).toHaveLength(8);
    expect(refused.every((e) => e.details.code === 'AlreadyDecided' && e.details.channel === 'slack')).toBe(true);
  }, 120_000);

  it('decides once when Slack retries a submission (X-Slack-Retry-Num) and when Lambda delivers its run twice', async () => {
    // Prepare
    const id = await pendingRequest(2);
    const body = submitBody(modalMetadata(SECRET, id, 'Approve', 'U0BOB'), 'U0BOB');
    slack.calls = [];

    // Act: Slack got no answer in time and sends the same submission again, signed anew
    const first = await interact(signed(body));
    const retry = await interact({
      ...signed(body, new Date(clock.now().getTime() + 3_000)),
      headers: { ...signed(body, new Date(clock.now().getTime() + 3_000)).headers, 'x-slack-retry-num': '1' },
    });
    expect(queued).toHaveLength(1);
    const job = queued[0] as SlackSubmission;
    await runQueued();
    // Lambda's at-least-once delivery: the same event again, now and concurrently
    await Promise.all([runSlackSubmission(deps, job), runSlackSubmission(deps, job)]);

    // Assess
    expect(first).toEqual({ status: 200, body: { response_action: 'clear' } });
    expect(retry).toEqual({ status: 200, body: { response_action: 'clear' } });
    const r = await request(id);
    expect(r.status).toBe('PendingApproval');
    expect(r.approval.stages[0]?.decisions).toHaveLength(1);
    const log = await events(id);
    expect(log.filter((e) => e.action === 'request.decisionRecorded')).toHaveLength(1);
    expect(log.filter((e) => e.action === 'authorization.refused')).toEqual([]);
    expect(slack.of('chat.postMessage').filter((c) => c.args.channel === 'U0BOB')).toEqual([]);
  });

  it('tells the approver in a direct message, audited, a refusal only the decision finds (decided meanwhile)', async () => {
    // Prepare: Bob's submission passes the checks and is answered; Carol denies through the API before it runs
    const id = await pendingRequest();
    const answer = await interact(signed(submitBody(modalMetadata(SECRET, id, 'Approve', 'U0BOB'), 'U0BOB')));
    expect(answer).toEqual({ status: 200, body: { response_action: 'clear' } });
    expect((await call('POST', `/v1/requests/${id}/deny`, { as: 'carol', body: { justification: 'no' } })).status).toBe(
      200,
    );
    slack.calls = [];

    // Act
    await runQueued();

    // Assess
    expect((await request(id)).status).toBe('Denied');
    expect(slack.of('chat.postMessage').map((c) => [c.args.channel, c.args.text])).toEqual([
      ['U0BOB', `This request was already decided. (request ${id})`],
    ]);
    const refused = (await events(id)).filter((e) => e.action === 'authorization.refused');
    expect(refused.map((e) => [e.actor.id, e.details.code, e.details.channel])).toEqual([
      ['bob', 'AlreadyDecided', 'slack'],
    ]);
  });

  it('gives a submission whose run failed before deciding back to the retry of its event, which decides it', async () => {
    // Prepare: the run fails on its first read of the link (a throttle that outlasted the SDK's retries)
    const id = await pendingRequest();
    await interact(signed(submitBody(modalMetadata(SECRET, id, 'Approve', 'U0BOB'), 'U0BOB')));
    const job = queued.splice(0)[0] as SlackSubmission;
    const failing: Deps = {
      ...deps,
      store: new Proxy(deps.store, {
        get(target, prop, receiver) {
          if (prop === 'get') return async () => Promise.reject(new Error('ProvisionedThroughputExceededException'));
          const v = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      }),
    };

    // Act
    await expect(runSlackSubmission(failing, job)).rejects.toThrow('ProvisionedThroughputExceededException');
    await runSlackSubmission(deps, job);

    // Assess
    expect((await request(id)).status).toBe('Granted');
    expect((await events(id)).filter((e) => e.action === 'request.approved')).toHaveLength(1);
  });
});
