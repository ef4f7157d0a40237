import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '#functions/api/routes.ts';
import type { LocalServer } from '#infra/local/server.ts';
import { defaultAlertSettings } from '#shared/domain/alerts.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';
import { type AnonymousApiClient, type ApiClient, api, startTestServer } from '#test/support/local.ts';

/**
 * Every route of the route table × every kind of caller → the expected status. The table of samples
 * below must name every operation: a new route without a sample fails this file.
 */
type Who = 'admin' | 'auditor' | 'user';
interface Sample {
  method?: string;
  path: (f: Fixture) => string;
  body?: (f: Fixture) => unknown;
  expect: Record<Who, number>;
}
interface Fixture {
  n: number;
  requestId: string;
  assignmentId: string;
  admin: ApiClient;
}

const admin200 = { admin: 200, auditor: 403, user: 403 };
const reader200 = { admin: 200, auditor: 200, user: 403 };
const all200 = { admin: 200, auditor: 200, user: 200 };
let counter = 0;
const NO_REVIEW = 'rev_00000000000000000000000000';
const NO_INSTANCE = 'rvi_00000000000000000000000000';

const SAMPLES: Record<string, Sample> = {
  getOpenApi: { path: () => '/v1/openapi.json', expect: all200 },
  createGroup: {
    path: () => '/v1/groups',
    body: (f) => ({ id: `grp-${f.n}`, displayName: 'x' }),
    expect: { admin: 201, auditor: 403, user: 403 },
  },
  listGroups: { path: () => '/v1/groups', expect: all200 },
  listGroupMembers: { path: () => '/v1/groups/fixture-grp/members', expect: reader200 },
  listAlerts: { path: () => '/v1/alerts', expect: reader200 },
  dismissAlert: {
    path: () => '/v1/alerts/roleWithoutMfa-000000000000/dismiss',
    expect: { admin: 404, auditor: 403, user: 403 },
  },
  getAlertSettings: { path: () => '/v1/alert-settings', expect: admin200 },
  putAlertSettings: { path: () => '/v1/alert-settings', body: () => defaultAlertSettings(), expect: admin200 },
  createRole: {
    path: () => '/v1/roles',
    body: (f) => ({ id: `made-${f.n}`, displayName: 'x', privileged: false }),
    expect: { admin: 201, auditor: 403, user: 403 },
  },
  listRoles: { path: () => '/v1/roles', expect: all200 },
  getRole: { path: () => '/v1/roles/db-admin', expect: all200 },
  updateRole: { path: () => '/v1/roles/db-admin', body: () => ({ description: 'updated' }), expect: admin200 },
  deleteRole: {
    path: (f) => `/v1/roles/gone-${f.n}`,
    expect: { admin: 204, auditor: 403, user: 403 },
  },
  getPolicy: { path: () => '/v1/roles/db-admin/policy', expect: all200 },
  putPolicy: { path: () => '/v1/roles/db-admin/policy', body: () => defaultPolicy(), expect: admin200 },
  putPrincipal: {
    path: () => '/v1/principals/someone',
    body: () => ({ type: 'user', displayName: 'Someone' }),
    expect: admin200,
  },
  getPrincipal: { path: () => '/v1/principals/alice', expect: reader200 },
  createRequest: {
    path: () => '/v1/requests',
    body: (f) => ({ action: 'adminAssign', assignmentType: 'eligible', principalId: `p-${f.n}`, roleId: 'db-admin' }),
    expect: { admin: 201, auditor: 403, user: 403 },
  },
  listRequests: { path: () => '/v1/requests', expect: all200 },
  getRequest: { path: (f) => `/v1/requests/${f.requestId}`, expect: { admin: 200, auditor: 200, user: 404 } },
  listAssignments: { path: () => '/v1/assignments', expect: reader200 },
  getAssignment: { path: (f) => `/v1/assignments/${f.assignmentId}`, expect: { admin: 200, auditor: 200, user: 404 } },
  listMyAssignments: { path: () => '/v1/me/assignments', expect: all200 },
  checkAccess: { path: () => '/v1/access?principalId=alice&roleId=db-admin', expect: reader200 },
  listAuditEvents: { path: () => '/v1/audit-events', expect: reader200 },
  createAuditExport: {
    path: () => '/v1/audit-exports',
    body: () => ({ from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00Z', format: 'jsonl' }),
    expect: { admin: 202, auditor: 202, user: 403 },
  },
  listAuditExports: { path: () => '/v1/audit-exports', expect: reader200 },
  // an id that does not exist: readers get 404, a plain user is refused before the lookup
  getAuditExport: {
    path: () => '/v1/audit-exports/exp_01J00000000000000000000000',
    expect: { admin: 404, auditor: 404, user: 403 },
  },
  // The fixture request was created by the admin and is already Granted: the requester gets 409, others 403.
  cancelRequest: { path: (f) => `/v1/requests/${f.requestId}/cancel`, expect: { admin: 409, auditor: 403, user: 403 } },
  approveRequest: {
    path: (f) => `/v1/requests/${f.requestId}/approve`,
    body: () => ({}),
    expect: { admin: 409, auditor: 409, user: 409 },
  },
  denyRequest: {
    path: (f) => `/v1/requests/${f.requestId}/deny`,
    body: () => ({}),
    expect: { admin: 409, auditor: 409, user: 409 },
  },
  listApprovals: { path: () => '/v1/approvals', expect: all200 },
  createAccessReview: {
    path: () => '/v1/access-reviews',
    body: (f) => ({
      displayName: `review ${f.n}`,
      scope: { roleIds: ['db-admin'] },
      reviewers: { type: 'self' },
      recurrence: { type: 'once', startDateTime: '2027-01-01T00:00:00Z' },
    }),
    expect: { admin: 201, auditor: 403, user: 403 },
  },
  listAccessReviews: { path: () => '/v1/access-reviews', expect: reader200 },
  // No such review/instance: readers learn that (404); others are refused first (403).
  getAccessReview: { path: () => `/v1/access-reviews/${NO_REVIEW}`, expect: { admin: 404, auditor: 404, user: 403 } },
  listAccessReviewInstances: {
    path: () => `/v1/access-reviews/${NO_REVIEW}/instances`,
    expect: { admin: 404, auditor: 404, user: 403 },
  },
  listAccessReviewDecisions: {
    path: () => `/v1/access-reviews/${NO_REVIEW}/instances/${NO_INSTANCE}/decisions`,
    expect: { admin: 404, auditor: 404, user: 404 },
  },
  decideAccessReview: {
    path: () => `/v1/access-reviews/${NO_REVIEW}/instances/${NO_INSTANCE}/decisions/dec_00000000000000000000000000`,
    body: () => ({ decision: 'Approve', justification: 'x' }),
    expect: { admin: 404, auditor: 404, user: 404 },
  },
  stopAccessReviewInstance: {
    path: () => `/v1/access-reviews/${NO_REVIEW}/instances/${NO_INSTANCE}/stop`,
    expect: { admin: 404, auditor: 403, user: 403 },
  },
  applyAccessReviewInstance: {
    path: () => `/v1/access-reviews/${NO_REVIEW}/instances/${NO_INSTANCE}/apply`,
    expect: { admin: 404, auditor: 403, user: 403 },
  },
  listMyReviews: { path: () => '/v1/me/reviews', expect: all200 },
};

describe('authorization of every route', () => {
  let server: LocalServer;
  let anonymous: AnonymousApiClient;
  let fixture: Omit<Fixture, 'n'>;
  const callers: Record<string, () => Promise<string>> = {};

  beforeAll(async () => {
    server = await startTestServer({ clockStart: new Date('2026-11-26T10:00:00Z') });
    anonymous = api(server);
    const admin = anonymous.as({ sub: 'admin', mfa: true });
    await admin.post('/v1/roles', { id: 'db-admin', displayName: 'DB', privileged: true });
    const assigned = await admin.post<{ id: string; assignmentId: string }>('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: 'alice',
      roleId: 'db-admin',
    });
    const auditor = await admin.post('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'active',
      principalId: 'auditor-1',
      roleId: 'elevate-auditor',
      justification: 'quarterly audit',
      schedule: { expiration: { type: 'afterDuration', duration: 'P30D' } },
    });
    expect(auditor.status).toBe(201);
    await admin.put('/v1/principals/alice', { type: 'user', displayName: 'Alice', email: 'alice@example.com' });
    expect((await admin.post('/v1/groups', { id: 'fixture-grp', displayName: 'Fixture' })).status).toBe(201);
    fixture = { requestId: assigned.body.id, assignmentId: assigned.body.assignmentId, admin };
    const mint = (sub: string, claims: Record<string, unknown> = {}, now?: Date) =>
      server.issuer.mintToken({ sub, mfa: true }, { claims, ...(now ? { now } : {}) });
    callers.admin = () => mint('admin');
    callers.auditor = () => mint('auditor-1');
    callers.user = () => mint('eve');
  });
  afterAll(async () => {
    await server?.stop();
  });

  const badTokens: Record<string, (s: LocalServer) => Promise<string>> = {
    'a forged signature': async (s) => {
      const token = await s.issuer.mintToken({ sub: 'admin', mfa: true });
      const [h, p] = token.split('.');
      return `${h}.${p}.${Buffer.from('forged').toString('base64url')}`;
    },
    'an expired token': (s) =>
      s.issuer.mintToken({ sub: 'admin', mfa: true, ttl: 60 }, { now: new Date(s.clock.now().getTime() - 3_600_000) }),
    'a wrong issuer': (s) =>
      s.issuer.mintToken({ sub: 'admin', mfa: true }, { claims: { iss: 'https://evil.example.com' } }),
    'a wrong audience': (s) => s.issuer.mintToken({ sub: 'admin', mfa: true }, { claims: { aud: 'another-api' } }),
    'alg none': async () => {
      const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      return `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ sub: 'admin', iss: 'https://elevate.local/issuer', aud: 'elevate-api', exp: 4_102_444_800 })}.`;
    },
    'HS256 signed with a guessed secret': () =>
      new SignJWT({ sub: 'admin', amr: ['mfa'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('https://elevate.local/issuer')
        .setAudience('elevate-api')
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode('secret')),
  };

  it('has a sample for every route', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(ROUTES.map((r) => r.operationId).sort());
  });

  for (const route of ROUTES) {
    describe(`${route.method} ${route.path}`, () => {
      const sample = SAMPLES[route.operationId] as Sample;
      const prepare = async (): Promise<Fixture> => {
        const n = ++counter;
        if (route.operationId === 'deleteRole') {
          await fixture.admin.post('/v1/roles', { id: `gone-${n}`, displayName: 'x', privileged: false });
        }
        return { ...fixture, n };
      };
      const send = async (client: ApiClient) => {
        const f = await prepare();
        return client.request(route.method, sample.path(f), sample.body?.(f));
      };

      if (route.access === 'public') {
        it('is open to anyone', async () => {
          expect((await send(anonymous)).status).toBe(200);
        });
      } else {
        it('refuses an anonymous caller with 401', async () => {
          const res = await send(anonymous);
          expect(res.status).toBe(401);
          expect(res.headers['content-type']).toBe('application/problem+json');
        });
        for (const [name, make] of Object.entries(badTokens)) {
          it(`refuses ${name} with 401`, async () => {
            expect((await send(anonymous.withToken(await make(server)))).status).toBe(401);
          });
        }
      }
      for (const who of ['user', 'auditor', 'admin'] as const) {
        it(`answers ${who === 'user' ? 'a plain user' : `an ${who}`} with ${sample.expect[who]}`, async () => {
          const token = await (callers[who] as () => Promise<string>)();
          const res = await send(anonymous.withToken(token));
          expect(res.status, JSON.stringify(res.body)).toBe(sample.expect[who]);
        });
      }
    });
  }

  it('takes authority away the moment the admin assignment is removed', async () => {
    await fixture.admin.post('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'active',
      principalId: 'temp-admin',
      roleId: 'elevate-admin',
      justification: 'cover',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
    });
    const temp = anonymous.as({ sub: 'temp-admin', mfa: true });
    expect((await temp.get('/v1/assignments')).status).toBe(200);
    await server.manualClock?.advance(3_600_000);
    expect((await temp.get('/v1/assignments')).status).toBe(403);
  });
});
