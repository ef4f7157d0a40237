import { beforeAll, describe, expect, it } from 'vitest';
import { depsFromEnv } from '#shared/deps.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { call } from '#test/support/invoke.ts';
import { createTestTable } from '#test/support/table.ts';

beforeAll(async () => {
  await createTestTable();
  await bootstrap(depsFromEnv(), ['admin']);
});

const role = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  displayName: `Role ${id}`,
  privileged: true,
  ...extra,
});

describe('roles', () => {
  it('creates a role with the default policy, and audits it in the same transaction', async () => {
    // Act
    const created = await call('POST', '/v1/roles', { as: 'admin', body: role('db-admin', { description: 'DB' }) });
    // Assess
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: 'db-admin',
      displayName: 'Role db-admin',
      description: 'DB',
      privileged: true,
      builtIn: false,
    });
    const policy = await call('GET', '/v1/roles/db-admin/policy', { as: 'someone' });
    expect(policy.body.activation.maxDuration).toBe('PT8H');
    const events = await call('GET', '/v1/audit-events?roleId=db-admin&action=role.created', { as: 'admin' });
    expect(events.body.items).toHaveLength(1);
    expect(events.body.items[0]).toMatchObject({ action: 'role.created', actor: { id: 'admin', type: 'user' } });
  });

  it('refuses a second role with the same id with 409 and changes nothing', async () => {
    await call('POST', '/v1/roles', { as: 'admin', body: role('dup-role') });
    const again = await call('POST', '/v1/roles', { as: 'admin', body: role('dup-role', { displayName: 'Other' }) });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('Conflict');
    expect((await call('GET', '/v1/roles/dup-role', { as: 'admin' })).body.displayName).toBe('Role dup-role');
  });

  it('refuses malformed input with the field named, and never a 5xx', async () => {
    const bad = await call('POST', '/v1/roles', {
      as: 'admin',
      body: { id: 'Bad Id', displayName: '', privileged: 'yes', extra: 1 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('ValidationFailed');
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      '',
      'displayName',
      'id',
      'privileged',
    ]);
    const notJson = await call('POST', '/v1/roles', { as: 'admin', body: '{"id": ' });
    expect(notJson.status).toBe(400);
    const tooBig = await call('POST', '/v1/roles', {
      as: 'admin',
      body: JSON.stringify(role('big', { description: 'x'.repeat(70_000) })),
    });
    expect(tooBig.status).toBe(413);
  });

  it('lets only an active admin create roles, and audits the refusal', async () => {
    const refused = await call('POST', '/v1/roles', { as: 'mallory', body: role('evil') });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('Forbidden');
    const events = await call('GET', '/v1/audit-events?actorId=mallory', { as: 'admin' });
    expect(events.body.items.map((e: { action: string }) => e.action)).toEqual(['authorization.refused']);
  });

  it('pages through roles with an opaque token and refuses a forged one', async () => {
    for (const id of ['page-a', 'page-b', 'page-c']) await call('POST', '/v1/roles', { as: 'admin', body: role(id) });
    const seen: string[] = [];
    let token: string | null = null;
    do {
      const query: string = token ? `?limit=2&nextToken=${encodeURIComponent(token)}` : '?limit=2';
      const page = await call('GET', `/v1/roles${query}`, { as: 'admin' });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((r: { id: string }) => r.id));
      token = page.body.nextToken;
      if (token) expect(token).not.toContain('ROLE');
    } while (token);
    expect(seen).toEqual([...seen].sort());
    expect(seen).toEqual(expect.arrayContaining(['elevate-admin', 'elevate-auditor', 'page-a', 'page-b', 'page-c']));
    const forged = Buffer.from(JSON.stringify({ v: 1, q: 'x', p: 0, k: { pk: 'ROLE#x', sk: 'ROLE' } })).toString(
      'base64url',
    );
    expect((await call('GET', `/v1/roles?nextToken=${forged}`, { as: 'admin' })).status).toBe(400);
  });

  it('updates a role and records the before and after', async () => {
    await call('POST', '/v1/roles', { as: 'admin', body: role('patchme', { privileged: false }) });
    const patched = await call('PATCH', '/v1/roles/patchme', { as: 'admin', body: { privileged: true } });
    expect(patched.status).toBe(200);
    expect(patched.body.privileged).toBe(true);
    const events = await call('GET', '/v1/audit-events?roleId=patchme&action=role.updated', { as: 'admin' });
    expect(events.body.items[0].details).toMatchObject({ before: { privileged: false }, after: { privileged: true } });
    expect((await call('PATCH', '/v1/roles/patchme', { as: 'admin', body: {} })).status).toBe(400);
    expect((await call('PATCH', '/v1/roles/nope-role', { as: 'admin', body: { privileged: true } })).status).toBe(404);
  });

  it('replaces a policy, audits old and new, and refuses an inconsistent one', async () => {
    await call('POST', '/v1/roles', { as: 'admin', body: role('pol-role') });
    const current = (await call('GET', '/v1/roles/pol-role/policy', { as: 'admin' })).body;
    const next = { ...current, activation: { ...current.activation, maxDuration: 'PT2H' } };
    const put = await call('PUT', '/v1/roles/pol-role/policy', { as: 'admin', body: next });
    expect(put.status).toBe(200);
    expect(put.body.activation.maxDuration).toBe('PT2H');
    const events = await call('GET', '/v1/audit-events?roleId=pol-role&action=policy.updated', { as: 'admin' });
    expect(events.body.items[0].details.old.activation.maxDuration).toBe('PT8H');
    expect(events.body.items[0].details.new.activation.maxDuration).toBe('PT2H');
    const inconsistent = { ...next, activation: { ...next.activation, approval: { required: true, stages: [] } } };
    const refused = await call('PUT', '/v1/roles/pol-role/policy', { as: 'admin', body: inconsistent });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([
      { path: 'activation.approval.stages', message: 'approval.required needs at least one stage' },
    ]);
  });

  it('deletes a role without assignments, refuses while one exists, and never deletes a built-in role', async () => {
    await call('POST', '/v1/roles', { as: 'admin', body: role('temp-role') });
    await call('POST', '/v1/requests', {
      as: 'admin',
      body: { action: 'adminAssign', assignmentType: 'eligible', principalId: 'carol', roleId: 'temp-role' },
    });
    const blocked = await call('DELETE', '/v1/roles/temp-role', { as: 'admin' });
    expect(blocked.status).toBe(409);
    await call('POST', '/v1/requests', {
      as: 'admin',
      body: { action: 'adminRemove', assignmentType: 'eligible', principalId: 'carol', roleId: 'temp-role' },
    });
    expect((await call('DELETE', '/v1/roles/temp-role', { as: 'admin' })).status).toBe(204);
    expect((await call('GET', '/v1/roles/temp-role', { as: 'admin' })).status).toBe(404);
    expect((await call('DELETE', '/v1/roles/elevate-admin', { as: 'admin' })).status).toBe(409);
  });

  it('answers a retried create with the same Idempotency-Key with the first response, creating nothing new', async () => {
    const headers = { 'idempotency-key': 'create-idem-role-1' };
    const first = await call('POST', '/v1/roles', { as: 'admin', body: role('idem-role'), headers });
    const retry = await call('POST', '/v1/roles', { as: 'admin', body: role('idem-role'), headers });
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    const events = await call('GET', '/v1/audit-events?roleId=idem-role&action=role.created', { as: 'admin' });
    expect(events.body.items).toHaveLength(1);
    const reused = await call('POST', '/v1/roles', { as: 'admin', body: role('idem-role-2'), headers });
    expect(reused.status).toBe(409);
  });
});
