import { describe, expect, it } from 'vitest';
import {
  ACTION_APPROVE,
  ACTION_DENY,
  DECISION_CALLBACK,
  type MessageFacts,
  modalMetadata,
  openModalMetadata,
  parseInteraction,
  requestMessage,
  slackSignature,
  verifySlackSignature,
} from '#shared/domain/slack.ts';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const NOW = new Date('2026-12-02T10:00:00Z');
const ts = (offsetSeconds = 0) => String(Math.floor(NOW.getTime() / 1000) + offsetSeconds);
const form = (payload: unknown) => `payload=${encodeURIComponent(JSON.stringify(payload))}`;
const click = (over: Record<string, unknown> = {}) =>
  form({
    type: 'block_actions',
    user: { id: 'U0APPROVER', username: 'bob', name: 'bob', team_id: 'T1' },
    trigger_id: '123.456.abc',
    channel: { id: 'C0CHANNEL', name: 'approvals' },
    actions: [{ action_id: ACTION_APPROVE, value: 'req_1', type: 'button' }],
    ...over,
  });

describe('Slack request signature', () => {
  it('accepts the signature Slack computes over v0:timestamp:body', () => {
    // Prepare
    const body = click();
    const t = ts(-10);

    // Act
    const result = verifySlackSignature({
      signingSecret: SECRET,
      timestamp: t,
      signature: slackSignature(SECRET, t, body),
      rawBody: body,
      now: NOW,
    });

    // Assess
    expect(result).toEqual({ ok: true });
  });

  it('refuses a signature made with another secret, of another body, or truncated', () => {
    const body = click();
    const t = ts();
    const good = slackSignature(SECRET, t, body);
    for (const signature of [
      slackSignature('another-secret', t, body),
      slackSignature(SECRET, t, `${body}&x=1`),
      good.slice(0, -2),
      `${good}00`,
      good.toUpperCase(),
      good.replace('v0=', 'v1='),
      '',
    ]) {
      expect(verifySlackSignature({ signingSecret: SECRET, timestamp: t, signature, rawBody: body, now: NOW })).toEqual(
        { ok: false, reason: 'badSignature' },
      );
    }
  });

  it('refuses a replay: a valid signature with a timestamp 6 minutes old, or 6 minutes ahead', () => {
    const body = click();
    for (const t of [ts(-360), ts(360)]) {
      const signature = slackSignature(SECRET, t, body);
      expect(verifySlackSignature({ signingSecret: SECRET, timestamp: t, signature, rawBody: body, now: NOW })).toEqual(
        { ok: false, reason: 'staleTimestamp' },
      );
    }
    // 5 minutes is still within the window
    const t = ts(-300);
    expect(
      verifySlackSignature({
        signingSecret: SECRET,
        timestamp: t,
        signature: slackSignature(SECRET, t, body),
        rawBody: body,
        now: NOW,
      }).ok,
    ).toBe(true);
  });

  it('refuses a missing or non-numeric timestamp, even signed', () => {
    const body = click();
    for (const t of [undefined, '', '1e9', '-1', ' 1764669600', '1764669600.5', '9'.repeat(20)]) {
      const signature = slackSignature(SECRET, t ?? '', body);
      expect(verifySlackSignature({ signingSecret: SECRET, timestamp: t, signature, rawBody: body, now: NOW }).ok).toBe(
        false,
      );
    }
  });
});

describe('Slack interaction payloads', () => {
  it('reads a click: who is only the signed user.id, never the other fields naming someone', () => {
    // Prepare: every other field names the requester
    const body = click({
      user: { id: 'U0APPROVER', username: 'alice', name: 'alice', team_id: 'T1' },
      message: { user: 'U0ALICE', text: 'x' },
      actions: [{ action_id: ACTION_DENY, value: 'req_1', user: 'U0ALICE' }],
    });

    // Act
    const parsed = parseInteraction(body);

    // Assess
    expect(parsed).toEqual({
      kind: 'click',
      slackUserId: 'U0APPROVER',
      requestId: 'req_1',
      decision: 'Deny',
      triggerId: '123.456.abc',
      channel: 'C0CHANNEL',
    });
  });

  it('reads a modal submission with its justification', () => {
    const metadata = modalMetadata(SECRET, 'req_1', 'Approve', 'U0APPROVER');
    const parsed = parseInteraction(
      form({
        type: 'view_submission',
        user: { id: 'U0APPROVER' },
        view: {
          id: 'V1',
          callback_id: DECISION_CALLBACK,
          private_metadata: metadata,
          state: { values: { justification: { justification: { type: 'plain_text_input', value: '  on call  ' } } } },
        },
      }),
    );
    expect(parsed).toEqual({
      kind: 'submit',
      id: expect.stringMatching(/^[0-9a-f]{64}$/),
      slackUserId: 'U0APPROVER',
      metadata,
      justification: 'on call',
    });
  });

  it("names a submission by its payload's digest: the same for Slack's retry of it, another for another", () => {
    const body = (justification: string) =>
      form({
        type: 'view_submission',
        user: { id: 'U0APPROVER' },
        view: {
          callback_id: DECISION_CALLBACK,
          private_metadata: modalMetadata(SECRET, 'req_1', 'Approve', 'U0APPROVER'),
          state: { values: { justification: { justification: { value: justification } } } },
        },
      });
    const id = (raw: string) => (parseInteraction(raw) as { id: string }).id;
    expect(id(body('a'))).toBe(id(body('a')));
    expect(id(body('a'))).not.toBe(id(body('b')));
  });

  it('calls malformed what it cannot read: no payload, two payloads, bad JSON, no user, a bad request id', () => {
    for (const body of [
      '',
      'payload=',
      'payload=%7B',
      `${click()}&${click()}`,
      form({ type: 'block_actions', actions: [] }),
      form([1, 2, 3]),
      form('text'),
      click({ user: { id: 'alice' } }),
      click({ actions: [{ action_id: ACTION_APPROVE, value: '../../v1/roles' }] }),
      click({ actions: [{ action_id: ACTION_APPROVE }] }),
      click({ actions: Array.from({ length: 50 }, () => ({ action_id: ACTION_APPROVE, value: 'req_1' })) }),
      '\u0000\uffff'.repeat(1000),
    ]) {
      expect(parseInteraction(body), body.slice(0, 60)).toBe('malformed');
    }
  });

  it('ignores interactions Elevate does not act on (another button, a shortcut)', () => {
    expect(parseInteraction(click({ actions: [{ action_id: 'elevate.open' }] }))).toEqual({
      kind: 'ignored',
      slackUserId: 'U0APPROVER',
    });
    expect(parseInteraction(form({ type: 'shortcut', user: { id: 'U0APPROVER' } }))).toEqual({
      kind: 'ignored',
      slackUserId: 'U0APPROVER',
    });
  });
});

