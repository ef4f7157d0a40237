import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { defaultPolicy, type RolePolicy } from '#shared/domain/policy.ts';
import { launchBrowser, signIn, type Traces } from '#test/support/browser.ts';
import { type ApiClient, api, emails, settle, startTestServer } from '#test/support/local.ts';

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
    // Prepare: bob's address known (else only his first sign-in would teach it), a pending request of alice's
    const known = await admin.put('/v1/principals/bob', { type: 'user', displayName: 'bob', email: 'bob@example.com' });
    expect([200, 201]).toContain(known.status);
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
    // The mail goes out after the API answers: wait for it.
    await settle(server);
    const linkInMail = async () => {
      const mail = (await emails(server)).find(
        (m) => m.subject.startsWith('Approval needed') && m.text.includes(pending.body.id),
      );
      return /Open: +(\S+)/.exec(mail?.text ?? '')?.[1] ?? '';
    };
    await expect.poll(linkInMail, { timeout: 60_000 }).toBe(`${server.url}/requests/${pending.body.id}`);
    const link = await linkInMail();
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

  it('alice cancels her pending request from My requests, and the API shows it canceled', async () => {
    // Prepare: cache needs bob's approval; alice asks for it over the API
    expect((await admin.post('/v1/roles', { id: 'cache', displayName: 'Cache', privileged: true })).status).toBe(201);
    const policy = defaultPolicy();
    policy.activation.approval = {
      required: true,
      stages: [{ approvers: [{ type: 'user', id: 'bob' }], requiredApprovals: 1, timeout: 'PT8H' }],
    };
    expect((await admin.put('/v1/roles/cache/policy', policy)).status).toBe(200);
    const assign = {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: 'alice',
      roleId: 'cache',
      scope: SCOPE,
    };
    expect((await admin.post('/v1/requests', assign)).status).toBe(201);
    const pending = await api(server)
      .as({ sub: 'alice', mfa: true })
      .post<{ id: string; status: string }>('/v1/requests', {
        action: 'selfActivate',
        assignmentType: 'active',
        roleId: 'cache',
        scope: SCOPE,
        justification: 'warm the cache',
      });
    expect(pending.body.status).toBe('PendingApproval');
    const alice = await signIn(browser, server.url, { sub: 'alice' }, '/requests', traces);

    // Act
    const row = alice.page.getByRole('row', { name: /cache at .* selfActivate/ });
    await row.getByText('0 of 1 approval').waitFor();
    await row.getByRole('button', { name: 'Cancel request' }).click();

    // Assess
    await row.getByText('Canceled').first().waitFor();
    await row.getByRole('button', { name: 'Cancel request' }).waitFor({ state: 'detached' });
    expect((await admin.get<{ status: string }>(`/v1/requests/${pending.body.id}`)).body.status).toBe('Canceled');
    await alice.context.close();
  });

  it('a reviewer decides a review item, then accepts every remaining recommendation', async () => {
    // Prepare: a one-off review of alice's eligibility for ops and db, reviewed by rita, started by its job
    const review = await admin.post<{ id: string }>('/v1/access-reviews', {
      displayName: 'ops and db review',
      scope: { roleIds: ['ops', 'db'], assignmentTypes: ['eligible'] },
      reviewers: { type: 'principals', principals: [{ type: 'user', id: 'rita' }] },
      duration: 'P14D',
      recurrence: { type: 'once', startDateTime: server.clock.now().toISOString() },
      defaultDecision: 'recommendation',
      autoApply: false,
      requireJustification: true,
      recommendationLookback: 'P30D',
    });
    expect(review.status, JSON.stringify(review.body)).toBe(201);
    expect((await api(server).post('/_local/schedules/reviews/run')).status).toBe(200);
    await settle(server);
    const queue = await api(server)
      .as({ sub: 'rita', mfa: true })
      .get<{ items: { roleId: string; recommendation: string; recommendationReason: string }[] }>('/v1/me/reviews');
    expect(queue.body.items.map((d) => d.roleId).sort()).toEqual(['db', 'ops']);
    const opsItem = queue.body.items.find((d) => d.roleId === 'ops');
    const rita = await signIn(browser, server.url, { sub: 'rita' }, '/', traces);

    // Act: rita keeps alice's ops with a justification, then accepts the recommendation for the rest
    await rita.page.getByRole('link', { name: 'Access reviews' }).click();
    const ops = rita.page.getByRole('row', { name: /alice.*ops/ });
    await ops.getByText(`${opsItem?.recommendation}: ${opsItem?.recommendationReason}`).waitFor();
    await rita.page.getByLabel('Justification').fill('still on call for ops');
    await ops.getByRole('button', { name: 'Approve' }).click();
    await ops.waitFor({ state: 'detached' });
    await rita.page.getByRole('row', { name: /alice.*db/ }).waitFor();
    await rita.page.getByLabel('Justification').fill('');
    await rita.page.getByRole('button', { name: 'Accept all recommendations' }).click();
    await rita.page.getByText('No access is waiting for your review.').waitFor();

    // Assess: the API holds rita's decisions
    const instance = (await admin.get<{ items: { id: string }[] }>(`/v1/access-reviews/${review.body.id}/instances`))
      .body.items[0];
    const decisions = await admin.get<{
      items: { roleId: string; decision: string; recommendation: string; reviewedBy: string; justification: string }[];
    }>(`/v1/access-reviews/${review.body.id}/instances/${instance?.id}/decisions`);
    const by = Object.fromEntries(decisions.body.items.map((d) => [d.roleId, d]));
    expect(by.ops).toMatchObject({ decision: 'Approve', reviewedBy: 'rita', justification: 'still on call for ops' });
    expect(by.db).toMatchObject({ decision: by.db?.recommendation, reviewedBy: 'rita' });
    expect(by.db?.justification).toMatch(/^Accepted the recommendation: /);
    await rita.context.close();
  });

  it("an admin sets a role's targets and a policy of its own at an account, stored as the API shows", async () => {
    // Prepare: a role of its own (its policies do not touch the other tests)
    expect((await admin.post('/v1/roles', { id: 'billing', displayName: 'Billing', privileged: false })).status).toBe(
      201,
    );
    const { page, context } = await signIn(browser, server.url, { sub: 'admin' }, '/admin/roles/billing', traces);
    await page.getByRole('heading', { name: 'Targets' }).waitFor();

    // Act: a permission set as its target
    const arn = 'arn:aws:sso:::permissionSet/ssoins-local/ps-readonly';
    await page.getByLabel('Permission set ARN').fill(arn);
    await page.getByRole('button', { name: 'Add permission set' }).click();
    await page.getByRole('button', { name: 'Save targets' }).click();
    await page.getByText('Targets saved.').waitFor();

    // Act: a policy at the account, started from the one in force there
    await page.getByLabel('Scope', { exact: true }).fill(SCOPE);
    await page.getByRole('button', { name: 'Edit a policy at this scope' }).click();
    await page.getByText(`Scope: ${SCOPE}`).waitFor();
    await page.getByLabel('Maximum duration').fill('PT2H');
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.getByText('Policy saved.').waitFor();
    await page.getByRole('row', { name: new RegExp(SCOPE) }).waitFor();

    // Assess
    const targets = await admin.get<{ targets: unknown[] }>('/v1/roles/billing/targets');
    expect(targets.body.targets).toEqual([{ type: 'identityCenterAccountAssignment', permissionSetArn: arn }]);
    const policies = await admin.get<{ items: { scope: string; policy: RolePolicy }[] }>('/v1/roles/billing/policies');
    expect(policies.body.items.map((p) => [p.scope, p.policy.activation.maxDuration])).toEqual([
      ['/', 'PT8H'],
      [SCOPE, 'PT2H'],
    ]);
    await context.close();
  });

  it('an approver without MFA is sent to sign in again with MFA before approving a role that needs it', async () => {
    // Prepare: vault needs the approver's MFA; alice asks for it over the API
    expect((await admin.post('/v1/roles', { id: 'vault', displayName: 'Vault', privileged: true })).status).toBe(201);
    const policy = defaultPolicy();
    policy.activation.approval = {
      required: true,
      requireApproverMfa: true,
      stages: [{ approvers: [{ type: 'user', id: 'bob' }], requiredApprovals: 1, timeout: 'PT8H' }],
    };
    expect((await admin.put('/v1/roles/vault/policy', policy)).status).toBe(200);
    expect(
      (
        await admin.post('/v1/requests', {
          action: 'adminAssign',
          assignmentType: 'eligible',
          principalId: 'alice',
          roleId: 'vault',
          scope: SCOPE,
        })
      ).status,
    ).toBe(201);
    const pending = await api(server)
      .as({ sub: 'alice', mfa: true })
      .post<{ id: string; status: string }>('/v1/requests', {
        action: 'selfActivate',
        assignmentType: 'active',
        roleId: 'vault',
        scope: SCOPE,
        justification: 'rotate the vault keys',
      });
    expect(pending.body.status).toBe('PendingApproval');
    const path = `/requests/${pending.body.id}`;
    const bob = await signIn(browser, server.url, { sub: 'bob', mfa: false }, path, traces);

    // Act: bob approves; the console sends him to the issuer for a sign-in with MFA
    await bob.page.getByText('rotate the vault keys').waitFor();
    await bob.page.getByRole('button', { name: 'Approve' }).click();
    await bob.page.getByText('This sign-in must use MFA').waitFor();
    expect((await admin.get<{ status: string }>(`/v1/requests/${pending.body.id}`)).body.status).toBe(
      'PendingApproval',
    );
    // Without MFA the issuer refuses; with it, he lands back on the request
    await bob.page.getByLabel('Username').fill('bob');
    await bob.page.getByRole('button', { name: 'Sign in' }).click();
    await bob.page.getByRole('alert').getByText('tick MFA').waitFor();
    await bob.page.getByLabel('Username').fill('bob');
    await bob.page.getByLabel('Email').fill('bob@example.com');
    await bob.page.getByLabel('MFA').check();
    await bob.page.getByRole('button', { name: 'Sign in' }).click();
    await bob.page.getByRole('button', { name: 'Sign out' }).waitFor();
    expect(new URL(bob.page.url()).pathname).toBe(path);
    await bob.page.getByRole('button', { name: 'Approve' }).click();

    // Assess: the decision was sent with MFA, and the request is granted
    await bob.page.getByText('Granted').first().waitFor();
    const stored = await admin.get<{ status: string; approval: { stages: { decisions: { approverId: string }[] }[] } }>(
      `/v1/requests/${pending.body.id}`,
    );
    expect(stored.body.status).toBe('Granted');
    expect(stored.body.approval.stages[0]?.decisions.map((d) => d.approverId)).toEqual(['bob']);
    await bob.context.close();
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
