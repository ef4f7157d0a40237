import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { credentialsOf, WebApiSlack } from '#shared/ports/slack.ts';

/**
 * The Slack adapter (shared/ports/slack.ts): its credentials from Secrets Manager (aws-sdk-client-mock) and the Web
 * API calls of the official client (`@slack/web-api`) against a mocked Web API on a local port, each asserted
 * exactly: method, token, arguments; Slack's errors and its 429 with Retry-After.
 */
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:elevate-slack-AbCdEf';
const meta = { $metadata: {} };

describe('Slack credentials from Secrets Manager', () => {
  const sm = mockClient(SecretsManagerClient);
  beforeEach(() => sm.reset());

  it('reads the secret once per process, by its ARN', async () => {
    sm.on(GetSecretValueCommand).resolves({
      ...meta,
      SecretString: JSON.stringify({ signingSecret: 'sign', botToken: 'xoxb-1' }),
    });
    const credentials = credentialsOf({ secretArn: SECRET_ARN, apiUrl: undefined }, new SecretsManagerClient({}));

    expect(await credentials()).toEqual({ signingSecret: 'sign', botToken: 'xoxb-1' });
    expect(await credentials()).toEqual({ signingSecret: 'sign', botToken: 'xoxb-1' });

    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    expect(sm).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET_ARN });
  });

  it('does not cache a failed read, and refuses a secret without both fields', async () => {
    sm.on(GetSecretValueCommand)
      .rejectsOnce(new Error('throttled'))
      .resolvesOnce({ ...meta, SecretString: JSON.stringify({ signingSecret: 'sign' }) })
      .resolves({ ...meta, SecretString: JSON.stringify({ signingSecret: 'sign', botToken: 'xoxb-2' }) });
    const credentials = credentialsOf({ secretArn: SECRET_ARN, apiUrl: undefined }, new SecretsManagerClient({}));

    await expect(credentials()).rejects.toThrow('throttled');
    await expect(credentials()).rejects.toThrow('non-empty signingSecret and botToken');
    expect(await credentials()).toEqual({ signingSecret: 'sign', botToken: 'xoxb-2' });
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 3);
  });

  it('takes the local runtime’s credentials from the configuration, without Secrets Manager', async () => {
    const credentials = credentialsOf({ signingSecret: 's', botToken: 'xoxb-local', apiUrl: undefined });
    expect(await credentials()).toEqual({ signingSecret: 's', botToken: 'xoxb-local' });
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 0);
  });
});

interface Received {
  method: string;
  authorization: string | undefined;
  args: Record<string, string>;
}

/** A mocked Slack Web API: records each call, answers what the test queued for its method (else ok). */
class MockWebApi {
  readonly received: Received[] = [];
  readonly #answers = new Map<string, { status: number; body: unknown; headers?: Record<string, string> }[]>();
  readonly server: Server = createServer((req, res) => this.#handle(req, res));

  answer(method: string, status: number, body: unknown, headers?: Record<string, string>): void {
    const queue = this.#answers.get(method) ?? [];
    queue.push({ status, body, ...(headers ? { headers } : {}) });
    this.#answers.set(method, queue);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/`;
  }

  #handle(req: IncomingMessage, res: import('node:http').ServerResponse): void {
    let text = '';
    req.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    req.on('end', () => {
      const method = (req.url ?? '').replace(/^\/api\//, '');
      this.received.push({
        method,
        authorization: req.headers.authorization,
        args: Object.fromEntries(new URLSearchParams(text)),
      });
      const next = this.#answers.get(method)?.shift() ?? { status: 200, body: { ok: true } };
      res.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
      res.end(JSON.stringify(next.body));
    });
  }
}

describe('Slack Web API calls (@slack/web-api against a mocked Web API)', () => {
  const web = new MockWebApi();
  let slack: WebApiSlack;
  beforeAll(async () => {
    await new Promise<void>((ready) => web.server.listen(0, '127.0.0.1', ready));
    slack = new WebApiSlack({ signingSecret: 'sign', botToken: 'xoxb-test', apiUrl: web.url });
  });
  afterAll(() => new Promise<void>((done) => web.server.close(() => done())));
  beforeEach(() => {
    web.received.length = 0;
  });

  it('posts a message with the bot token: channel, text and the blocks as JSON; answers where it went', async () => {
    web.answer('chat.postMessage', 200, { ok: true, channel: 'D0BOB', ts: '1733216400.000100' });
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*Access request*' } }];

    const at = await slack.postMessage('U0BOB', { text: 'alice requests ops', blocks });

    expect(at).toEqual({ channel: 'D0BOB', ts: '1733216400.000100' });
    expect(web.received).toEqual([
      {
        method: 'chat.postMessage',
        authorization: 'Bearer xoxb-test',
        args: { channel: 'U0BOB', text: 'alice requests ops', blocks: JSON.stringify(blocks) },
      },
    ]);
  });

  it('updates a message, opens a view, posts an ephemeral message: exactly these arguments', async () => {
    await slack.update('C0APPROVALS', '1.2', { text: 'Granted', blocks: [] });
    await slack.openView('trigger-1', { type: 'modal', callback_id: 'elevate.decision' });
    await slack.postEphemeral('C0APPROVALS', 'U0MALLORY', 'You are not an approver');

    expect(web.received.map((r) => [r.method, r.authorization, r.args])).toEqual([
      ['chat.update', 'Bearer xoxb-test', { channel: 'C0APPROVALS', ts: '1.2', text: 'Granted', blocks: '[]' }],
      [
        'views.open',
        'Bearer xoxb-test',
        { trigger_id: 'trigger-1', view: JSON.stringify({ type: 'modal', callback_id: 'elevate.decision' }) },
      ],
      [
        'chat.postEphemeral',
        'Bearer xoxb-test',
        { channel: 'C0APPROVALS', user: 'U0MALLORY', text: 'You are not an approver' },
      ],
    ]);
  });

  it('looks a user up by e-mail: the id, null for users_not_found, and throws any other error', async () => {
    web.answer('users.lookupByEmail', 200, { ok: true, user: { id: 'U0ALICE' } });
    web.answer('users.lookupByEmail', 200, { ok: false, error: 'users_not_found' });
    web.answer('users.lookupByEmail', 200, { ok: false, error: 'invalid_auth' });

    expect(await slack.lookupByEmail('alice@example.com')).toBe('U0ALICE');
    expect(await slack.lookupByEmail('nobody@example.com')).toBeNull();
    await expect(slack.lookupByEmail('x@example.com')).rejects.toThrow(/invalid_auth/);
    expect(web.received.map((r) => r.args)).toEqual([
      { email: 'alice@example.com' },
      { email: 'nobody@example.com' },
      { email: 'x@example.com' },
    ]);
  });

  it("waits out Slack's 429 (Retry-After) and sends the call again, once", async () => {
    web.answer('chat.update', 429, { ok: false, error: 'ratelimited' }, { 'retry-after': '1' });

    await slack.update('C0APPROVALS', '1.3', { text: 'Denied', blocks: [] });

    expect(web.received.map((r) => [r.method, r.args.ts])).toEqual([
      ['chat.update', '1.3'],
      ['chat.update', '1.3'],
    ]);
  }, 20_000);
});
