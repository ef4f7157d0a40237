import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { api, startTestServer } from '#test/support/local.ts';

/** The README's first walk-through, over HTTP, as a person with curl would do it. */
describe('a first session with Elevate', () => {
  let server: LocalServer;
  beforeAll(async () => {
    server = await startTestServer({ clockStart: new Date('2026-11-26T10:00:00Z') });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('creates a role, sets its policy, assigns someone eligible, who sees it; the audit trail shows all of it', async () => {
    const admin = api(server).as({ sub: 'admin', mfa: true });
    const alice = api(server).as({ sub: 'alice', email: 'alice@example.com', name: 'Alice' });

    const role = await admin.post('/v1/roles', {
      id: 'db-admin',
      displayName: 'Database administrator',
      privileged: true,
    });
    expect(role.status).toBe(201);

    const policy = await admin.get<{ activation: Record<string, unknown> }>('/v1/roles/db-admin/policy');
    const changed = {
      ...policy.body,
      activation: { ...policy.body.activation, maxDuration: 'PT4H', requireTicket: true },
    };
    expect((await admin.put('/v1/roles/db-admin/policy', changed)).status).toBe(200);

    const request = await admin.post<{ status: string; assignmentId: string }>('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: 'alice',
      roleId: 'db-admin',
      scope: '/accounts/123456789012',
      justification: 'joins the database on-call rota',
      schedule: { expiration: { type: 'afterDuration', duration: 'P90D' } },
    });
    expect(request.status).toBe(201);
    expect(request.body.status).toBe('Granted');

    const mine = await alice.get<{
      items: { roleId: string; assignmentType: string; scope: string; endDateTime: string }[];
    }>('/v1/me/assignments');
    expect(mine.status).toBe(200);
    expect(mine.body.items).toEqual([
      expect.objectContaining({
        roleId: 'db-admin',
        assignmentType: 'eligible',
        scope: '/accounts/123456789012',
        endDateTime: '2027-02-24T10:00:00.000Z',
      }),
    ]);

    const audit = await admin.get<{
      items: { action: string; actor: { id: string }; details: { request?: { id: string } } }[];
    }>('/v1/audit-events');
    expect(audit.status).toBe(200);
    const actions = audit.body.items.map((e) => e.action);
    expect(actions.slice(0, 3)).toEqual(expect.arrayContaining(['assignment.assigned', 'policy.updated']));
    // One event per change: the assignment's records the request it was made by (no request.created of its own).
    const assigned = audit.body.items.find((e) => e.action === 'assignment.assigned');
    expect(assigned?.details.request?.id).toBe((request.body as { id?: string }).id);
    expect(actions).not.toContain('request.created');
    expect(actions).toContain('role.created');
    expect(actions).toContain('assignment.bootstrapped');
    expect(actions.at(-1)).toBe('elevate.installed');
  });

  it('publishes its contract without a token', async () => {
    const doc = await api(server).get<{ openapi: string; paths: Record<string, unknown> }>('/v1/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toContain('/v1/requests');
  });

  it('answers malformed input with a problem, never a 5xx', async () => {
    const admin = api(server).as({ sub: 'admin', mfa: true });
    const cases: [string, string, unknown][] = [
      ['POST', '/v1/roles', '{"id":'],
      ['POST', '/v1/roles', '[]'],
      ['POST', '/v1/roles', 'null'],
      ['POST', '/v1/requests', { action: 'adminAssign' }],
      ['GET', '/v1/roles?limit=0', undefined],
      ['GET', '/v1/roles?limit=abc', undefined],
      ['GET', '/v1/roles?nextToken=%00%01', undefined],
      ['GET', '/v1/audit-events?from=yesterday', undefined],
      ['GET', '/v1/access?roleId=db-admin&scope=../etc', undefined],
      ['GET', `/v1/roles/${'x'.repeat(5000)}`, undefined],
      ['GET', '/v1/requests/%E2%9C%93', undefined],
      ['GET', '/v1/assignments/..%2F..%2Fetc', undefined],
      ['PUT', '/v1/roles/db-admin/policy', { activation: {} }],
    ];
    for (const [method, path, body] of cases) {
      const res = await admin.request<{ code: string }>(
        method,
        path,
        body,
        typeof body === 'string' ? { 'content-type': 'application/json' } : {},
      );
      expect(res.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${method} ${path}`).toBeLessThan(500);
      expect(res.headers['content-type'], `${method} ${path}`).toBe('application/problem+json');
    }
  });
});