describe('the decision modal is bound to its request, decision and user', () => {
  it('opens the metadata it made', () => {
    const m = modalMetadata(SECRET, 'req_1', 'Deny', 'U0APPROVER');
    expect(openModalMetadata(SECRET, m, 'U0APPROVER')).toEqual({ requestId: 'req_1', decision: 'Deny' });
  });

  it('refuses a submission for another request id, another decision, by another user, or under another secret', () => {
    const m = JSON.parse(modalMetadata(SECRET, 'req_1', 'Deny', 'U0APPROVER')) as Record<string, string>;
    expect(openModalMetadata(SECRET, JSON.stringify({ ...m, r: 'req_2' }), 'U0APPROVER')).toBeUndefined();
    expect(openModalMetadata(SECRET, JSON.stringify({ ...m, d: 'Approve' }), 'U0APPROVER')).toBeUndefined();
    expect(openModalMetadata(SECRET, JSON.stringify(m), 'U0OTHER')).toBeUndefined();
    expect(openModalMetadata(SECRET, JSON.stringify({ ...m, u: 'U0OTHER' }), 'U0OTHER')).toBeUndefined();
    expect(openModalMetadata('other', JSON.stringify(m), 'U0APPROVER')).toBeUndefined();
    expect(openModalMetadata(SECRET, 'not json', 'U0APPROVER')).toBeUndefined();
    expect(openModalMetadata(SECRET, JSON.stringify({ ...m, extra: 1 }), 'U0APPROVER')).toBeUndefined();
  });
});

describe('the request message', () => {
  const facts: MessageFacts = {
    id: 'req_1',
    principalId: 'alice',
    principalName: 'Alice <!channel>',
    roleId: 'db-admin',
    roleName: 'DB admin',
    scope: '/',
    justification: 'INC-42 <https://evil.example|click> & <@U0BOSS>',
    ticket: { system: 'jira', number: 'OPS-1' },
    startDateTime: '2026-12-02T10:00:00Z',
    endDateTime: '2026-12-02T12:00:00Z',
    status: 'PendingApproval',
    stages: [
      {
        status: 'Pending',
        requiredApprovals: 2,
        decisions: [{ approverId: 'bob', decision: 'Approve', justification: 'ok' }],
      },
    ],
    currentStage: 0,
    consoleUrl: 'https://console.example.com/requests/req_1',
    requireApproverMfa: false,
  };

  it('shows the facts, the quorum progress and the buttons; text from people cannot mention or link', () => {
    const { blocks } = requestMessage(facts);
    const json = JSON.stringify(blocks);
    expect(json).toContain('1 of 2 approvals');
    expect(json).toContain('&lt;!channel&gt;');
    expect(json).toContain('&lt;https://evil.example|click&gt; &amp; &lt;@U0BOSS&gt;');
    expect(json).not.toContain('<!channel>');
    expect(json).not.toContain('<@U0BOSS>');
    const actions = blocks.at(-1) as { elements: { action_id: string; value: string }[] };
    expect(actions.elements.map((e) => [e.action_id, e.value])).toEqual([
      [ACTION_APPROVE, 'req_1'],
      [ACTION_DENY, 'req_1'],
    ]);
  });

  it("links to the console instead of deciding when the policy asks for the approver's MFA", () => {
    const { blocks } = requestMessage({ ...facts, requireApproverMfa: true });
    const actions = blocks.at(-1) as { elements: { action_id: string; url?: string }[] };
    expect(actions.elements).toHaveLength(1);
    expect(actions.elements[0]?.url).toBe('https://console.example.com/requests/req_1');
    expect(JSON.stringify(blocks)).not.toContain(ACTION_APPROVE);
  });

  it('shows the outcome and no buttons once decided', () => {
    const { blocks } = requestMessage({ ...facts, status: 'Denied' });
    expect(JSON.stringify(blocks)).toContain('*Outcome:* Denied');
    expect(JSON.stringify(blocks)).not.toContain(ACTION_APPROVE);
  });
});
