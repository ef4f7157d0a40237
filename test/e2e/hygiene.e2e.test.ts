import { createHash } from 'node:crypto';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';
import { type ApiClient, api, settle, startTestServer } from '#test/support/local.ts';
import { testDynamoClient } from '#test/support/table.ts';

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
}, 180_000);
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

describe('one Idempotency-Key sent many times at once (issue 11, item 15)', () => {
  it('answers 20 concurrent calls with the first response, and makes one change', async () => {
    // Prepare
    const body = activation('ops', { justification: 'INC-15 twenty clicks' });
    const headers = { 'idempotency-key': 'same-key-20' };

    // Act
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => alice.post<Req & Problem>('/v1/requests', body, headers)),
    );

    // Assess
    const summary = answers.map((a) => `${a.status} ${a.body.code ?? a.body.id}`);
    expect(new Set(summary).size, summary.join('\n')).toBe(1);
    expect(answers[0]?.status).toBe(201);
    const id = answers[0]?.body.id;
    expect(answers.filter((a) => a.headers['idempotent-replayed'] === 'true')).toHaveLength(19);
    const mine = await alice.get<{ items: Req[] }>('/v1/requests?roleId=ops&limit=200');
    expect(mine.body.items.filter((r) => r.justification === 'INC-15 twenty clicks').map((r) => r.id)).toEqual([id]);
    const roles = await admin.post<{ id: string }>(
      '/v1/roles',
      { id: 'twenty', displayName: 'Twenty', privileged: false },
      { 'idempotency-key': 'role-twenty' },
    );
    expect(roles.status).toBe(201);
  });

  it('answers 20 concurrent creations of one role with one 201, replayed', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        admin.post<{ id: string; code?: string }>(
          '/v1/roles',
          { id: 'race-role', displayName: 'Race', privileged: false },
          { 'idempotency-key': 'race-role-key' },
        ),
      ),
    );
    const summary = answers.map((a) => `${a.status} ${a.body.code ?? a.body.id}`);
    expect(summary, summary.join('\n')).toEqual(Array(20).fill('201 race-role'));
  });
});

describe('an access review naming a role twice (issue 12, item 14)', () => {
  it('answers 400 ValidationFailed on scope.roleIds (and on repeated assignment types), never 500', async () => {
    // Prepare
    const review = (scope: Record<string, unknown>) => ({
      displayName: 'Twice',
      scope,
      reviewers: { type: 'self' },
      recurrence: { type: 'once' },
    });

    // Act
    const roles = await admin.post<Problem>('/v1/access-reviews', review({ roleIds: ['ops', 'db', 'ops'] }));
    const types = await admin.post<Problem>(
      '/v1/access-reviews',
      review({ roleIds: ['ops'], assignmentTypes: ['eligible', 'eligible'] }),
    );
    const once = await admin.post<{ id: string }>('/v1/access-reviews', review({ roleIds: ['ops', 'db'] }));

    // Assess
    expect(roles.status, JSON.stringify(roles.body)).toBe(400);
    expect(roles.body).toMatchObject({ code: 'ValidationFailed', errors: [{ path: 'scope.roleIds' }] });
    expect(types.status, JSON.stringify(types.body)).toBe(400);
    expect(types.body.errors?.[0]?.path).toBe('scope.assignmentTypes');
    expect(once.status, JSON.stringify(once.body)).toBe(201);
  });
});

describe('idempotency records that have expired or are still held (issue 12, item 14; issue 11, item 15)', () => {
  const body = (justification: string) => activation('ops', { justification });
  const fingerprint = (b: unknown) =>
    createHash('sha256')
      .update(`POST /v1/requests\n${JSON.stringify(b)}`)
      .digest('hex');

  it('holds a duplicate while the first call with its key runs, then answers 409 with Retry-After', async () => {
    // Prepare: a claim of a call still running (its lease ends in a minute)
    const held = body('INC-held');
    await DynamoDBDocumentClient.from(testDynamoClient(server.dynamoEndpoint)).send(
      new PutCommand({
        TableName: server.tableName,
        Item: {
          pk: 'IDEM#alice#held-key',
          sk: 'IDEM',
          entity: 'idempotency',
          fingerprint: fingerprint(held),
          claim: 'another-call',
          pending: true,
          ttl: Math.floor(server.clock.now().getTime() / 1000) + 60,
        },
      }),
    );

    // Act
    const started = performance.now();
    const waited = await alice.post<Problem>('/v1/requests', held, { 'idempotency-key': 'held-key' });
    const ms = performance.now() - started;
    const other = await alice.post<Problem>('/v1/requests', body('INC-other'), { 'idempotency-key': 'held-key' });

    // Assess
    expect(waited.status, JSON.stringify(waited.body)).toBe(409);
    expect(waited.headers['retry-after']).toBe('1');
    expect(ms).toBeGreaterThanOrEqual(1_900);
    expect(other.status).toBe(409);
    expect(other.body.detail).toContain('different request');
  });

  it('treats a record past its expiry as absent (TTL not yet swept): the call is judged again', async () => {
    // Prepare: ops free again (the calls above activated it), then a first call, remembered for 24 hours
    const off = { action: 'selfDeactivate', assignmentType: 'active', roleId: 'ops', scope: '/accounts/1' };
    expect((await alice.post('/v1/requests', off)).status).toBeLessThan(300);
    const first = await alice.post<Req>('/v1/requests', body('INC-24h'), { 'idempotency-key': 'day-key' });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const replay = await alice.post<Req>('/v1/requests', body('INC-24h'), { 'idempotency-key': 'day-key' });
    expect(replay.headers['idempotent-replayed']).toBe('true');

    // Act: 25 hours later the record is still in the table (DynamoDB Local sweeps no TTL here)
    await api(server).post('/_local/clock', { advance: 'PT25H' });
    await settle(server);
    const again = await alice.post<Req>('/v1/requests', body('INC-24h'), { 'idempotency-key': 'day-key' });
    const other = await alice.post<Req & Problem>('/v1/requests', body('INC-next-day'), {
      'idempotency-key': 'day-key',
    });

    // Assess
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    expect(again.body.id).not.toBe(first.body.id);
    expect(other.status).toBe(409); // the new record holds the key for a day again
    expect(other.body.code).toBe('Conflict');
  });
});
