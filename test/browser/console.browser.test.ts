import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { defaultPolicy, type RolePolicy } from '#shared/domain/policy.ts';
import { launchBrowser, signIn, type Traces } from '#test/support/browser.ts';
import { type ApiClient, api, emails, startTestServer } from '#test/support/local.ts';

/**
 * The web console as people use it, in a real Chromium against the local runtime: sign-in at the local issuer,
 * a requester and an approver in two browser contexts, an administrator editing a policy, and what a non-admin
 * may not see. Selected by role and accessible name, as a screen reader reads the page.
 */
const SCOPE = '/accounts/111111111111';
let server: LocalServer;
let browser: Browser;
let admin: ApiClient;
const traces: Traces = { logs: [], urls: [] };

beforeAll(async () => {
  [server, browser] = await Promise.all([startTestServer(), launchBrowser()]);
  admin = api(server).as({ sub: 'admin', mfa: true });
  for (const [id, approver] of [
    ['prod', 'bob'],
    ['db', 'bob'],
    ['ops', null],
  ] as const) {
    expect((await admin.post('/v1/roles', { id, displayName: id.toUpperCase(), privileged: true })).status).toBe(201);
    const policy = defaultPolicy();
    if (approver) {
      policy.activation.approval = {
        required: true,
        stages: [{ approvers: [{ type: 'user', id: approver }], requiredApprovals: 1, timeout: 'PT8H' }],
      };
    }
    expect((await admin.put(`/v1/roles/${id}/policy`, policy)).status).toBe(200);
    const assigned = await admin.post('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: 'alice',
      roleId: id,
      scope: SCOPE,
    });
    expect(assigned.status).toBe(201);
  }
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('the console in Chromium', () => {
  it('alice activates a role needing approval, bob approves it from Approvals, alice sees it granted without reloading', async () => {
    // Prepare
    const alice = await signIn(browser, server.url, { sub: 'alice' }, '/', traces);
    const row = alice.page.getByRole('row', { name: /prod/ });

    // Act: alice asks for two hours
    await row.getByRole('button', { name: 'Activate' }).click();
    await alice.page.getByLabel('Duration').fill('2');
    await alice.page.getByLabel('Justification').fill('INC-7 database failover');
    await alice.page.getByRole('button', { name: 'Submit' }).click();
    await expect
      .poll(() => alice.page.getByRole('status').textContent(), { timeout: 60_000 })
      .toContain('PendingApproval');
    await alice.page.getByRole('link', { name: 'My requests' }).click();
    const request = alice.page.getByRole('row', { name: /prod at .* selfActivate/ });
    await request.getByText('PendingApproval').waitFor();
    await request.getByText('0 of 1 approval').waitFor();

    // Act: bob approves from Approvals, in a browser of his own
    const bob = await signIn(browser, server.url, { sub: 'bob' }, '/', traces);
    await bob.page.getByRole('link', { name: 'Approvals' }).click();
    const card = bob.page.getByRole('region', { name: /alice: prod at/ });
    await card.getByText('INC-7 database failover').waitFor();
    await card.getByLabel('Justification').fill('failover agreed');
    await card.getByRole('button', { name: 'Approve' }).click();
    await bob.page.getByText('Nothing is waiting for your approval.').waitFor();

    // Assess: alice's page shows it granted by itself (it polls); her role is active with time left
    await request.getByText('Granted').waitFor({ timeout: 60_000 });
    await alice.page.getByRole('link', { name: 'My roles' }).click();
    const active = alice.page.getByRole('row', { name: /prod.*Activated/ });
    await active.getByRole('button', { name: 'Deactivate' }).waitFor();
    await expect.poll(() => active.textContent(), { timeout: 60_000 }).toMatch(/1 h 5\d min|2 h 0 min/);

    // Act / Assess: she deactivates it
    await active.getByRole('button', { name: 'Deactivate' }).click();
    await alice.page.getByRole('row', { name: /prod.*Activated/ }).waitFor({ state: 'detached' });
    const stored = await admin.get<{ items: { roleId: string; status: string }[] }>(
      '/v1/requests?principalId=alice&roleId=prod',
    );
    expect(stored.body.items.map((r) => r.status)).toEqual(expect.arrayContaining(['Granted', 'Revoked']));
    await Promise.all([alice.context.close(), bob.context.close()]);
  });

  it("shows the policy's reason when an activation is refused", async () => {
    // Prepare: alice signs in without MFA; ops needs MFA (the default policy)
    const alice = await signIn(browser, server.url, { sub: 'alice', mfa: false }, '/', traces);
    await alice.page.getByRole('row', { name: /ops/ }).getByRole('button', { name: 'Activate' }).click();
    await alice.page.getByText('This role needs MFA').waitFor();

    // Act
    await alice.page.getByLabel('Justification').fill('try anyway');
    await alice.page.getByRole('button', { name: 'Submit' }).click();

    // Assess
    const alert = alice.page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('MfaRequired');
    await alice.context.close();
  });

  it('opens a request from its mail link after sign-in (deep link), and a non-admin sees no admin page', async () => {
    // Prepare: a pending request of alice's, made over the API
    const pending = await api(server)
      .as({ sub: 'alice', mfa: true })
      .post<{ id: string; status: string }>('/v1/requests', {
        action: 'selfActivate',
        assignmentType: 'active',
        roleId: 'db',
        scope: SCOPE,
        justification: 'deep link',
      });
    expect(pending.body.status).toBe('PendingApproval');

    // Act: bob follows the approval mail's console link before he is signed in
    const mail = (await emails(server)).find(
      (m) => m.subject.startsWith('Approval needed') && m.text.includes(pending.body.id),
    );
    const link = /Open: +(\S+)/.exec(mail?.text ?? '')?.[1] ?? '';
    expect(link).toBe(`${server.url}/requests/${pending.body.id}`);
    const bob = await signIn(browser, server.url, { sub: 'bob' }, new URL(link).pathname, traces);

    // Assess: he lands on that request, can decide it, and has no admin links
    expect(new URL(bob.page.url()).pathname).toBe(`/requests/${pending.body.id}`);
    await bob.page.getByText('deep link').waitFor();
    await bob.page.getByRole('button', { name: 'Deny' }).click();
    await bob.page.getByText('Denied').first().waitFor();
    expect(await bob.page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents()).toEqual([
      'My roles',
      'My requests',
      'Approvals',
      'Access reviews',
    ]);
    await bob.page.goto('/admin/roles');
    await bob.page.getByRole('heading', { name: 'Not allowed' }).waitFor();
    await bob.context.close();
  });

  it('an admin creates a role with a two-stage approval policy in the editor, stored as the API shows', async () => {
    // Prepare
    const { page, context } = await signIn(browser, server.url, { sub: 'admin' }, '/', traces);
    await page.getByRole('link', { name: 'Roles', exact: true }).click();

    // Act
    await page.getByLabel('Role id').fill('payments');
    await page.getByLabel('Display name').fill('Payments operator');
    await page.getByLabel('Privileged').check();
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.getByRole('heading', { name: 'Activation policy' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/admin/roles/payments');
    await page.getByLabel('Maximum duration').fill('PT4H');
    await page.getByLabel('Require ticket').check();
    await page.getByLabel('Require approval').check();
    await page.getByRole('button', { name: 'Add stage' }).click();
    await page.getByLabel('Stage 1 approvers').fill('user:bob');
    await page.getByRole('button', { name: 'Add stage' }).click();
    await page.getByLabel('Stage 2 approvers').fill('user:carol, group:security');
    await page.getByLabel('Stage 2 required approvals').fill('2');
    await page.getByLabel('Stage 2 timeout').fill('PT12H');
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.getByText('Policy saved.').waitFor();

    // Assess
    const policy = (await admin.get<RolePolicy>('/v1/roles/payments/policy')).body;
    expect(policy.activation).toMatchObject({
      maxDuration: 'PT4H',
      requireTicket: true,
      approval: {
        required: true,
        stages: [
          { approvers: [{ type: 'user', id: 'bob' }], requiredApprovals: 1, timeout: 'PT24H' },
          {
            approvers: [
              { type: 'user', id: 'carol' },
              { type: 'group', id: 'security' },
            ],
            requiredApprovals: 2,
            timeout: 'PT12H',
          },
        ],
      },
    });
    expect((await admin.get<{ privileged: boolean }>('/v1/roles/payments')).body.privileged).toBe(true);
    await context.close();
  });

  it('serves every page with a strict CSP and no inline script, and no token ever in a URL or a log line', async () => {
    const res = await fetch(`${server.url}/approvals`);
    const html = await res.text();
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(traces.urls.length).toBeGreaterThan(10);
    // A JWT starts with the base64url of '{"' (eyJ); the sign-in's one-time code is not a token.
    expect([...traces.urls, ...traces.logs].filter((x) => /eyJ[A-Za-z0-9_-]{10,}/.test(x))).toEqual([]);
  });
});
