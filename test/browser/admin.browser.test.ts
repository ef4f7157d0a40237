import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import type { Alert, AlertSettings } from '#shared/domain/alerts.ts';
import type { AuditExport } from '#shared/domain/audit-export.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';
import { launchBrowser, signIn } from '#test/support/browser.ts';
import { type ApiClient, api, startTestServer } from '#test/support/local.ts';

/**
 * The administrators' and auditors' pages of the console in a real Chromium against the local runtime (on the
 * system clock: the browser and the server agree on "now"): Assignments (assign, filter, remove), Groups (create,
 * members), Alerts (dismiss, settings), Audit (an auditor exports, sees it complete and downloads it), and a plain
 * user who follows /audit. Selected by role and accessible name.
 */
const SCOPE = '/accounts/111111111111';
let server: LocalServer;
let browser: Browser;
let admin: ApiClient;

interface Assignment {
  principalId: string;
  roleId: string;
  assignmentType: string;
  status: string;
}

beforeAll(async () => {
  [server, browser] = await Promise.all([startTestServer({ clock: 'system' }), launchBrowser()]);
  admin = api(server).as({ sub: 'admin', mfa: true });
  for (const [id, displayName, privileged] of [
    ['db', 'Database admin', true],
    ['web', 'Web reader', false],
    ['weak', 'Weak', true],
  ] as const) {
    expect((await admin.post('/v1/roles', { id, displayName, privileged })).status).toBe(201);
  }
  // weak: a privileged role activated without MFA (the roleWithoutMfa alert)
  const weak = defaultPolicy();
  weak.activation.requireMfa = false;
  expect((await admin.put('/v1/roles/weak/policy', weak)).status).toBe(200);
  for (const [principalId, roleId] of [
    ['carol', 'web'],
    ['carol', 'db'],
  ]) {
    const assigned = await admin.post('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId,
      roleId,
      scope: SCOPE,
      justification: 'seed',
    });
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(201);
  }
  const auditor = await admin.post('/v1/requests', {
    action: 'adminAssign',
    assignmentType: 'active',
    principalId: 'audrey',
    roleId: 'elevate-auditor',
    scope: '/',
    justification: 'quarterly audit',
    schedule: { expiration: { type: 'afterDuration', duration: 'P30D' } },
  });
  expect(auditor.status, JSON.stringify(auditor.body)).toBe(201);
  expect((await api(server).post('/_local/schedules/alerts/run', {})).status).toBe(200);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** Picks `option` in the Cloudscape select labelled `label`. */
async function choose(page: Page, label: string, option: string): Promise<void> {
  await page.getByLabel(label, { exact: true }).click();
  await page.getByRole('option', { name: option, exact: true }).click();
}

const rows = (page: Page, name: RegExp) => page.getByRole('table', { name: 'Assignments' }).getByRole('row', { name });

describe('the admin pages in Chromium', () => {
  it('an admin assigns, filters by privileged, text and status, and removes an assignment', async () => {
    // Prepare
    const { page, context } = await signIn(browser, server.url, { sub: 'admin' }, '/');
    await page.getByRole('link', { name: 'Assignments' }).click();
    await rows(page, /carol.*web/).waitFor();

    // Act: assign dave the db role, active for 8 hours
    await page.getByLabel('Principal', { exact: true }).fill('dave');
    await choose(page, 'Role', 'Database admin (db)');
    await page.getByLabel('Scope', { exact: true }).fill(SCOPE);
    await choose(page, 'Assignment type', 'Active');
    await page.getByLabel('Duration', { exact: true }).fill('8');
    await page.getByLabel('Justification').fill('on call this week');
    await page.getByRole('button', { name: 'Assign', exact: true }).click();

    // Assess: the table shows it; the API stores it
    await rows(page, /dave.*db/).waitFor();
    const stored = await admin.get<{ items: Assignment[] }>('/v1/assignments?principalId=dave');
    expect(stored.body.items).toEqual([
      expect.objectContaining({ roleId: 'db', assignmentType: 'active', status: 'Active' }),
    ]);

    // Act / Assess: the privileged filter (the API's) keeps db and drops web; without it web is back
    await choose(page, 'Privileged', 'Privileged roles');
    await rows(page, /carol.*web/).waitFor({ state: 'detached' });
    await rows(page, /dave.*db/).waitFor();
    await choose(page, 'Privileged', 'Any role');
    await rows(page, /carol.*web/).waitFor();
    // the text filter
    await page.getByLabel('Filter by principal, role or scope').fill('dave');
    await rows(page, /carol/).first().waitFor({ state: 'detached' });
    await rows(page, /dave.*db/).waitFor();

    // Act: remove it, with a justification
    await rows(page, /dave.*db/)
      .getByRole('button', { name: 'Remove' })
      .click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Justification').fill('on call ended');
    await dialog.getByRole('button', { name: 'Remove assignment' }).click();

    // Assess: gone from the Active list, Revoked in the API, and shown under the Revoked filter
    await rows(page, /dave.*db/).waitFor({ state: 'detached', timeout: 60_000 });
    const after = await admin.get<{ items: Assignment[] }>('/v1/assignments?principalId=dave');
    expect(after.body.items.map((a) => a.status)).toEqual(['Revoked']);
    await choose(page, 'Status', 'Revoked');
    await rows(page, /dave.*db/).waitFor();
    await context.close();
  });

  it('an admin creates a group, adds a member, sees and removes them', async () => {
    // Prepare
    const { page, context } = await signIn(browser, server.url, { sub: 'admin' }, '/admin/groups');

    // Act: create
    await page.getByLabel('Group id').fill('sre');
    await page.getByLabel('Display name').fill('Site reliability');
    await page.getByLabel('Description').fill('the on-call engineers');
    await page.getByRole('button', { name: 'Create group' }).click();

    // Assess
    const groups = page.getByRole('table', { name: 'Groups' });
    await groups.getByRole('row', { name: /Site reliability/ }).waitFor();
    expect((await admin.get<{ items: { id: string }[] }>('/v1/groups')).body.items.map((g) => g.id)).toContain('sre');

    // Act: open its members and add erin as a member
    await page.getByRole('button', { name: 'Members of Site reliability' }).click();
    await page.getByText('This group has no active member or owner.').waitFor();
    await page.getByLabel('User', { exact: true }).fill('erin');
    await choose(page, 'As', 'Member');
    await page.getByLabel('Justification').fill('joins on-call');
    await page.getByRole('button', { name: 'Add', exact: true }).click();

    // Assess
    const members = page.getByRole('table', { name: 'Members of Site reliability' });
    await members.getByRole('row', { name: /erin.*Member/ }).waitFor({ timeout: 60_000 });
    const listed = await admin.get<{ items: { principalId: string; relation: string }[] }>('/v1/groups/sre/members');
    expect(listed.body.items).toEqual([expect.objectContaining({ principalId: 'erin', relation: 'member' })]);

    // Act / Assess: remove erin
    await members.getByRole('row', { name: /erin/ }).getByRole('button', { name: 'Remove' }).click();
    await page.getByText('This group has no active member or owner.').waitFor({ timeout: 60_000 });
    expect((await admin.get<{ items: unknown[] }>('/v1/groups/sre/members')).body.items).toEqual([]);
    await context.close();
  });

  it('an admin dismisses an alert and changes a setting', async () => {
    // Prepare
    const { page, context } = await signIn(browser, server.url, { sub: 'admin' }, '/admin/alerts');
    const alerts = page.getByRole('table', { name: 'Security alerts' });
    const alert = alerts.getByRole('row', { name: /Privileged role without MFA.*weak/ });
    await alert.waitFor();

    // Act: dismiss it
    await alert.getByRole('button', { name: 'Dismiss' }).click();

    // Assess: it leaves the active list, and is dismissed in the API and under the Dismissed filter
    await alert.waitFor({ state: 'detached', timeout: 60_000 });
    const listed = await admin.get<{ items: Alert[] }>('/v1/alerts?status=dismissed');
    expect(listed.body.items.map((a) => a.type)).toContain('roleWithoutMfa');
    await choose(page, 'Status', 'Dismissed');
    await alert.waitFor();

    // Act: change two settings and save
    await page.getByLabel('Stale eligibility: days').fill('45');
    await page.getByLabel('Expiry missed: on').uncheck();
    await page.getByRole('button', { name: 'Save settings' }).click();

    // Assess
    await page.getByText('Settings saved.').waitFor();
    const settings = (await admin.get<AlertSettings>('/v1/alert-settings')).body;
    expect(settings.staleEligibility.days).toBe(45);
    expect(settings.expiryMissed.enabled).toBe(false);
    expect(settings.roleWithoutMfa.enabled).toBe(true);

    // Act / Assess: a value the API refuses shows its problem where the form is
    await page.getByLabel('Stale eligibility: days').fill('0');
    await page.getByRole('button', { name: 'Save settings' }).click();
    expect(await page.getByRole('alert').first().textContent()).toMatch(/staleEligibility|days|ValidationFailed/i);
    await context.close();
  });

  it('an auditor exports the audit events, sees the export complete and downloads it', async () => {
    // Prepare: audrey holds elevate-auditor at /
    const { page, context } = await signIn(browser, server.url, { sub: 'audrey' }, '/');
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Audit' }).click();
    expect(await nav.getByRole('link', { name: 'Roles', exact: true }).count()).toBe(0);
    // the events, filtered as the API offers
    const events = page.getByRole('table', { name: 'Audit events' });
    await events
      .getByRole('row', { name: /role\.created/ })
      .first()
      .waitFor();
    await page.getByLabel('Action').fill('policy.updated');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await events
      .getByRole('row', { name: /role\.created/ })
      .first()
      .waitFor({ state: 'detached' });
    await events.getByRole('row', { name: /policy\.updated.*weak/ }).waitFor();

    // Act: start an export of today up to now
    await page.getByRole('button', { name: 'Start export' }).click();

    // Assess: it completes (the list polls), the chain of manifests shows, and it downloads
    const exports = page.getByRole('table', { name: 'Audit exports' });
    const done = exports.getByRole('row', { name: /Completed/ });
    await done.waitFor({ timeout: 120_000 });
    await page.getByText(/Started: one manifest|Linked: each/).waitFor();
    const listed = (await admin.get<{ items: AuditExport[] }>('/v1/audit-exports')).body.items;
    const made = listed.find((e) => e.createdBy === 'audrey');
    expect(made?.status).toBe('Completed');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      done.getByRole('link', { name: `Download ${made?.id}` }).click(),
    ]);
    const bytes = await readFile(await download.path());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(made?.sha256);
    const lines = gunzipSync(bytes).toString('utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(made?.recordCount ?? -1);
    const actions = lines.map((l) => (JSON.parse(l) as { action: string }).action);
    expect(actions).toEqual(expect.arrayContaining(['role.created', 'policy.updated']));
    await context.close();
  });

  it('a plain user who follows /audit gets the Not allowed page, and sees no admin link', async () => {
    const { page, context } = await signIn(browser, server.url, { sub: 'frank' }, '/audit');
    await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
    await page.getByText('needs an active elevate-admin or elevate-auditor assignment').waitFor();
    const links = await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
    expect(links).not.toContain('Audit');
    expect(links).not.toContain('Assignments');
    await context.close();
  });
});
