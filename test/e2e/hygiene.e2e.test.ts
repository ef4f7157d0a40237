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

describe('hand-edited nextToken (issue 11, item 12)', () => {
  type Cursor = { v: number; q: string; p: number; k: Record<string, string> | null };
  const decode = (token: string) => JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Cursor;
  const encode = (cursor: unknown) => Buffer.from(JSON.stringify(cursor)).toString('base64url');
  const edits: [string, (c: Cursor) => unknown][] = [
    ['without its sort key', (c) => ({ ...c, k: { ...Object.fromEntries(Object.entries(c.k ?? {}).slice(0, -1)) } })],
    ['with the sort keys removed', (c) => ({ ...c, k: { pk: c.k?.pk } })],
    [
      'with a changed sort key',
      (c) => ({
        ...c,
        k: Object.fromEntries(Object.entries(c.k ?? {}).map(([n, v]) => [n, `${v}~`.replace(/^[^#]*#/, 'ZZ#')])),
      }),
    ],
    ['with an empty sort key', (c) => ({ ...c, k: { ...c.k, sk: '' } })],
    ['with another index', (c) => ({ ...c, k: { ...c.k, gsi9pk: 'x', gsi9sk: 'y' } })],
    ['with the part out of range', (c) => ({ ...c, p: 99 })],
    ['with junk as the key', (c) => ({ ...c, k: 'junk' })],
    ['as junk JSON', () => ({ junk: true })],
  ];

  for (const path of ['/v1/requests', '/v1/audit-events', '/v1/roles', '/v1/assignments']) {
    it(`answers 400 ValidationFailed, never 500, for an edited cursor of ${path}`, async () => {
      // Prepare: a real token of the list
      const first = await admin.get<{ nextToken: string | null }>(`${path}?limit=1`);
      expect(first.status).toBe(200);
      const token = first.body.nextToken as string;
      expect(token).toEqual(expect.any(String));
      expect((await admin.get(`${path}?limit=1&nextToken=${token}`)).status).toBe(200);

      for (const [what, edit] of edits) {
        // Act
        const res = await admin.get<Problem>(`${path}?limit=1&nextToken=${encode(edit(decode(token)))}`);

        // Assess
        expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(400);
        expect(res.body.code, what).toBe('ValidationFailed');
      }
      for (const junk of ['%00', token.slice(0, -3), `${token}AAAA`, 'x'.repeat(4000), '__--']) {
        const res = await admin.get<Problem>(`${path}?limit=1&nextToken=${junk}`);
        expect(res.status, `${junk.slice(0, 30)}: ${JSON.stringify(res.body)}`).toBe(400);
      }
    });
  }
});
