/**
 * The cloud smoke tier (`npm run test:cloud`): five journeys against a deployed stack, as a client would, over
 * HTTPS. It runs only when ELEVATE_API_URL (the stack's ApiUrl output) and ELEVATE_TOKEN (an access token of a
 * bootstrap admin, signed in with MFA, carrying the OidcScopes scope) are set; otherwise the whole file is skipped.
 * It is not part of `npm test`. It leaves a role `smoke-<time>` behind, without live assignments.
 */
import { afterAll, describe, expect, it } from 'vitest';

const base = process.env.ELEVATE_API_URL?.replace(/\/$/, '');
const token = process.env.ELEVATE_TOKEN;
const configured = Boolean(base && token);

/** The token's `sub` (the principal the journeys act as); the API verified the token, this only reads it. */
function subject(jwt: string): string {
  const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: string };
  if (!payload.sub) throw new Error('ELEVATE_TOKEN has no sub claim');
  return payload.sub;
}

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  // biome-ignore lint/suspicious/noExplicitAny: answers are read loosely; the assertions check their shape
  const json: any = text ? JSON.parse(text) : undefined;
  return { status: res.status, body: json };
}

describe.skipIf(!configured)('a deployed stack (ELEVATE_API_URL, ELEVATE_TOKEN)', () => {
  const me = configured ? subject(token as string) : '';
  const roleId = `smoke-${Date.now().toString(36)}`;
  const scope = '/';
  let activationId: string | undefined;

  afterAll(async () => {
    if (!configured) return;
    // Tidy up: end the activation and the eligibility (the role stays: its history is audited).
    await call('POST', '/v1/requests', {
      action: 'selfDeactivate',
      assignmentType: 'active',
      roleId,
      scope,
      justification: 'cloud smoke test done',
    });
    await call('POST', '/v1/requests', {
      action: 'adminRemove',
      assignmentType: 'eligible',
      principalId: me,
      roleId,
      scope,
      justification: 'cloud smoke test done',
    });
  });

  it('1. creates a role', async () => {
    // Act
    const created = await call('POST', '/v1/roles', { id: roleId, displayName: `Smoke ${roleId}`, privileged: false });

    // Assess
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ id: roleId, builtIn: false });
  });

  it('2. makes the caller eligible for it', async () => {
    // Act
    const assigned = await call('POST', '/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: me,
      roleId,
      scope,
      justification: 'cloud smoke test',
    });

    // Assess
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(201);
    expect(assigned.body).toMatchObject({ status: 'Granted', roleId, principalId: me });
  });

  it('3. activates it', async () => {
    // Act
    const activated = await call('POST', '/v1/requests', {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId,
      scope,
      justification: 'cloud smoke test',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT15M' } },
    });

    // Assess
    expect(activated.status, JSON.stringify(activated.body)).toBe(201);
    expect(activated.body).toMatchObject({ status: 'Granted', assignmentId: expect.any(String) });
    activationId = activated.body.assignmentId;
  });

  it('4. is allowed by the access check', async () => {
    // Act
    const check = await call('GET', `/v1/access?principalId=${encodeURIComponent(me)}&roleId=${roleId}&scope=/`);

    // Assess
    expect(check.status, JSON.stringify(check.body)).toBe(200);
    expect(check.body).toMatchObject({ allowed: true, assignmentId: activationId });
  });

  it('5. reads the audit event of the activation', async () => {
    // Act
    const events = await call('GET', `/v1/audit-events?roleId=${roleId}&limit=50`);

    // Assess
    expect(events.status, JSON.stringify(events.body)).toBe(200);
    const activated = (events.body.items as { action: string; target: { assignmentId?: string } }[]).find(
      (e) => e.action === 'assignment.activated',
    );
    expect(activated?.target.assignmentId).toBe(activationId);
  });
});
