import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';
import { type ApiClient, api, startTestServer } from '#test/support/local.ts';

/**
 * Input hygiene over HTTP (issue 11, items 11, 12 and 15; issue 12, item 14): text that shows nothing, hand-made
 * page cursors, one Idempotency-Key sent many times at once, an expired idempotency record, duplicate role ids.
 */
interface Problem {
  code: string;
  detail: string;
  errors?: { path: string; message: string }[];
}
interface Req {
  id: string;
  status: string;
  justification: string | null;
  ticket: { system: string; number: string } | null;
}

let server: LocalServer;
let admin: ApiClient;
let alice: ApiClient;

beforeAll(async () => {
  server = await startTestServer({ clockStart: new Date('2026-11-26T10:00:00Z') });
  admin = api(server).as({ sub: 'admin', mfa: true });
  alice = api(server).as({ sub: 'alice', mfa: true });
  for (const id of ['ops', 'db']) {
    expect((await admin.post('/v1/roles', { id, displayName: id.toUpperCase(), privileged: true })).status).toBe(201);
    const policy = defaultPolicy();
    policy.activation.requireJustification = true;
    policy.activation.requireTicket = id === 'db';
    expect((await admin.put(`/v1/roles/${id}/policy`, policy)).status).toBe(200);
    const eligible = await admin.post('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: 'alice',
      roleId: id,
      scope: '/accounts/1',
    });
    expect(eligible.status, JSON.stringify(eligible.body)).toBe(201);
  }
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

const activation = (roleId: string, extra: Record<string, unknown>) => ({
  action: 'selfActivate',
  assignmentType: 'active',
  roleId,
  scope: '/accounts/1',
  ...extra,
});

describe('text that shows nothing (issue 11, item 11)', () => {
  const invisible = {
    'zero-width spaces': '\u200b\u200b\u200b',
    'Hangul fillers': '\u3164\u115f\u1160\uffa0',
    'joiners, marks and a BOM': '\u200d\u200c\u2060\u200e\ufeff',
    'controls and spaces': ' \u0007\u001b\t\n ',
  };

  for (const [what, text] of Object.entries(invisible)) {
    it(`refuses a justification made of ${what} where the policy requires one`, async () => {
      // Act
      const res = await alice.post<Problem>('/v1/requests', activation('ops', { justification: text }));

      // Assess
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.code).toBe('ValidationFailed');
      expect(res.body.errors?.[0]?.path).toBe('justification');
    });

    it(`refuses a ticket made of ${what} where the policy requires one`, async () => {
      const res = await alice.post<Problem>(
        '/v1/requests',
        activation('db', { justification: 'INC-9', ticket: { system: text, number: `${text}42` } }),
      );
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.errors?.map((e) => e.path)).toEqual(['ticket.system']);
    });
  }

  it('stores the justification and ticket normalised: NFC, invisible characters removed, trimmed', async () => {
    // Act
    const res = await alice.post<Req>(
      '/v1/requests',
      activation('db', {
        justification: '\u3164 Cafe\u0301\u200b deploy\u001b[2J\nrollback \u202e',
        ticket: { system: ' jira\u200b ', number: '\ufeffOPS-1\u2060' },
      }),
    );

    // Assess
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.justification).toBe('Café deploy[2J rollback');
    expect(res.body.ticket).toEqual({ system: 'jira', number: 'OPS-1' });
    const read = await alice.get<Req>(`/v1/requests/${res.body.id}`);
    expect(read.body.justification).toBe('Café deploy[2J rollback');
  });
});
