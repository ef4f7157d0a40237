import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';
import { launchBrowser, type Person, signIn } from '#test/support/browser.ts';
import { type AxeViolation, screenshot, seriousViolations } from '#test/support/console-pages.ts';
import { type ApiClient, api, settle, startTestServer } from '#test/support/local.ts';

/**
 * axe-core on every page of the console, each with data on it and opened by the person who may use it: no serious
 * or critical violation (WCAG 2.0/2.1 A and AA, and axe's best practices). axe is evaluated into the page through
 * the DevTools protocol (`page.evaluate`), which the page's strict CSP does not govern; the CSP stays as served.
 * With CONSOLE_SCREENSHOTS=1 the same visits write the screenshots of docs/console.md (1280x800).
 */
const SCOPE = '/accounts/111111111111';
let server: LocalServer;
let browser: Browser;
let admin: ApiClient;
let pendingId = '';

beforeAll(async () => {
  [server, browser] = await Promise.all([startTestServer({ clock: 'system' }), launchBrowser()]);
  admin = api(server).as({ sub: 'admin', mfa: true });
  const ok = (r: { status: number; body: unknown }, ...status: number[]) =>
    expect(status, JSON.stringify(r.body)).toContain(r.status);
  for (const [id, displayName, approver] of [
    ['prod', 'Production admin', 'bob'],
    ['ops', 'Operations', null],
    ['weak', 'Weak', null],
  ] as const) {
    ok(await admin.post('/v1/roles', { id, displayName, privileged: true }), 201);
    const policy = defaultPolicy();
    if (approver) {
      policy.activation.approval = {
        required: true,
        stages: [{ approvers: [{ type: 'user', id: approver }], requiredApprovals: 1, timeout: 'PT8H' }],
      };
    }
    if (id === 'weak') policy.activation.requireMfa = false;
    ok(await admin.put(`/v1/roles/${id}/policy`, policy), 200);
  }
  for (const roleId of ['prod', 'ops']) {
    ok(
      await admin.post('/v1/requests', {
        action: 'adminAssign',
        assignmentType: 'eligible',
        principalId: 'alice',
        roleId,
        scope: SCOPE,
        justification: 'on-call rota',
      }),
      201,
    );
  }
  const alice = api(server).as({ sub: 'alice', mfa: true });
  // an active role of alice's (ops), and a request of hers waiting for bob (prod)
  ok(
    await alice.post('/v1/requests', {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId: 'ops',
      scope: SCOPE,
      justification: 'deploy window',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT2H' } },
    }),
    201,
  );
  const pending = await alice.post<{ id: string }>('/v1/requests', {
    action: 'selfActivate',
    assignmentType: 'active',
    roleId: 'prod',
    scope: SCOPE,
    justification: 'INC-42 failover',
  });
  ok(pending, 202);
  pendingId = pending.body.id;
  // the auditor, a group with a member, an alert, an export, and an access review for bob
  ok(
    await admin.post('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'active',
      principalId: 'audrey',
      roleId: 'elevate-auditor',
      scope: '/',
      justification: 'quarterly audit',
      schedule: { expiration: { type: 'afterDuration', duration: 'P30D' } },
    }),
    201,
  );
  ok(await admin.post('/v1/groups', { id: 'sre', displayName: 'Site reliability' }), 201);
  ok(
    await admin.post('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'active',
      principalId: 'erin',
      roleId: 'group-sre-member',
      justification: 'on call',
      schedule: { expiration: { type: 'afterDuration', duration: 'P7D' } },
    }),
    201,
  );
  ok(await api(server).post('/_local/schedules/alerts/run', {}), 200);
  const day = new Date();
  day.setUTCHours(0, 0, 0, 0);
  ok(await admin.post('/v1/audit-exports', { from: day.toISOString(), to: new Date().toISOString() }), 202);
  ok(
    await admin.post('/v1/access-reviews', {
      displayName: 'Production review',
      scope: { roleIds: ['prod', 'ops'] },
      reviewers: { type: 'principals', principals: [{ type: 'user', id: 'bob' }] },
      recurrence: { type: 'once', startDateTime: new Date().toISOString() },
    }),
    201,
  );
  ok(await api(server).post('/_local/schedules/reviews/run'), 200);
  await settle(server);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const describeViolations = (violations: AxeViolation[]): string =>
  violations
    .map((v) => `${v.impact} ${v.id}: ${v.help}\n${v.nodes.map((n) => `  ${n.target.join(' ')}`).join('\n')}`)
    .join('\n');

