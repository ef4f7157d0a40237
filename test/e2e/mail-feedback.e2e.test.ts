import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { type ApiClient, api, emails, settle, startTestServer } from '#test/support/local.ts';

/**
 * Issue 12 item 7, over HTTP against the local runtime: the SES stand-in reports a message to the mailbox
 * simulator's bounce address as SES would (an `Email Bounced` event of the configuration set, which the local
 * runtime hands to the mail feedback function as the stack's rule does). Bounce → the principal's address is
 * suppressed → the next notification is not sent to it → the admin sees why and clears it → it is mailed again.
 */
interface MailStatus {
  suppressed: boolean;
  reason: string | null;
  kind: string | null;
  diagnostic: string | null;
  since: string | null;
}

let server: LocalServer;
let admin: ApiClient;
const ADDRESS = 'bounce+alice@simulator.amazonses.com';

const assignEligible = (roleId: string) =>
  admin.post('/v1/requests', {
    action: 'adminAssign',
    assignmentType: 'eligible',
    principalId: 'alice',
    roleId,
    justification: 'on call',
    schedule: { expiration: { type: 'afterDuration', duration: 'P30D' } },
  });
const mailedToAlice = async () => (await emails(server)).filter((m) => m.to.includes(ADDRESS));
const aliceMail = async () => (await admin.get<{ mail: MailStatus }>('/v1/principals/alice')).body.mail;

beforeAll(async () => {
  server = await startTestServer({ clockStart: new Date('2026-12-01T10:00:00Z') });
  admin = api(server).as({ sub: 'admin', mfa: true });
  for (const id of ['wiki', 'docs', 'chat']) {
    expect((await admin.post('/v1/roles', { id, displayName: id, privileged: false })).status).toBe(201);
  }
  const put = await admin.put('/v1/principals/alice', { type: 'user', displayName: 'Alice', email: ADDRESS });
  expect(put.status).toBe(200);
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

describe('SES bounces over the local runtime', () => {
  it('sends the first notification, and records the bounce SES reports for it on the principal', async () => {
    // Act
    expect((await assignEligible('wiki')).status).toBe(201);
    await settle(server);

    // Assess
    expect(await mailedToAlice()).toHaveLength(1);
    expect(await aliceMail()).toEqual({
      suppressed: true,
      reason: 'bounce',
      kind: 'Permanent/General',
      diagnostic: 'smtp; 550 5.1.1 user unknown',
      since: '2026-12-01T10:00:00.000Z',
    });
    const audit = await admin.get<{ items: { target: { principalId: string }; actor: { type: string } }[] }>(
      '/v1/audit-events?action=principal.mailSuppressed',
    );
    expect(audit.body.items).toMatchObject([{ target: { principalId: 'alice' }, actor: { type: 'system' } }]);
  });

  it('sends the next notification to nobody at that address, and the change itself is not held up', async () => {
    // Act
    expect((await assignEligible('docs')).status).toBe(201);
    await settle(server);

    // Assess
    expect(await mailedToAlice()).toHaveLength(1);
    expect((await admin.get<{ allowed: boolean }>('/v1/access?principalId=alice&roleId=docs')).status).toBe(200);
  });

  it('mails the address again once an admin clears the suppression', async () => {
    // Act
    const cleared = await admin.put<{ mail: MailStatus }>('/v1/principals/alice', {
      type: 'user',
      displayName: 'Alice',
      email: ADDRESS,
      mail: { suppressed: false },
    });
    expect(cleared.status).toBe(200);
    expect(cleared.body.mail.suppressed).toBe(false);
    expect((await assignEligible('chat')).status).toBe(201);
    await settle(server);

    // Assess: mailed again (and, the simulator address bouncing again, suppressed again)
    expect(await mailedToAlice()).toHaveLength(2);
    expect((await aliceMail()).suppressed).toBe(true);
  });
});