/** The person's page at `path`, shown with its data (`shows`), checked by axe; a screenshot when asked for. */
async function check(page: Page, path: string, shows: string | RegExp, shot: string): Promise<void> {
  await page.goto(path);
  await page.getByText(shows).first().waitFor({ timeout: 60_000 });
  const title = await page.getByRole('heading', { level: 1 }).first().textContent();
  expect(title).not.toMatch(/Page not found|Not allowed/);
  await screenshot(page, shot);
  const violations = await seriousViolations(page);
  expect(violations, describeViolations(violations)).toEqual([]);
}

/** Every fixed path, by the person who may use it, and a text its data shows. */
const PAGES: { who: Person; path: () => string; shows: string | RegExp; shot: string }[] = [
  { who: { sub: 'alice' }, path: () => '/', shows: 'Deactivate', shot: 'my-roles' },
  { who: { sub: 'alice' }, path: () => '/requests', shows: 'PendingApproval', shot: 'my-requests' },
  { who: { sub: 'alice' }, path: () => `/requests/${pendingId}`, shows: 'INC-42 failover', shot: 'request' },
  { who: { sub: 'bob' }, path: () => '/approvals', shows: 'INC-42 failover', shot: 'approvals' },
  { who: { sub: 'bob' }, path: () => '/reviews', shows: /alice/, shot: 'reviews' },
  { who: { sub: 'admin' }, path: () => '/admin/roles', shows: 'Production admin', shot: 'roles' },
  { who: { sub: 'admin' }, path: () => '/admin/roles/prod', shows: /bob/, shot: 'role-editor' },
  { who: { sub: 'admin' }, path: () => '/admin/assignments', shows: /alice/, shot: 'assignments' },
  { who: { sub: 'admin' }, path: () => '/admin/groups', shows: 'Site reliability', shot: 'groups' },
  { who: { sub: 'admin' }, path: () => '/admin/alerts', shows: 'Privileged role without MFA', shot: 'alerts' },
  { who: { sub: 'audrey' }, path: () => '/audit', shows: 'Completed', shot: 'audit' },
];

describe('axe-core on every page of the console', () => {
  it('the local sign-in page', async () => {
    const context = await browser.newContext({ baseURL: server.url });
    const page = await context.newPage();
    await page.goto('/');
    await page.getByLabel('Username').waitFor({ timeout: 60_000 });
    await screenshot(page, 'sign-in');
    const violations = await seriousViolations(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    // The check can fail: a button without a name (critical for axe) is found.
    await page.evaluate("document.body.append(document.createElement('button'))");
    expect((await seriousViolations(page)).map((v) => v.id)).toContain('button-name');
    await context.close();
  });

  const people = [...new Set(PAGES.map((p) => p.who.sub))];
  for (const sub of people) {
    const pages = PAGES.filter((p) => p.who.sub === sub);
    it(`${sub}'s pages (${pages.map((p) => p.shot).join(', ')})`, async () => {
      const { page, context } = await signIn(browser, server.url, { sub });
      const failures: string[] = [];
      for (const p of pages) {
        try {
          await check(page, p.path(), p.shows, p.shot);
        } catch (error) {
          failures.push(`${p.path()}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      expect(failures, failures.join('\n\n')).toEqual([]);
      await context.close();
    });
  }
});
