import { exportSPKI, importJWK, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { LOCAL_SLACK_SIGNING_SECRET } from '#infra/local/slack.ts';
import { postInteraction } from '#infra/local/slack-click.ts';
import { ROUTES } from '#shared/api/routes.ts';
import { defaultAlertSettings } from '#shared/domain/alerts.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';
import { type AnonymousApiClient, type ApiClient, api, settle, startTestServer } from '#test/support/local.ts';

/**
 * Every route of the route table × every kind of caller → the expected status. The table of samples
 * below must name every operation: a new route without a sample fails this file.
 */
type Who = 'admin' | 'auditor' | 'user';
/**
 * The caller kinds beyond the three of every sample: an approver (named in db-gated's policy), a reviewer (named
 * in the fixture access review) and an admin whose time-bound elevate-admin assignment has expired. They get the
 * plain user's status unless the sample sets theirs (the routes that are theirs: approve, deny, decide). The admin's
 * own token without MFA gets the admin's status on reads, and 400 MfaRequired on every change made with
 * elevate-admin authority (governance.adminMfa).
 *
 * Identity cases (issue 11, items 2-4): `groupApprover` is a member of exactly the identity-provider group
 * `approvers` (db-gated's second approver); `lookalike` holds groups that only look like it when split (`Not
 * approvers`, `wannabe,approvers`, `[approvers]`); `groupNamedAdmin` and `groupNamedAuditor` are user tokens whose
 * sub is the id of an Elevate group holding elevate-admin / elevate-auditor; `memberReviewer` is a named reviewer who
 * is an Elevate member of the group whose item she is asked to decide, and `idpReviewer` a named reviewer whose
 * identity-provider group has that group's name.
 */
type Extra =
  | 'approver'
  | 'reviewer'
  | 'lapsedAdmin'
  | 'groupApprover'
  | 'lookalike'
  | 'groupNamedAdmin'
  | 'groupNamedAuditor'
  | 'memberReviewer'
  | 'idpReviewer'
  | 'adminWithoutMfa';
interface Sample {
  method?: string;
  path: (f: Fixture) => string;
  body?: (f: Fixture) => unknown;
  expect: Record<Who, number> & Partial<Record<Extra, number>>;
  /** Per call: makes what the call acts on (a fresh pending request, an undecided review item). */
  prepare?: (f: Fixture) => Promise<Partial<Fixture>>;
  /** The path for one caller kind, where it differs (the review item of the group a reviewer is in). */
  pathFor?: Partial<Record<Extra, (f: Fixture) => string>>;
}
interface Fixture {
  n: number;
  requestId: string;
  assignmentId: string;
  admin: ApiClient;
  /** A request of db-gated waiting for the approver (prepare: pendingRequest). */
  pendingId?: string;
  /** The decisions path of the fixture review's instance, and its undecided items (first come, first used). */
  decisionsPath: string;
  openDecisions: string[];
  /** The fixture review's item of the group fixture-grp (the member and IdP reviewers may never decide it). */
  groupDecision: string;
  as: (sub: string) => ApiClient;
}

/** A fresh principal made eligible for db-gated activates it: PendingApproval, waiting for the approver. */
async function pendingRequest(f: Fixture): Promise<Partial<Fixture>> {
  const principal = `asker-${f.n}`;
  const assigned = await f.admin.post('/v1/requests', {
    action: 'adminAssign',
    assignmentType: 'eligible',
    principalId: principal,
    roleId: 'db-gated',
  });
  expect(assigned.status).toBe(201);
  const asked = await f.as(principal).post<{ id: string; status: string }>('/v1/requests', {
    action: 'selfActivate',
    assignmentType: 'active',
    roleId: 'db-gated',
    justification: 'INC-1',
    schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
  });
  expect(asked.status, JSON.stringify(asked.body)).toBe(202);
  return { pendingId: asked.body.id };
}

const admin200 = { admin: 200, auditor: 403, user: 403 };
const reader200 = { admin: 200, auditor: 200, user: 403 };
const all200 = { admin: 200, auditor: 200, user: 200 };
let counter = 0;
const NO_REVIEW = 'rev_00000000000000000000000000';
const NO_INSTANCE = 'rvi_00000000000000000000000000';
const NO_CHANGE = 'chg_00000000000000000000000000';

const SAMPLES: Record<string, Sample> = {
  getOpenApi: { path: () => '/v1/openapi.json', expect: all200 },
  // No bearer token: Slack's signature instead. A token, however privileged, is no signature: 401 for everyone.
  slackInteractions: {
    method: 'POST',
    path: () => '/v1/integrations/slack/interactions',
    body: () => ({ payload: { type: 'block_actions', user: { id: 'U0ADMIN' } } }),
    expect: { admin: 401, auditor: 401, user: 401 },
  },
  createGroup: {
    path: () => '/v1/groups',
    body: (f) => ({ id: `grp-${f.n}`, displayName: 'x' }),
    expect: { admin: 201, auditor: 403, user: 403 },
  },
  listGroups: { path: () => '/v1/groups', expect: all200 },
  // mona is an Elevate member of fixture-grp: members see the group's members.
  listGroupMembers: { path: () => '/v1/groups/fixture-grp/members', expect: { ...reader200, memberReviewer: 200 } },
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
  getPolicy: { path: () => '/v1/roles/db-admin/policy?scope=/accounts/123456789012', expect: all200 },
  putPolicy: {
    path: () => '/v1/roles/db-admin/policy?scope=/accounts/123456789012',
    body: () => defaultPolicy(),
    expect: admin200,
  },
  // A role of its own per call with a policy at one account, which the call removes.
  deletePolicy: {
    path: (f) => `/v1/roles/scoped-${f.n}/policy?scope=/accounts/123456789012`,
    prepare: async (f) => {
      await f.admin.post('/v1/roles', { id: `scoped-${f.n}`, displayName: 'x', privileged: false });
      const put = await f.admin.put(`/v1/roles/scoped-${f.n}/policy?scope=/accounts/123456789012`, defaultPolicy());
      expect(put.status).toBe(200);
      return {};
    },
    expect: { admin: 204, auditor: 403, user: 403 },
  },
  listPolicies: { path: () => '/v1/roles/db-admin/policies', expect: all200 },
  getTargets: { path: () => '/v1/roles/db-admin/targets', expect: all200 },
  // A permission set of the local Identity Center stand-in: it exists, so only authority decides.
  putTargets: {
    path: () => '/v1/roles/db-admin/targets',
    body: () => ({
      targets: [
        {
          type: 'identityCenterAccountAssignment',
          permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-local/ps-readonly',
        },
      ],
    }),
    expect: admin200,
  },
  listScopes: { path: () => '/v1/scopes', expect: all200 },
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
  // The fixture request was created by the admin and is already Granted: the requester gets 409, the auditor (who may
  // see it) 403, and whoever may not see it the same 404 as for a request that does not exist.
  cancelRequest: { path: (f) => `/v1/requests/${f.requestId}/cancel`, expect: { admin: 409, auditor: 403, user: 404 } },
  // A fresh request waiting for the approver named in db-gated's policy: only that approver may decide it; admins and
  // auditors see it (403), anyone else gets the 404 of a request that does not exist.
  approveRequest: {
    path: (f) => `/v1/requests/${f.pendingId}/approve`,
    body: () => ({ justification: 'ok' }),
    prepare: pendingRequest,
    expect: { admin: 403, auditor: 403, user: 404, approver: 200, groupApprover: 200 },
  },
  denyRequest: {
    path: (f) => `/v1/requests/${f.pendingId}/deny`,
    body: () => ({ justification: 'no' }),
    prepare: pendingRequest,
    expect: { admin: 403, auditor: 403, user: 404, approver: 200, groupApprover: 200 },
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
  // An undecided item of the fixture review: only its reviewer decides it (admins and auditors included: 403).
  decideAccessReview: {
    path: (f) => `${f.decisionsPath}/${f.openDecisions[0]}`,
    body: () => ({ decision: 'Approve', justification: 'still needed' }),
    expect: { admin: 403, auditor: 403, user: 403, reviewer: 200, memberReviewer: 403, idpReviewer: 403 },
    pathFor: {
      memberReviewer: (f) => `${f.decisionsPath}/${f.groupDecision}`,
      idpReviewer: (f) => `${f.decisionsPath}/${f.groupDecision}`,
    },
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
  getSettings: { path: () => '/v1/settings', expect: admin200 },
  putSettings: {
    path: () => '/v1/settings',
    body: () => ({ governance: { adminMfa: true, requireSecondAdmin: false } }),
    expect: admin200,
  },
  listChanges: { path: () => '/v1/changes', expect: admin200 },
  // No such change: admins learn that (404); everyone else is refused first (403).
  getChange: { path: () => `/v1/changes/${NO_CHANGE}`, expect: { admin: 404, auditor: 403, user: 403 } },
  approveChange: {
    path: () => `/v1/changes/${NO_CHANGE}/approve`,
    body: () => ({ justification: 'ok' }),
    expect: { admin: 404, auditor: 403, user: 403 },
  },
  rejectChange: {
    path: () => `/v1/changes/${NO_CHANGE}/reject`,
    body: () => ({ justification: 'no' }),
    expect: { admin: 404, auditor: 403, user: 403 },
  },
};

describe('authorization of every route', () => {
  let server: LocalServer;
  let anonymous: AnonymousApiClient;
  let fixture: Omit<Fixture, 'n'>;
  const callers: Record<string, () => Promise<string>> = {};

  beforeAll(async () => {
    server = await startTestServer({ clockStart: new Date('2026-11-26T10:00:00Z'), slack: true });
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
    // The approver: bob, named in the one approval stage of db-gated's policy.
    await admin.post('/v1/roles', { id: 'db-gated', displayName: 'Gated', privileged: true });
    const gated = defaultPolicy();
    gated.activation.approval = {
      required: true,
      stages: [
        {
          approvers: [
            { type: 'user', id: 'bob' },
            { type: 'group', id: 'approvers' },
          ],
          requiredApprovals: 1,
          timeout: 'PT4H',
        },
      ],
    };
    // Users whose sub is a group's id, where the group (not they) holds Elevate's authority.
    for (const [group, roleId] of [
      ['admins-grp', 'elevate-admin'],
      ['auditors-grp', 'elevate-auditor'],
    ] as const) {
      expect((await admin.post('/v1/groups', { id: group, displayName: group })).status).toBe(201);
      const held = await admin.post('/v1/requests', {
        action: 'adminAssign',
        assignmentType: 'active',
        principalId: group,
        principalType: 'group',
        roleId,
        justification: 'the group holds it',
        schedule: { expiration: { type: 'afterDuration', duration: 'P30D' } },
      });
      expect(held.status, JSON.stringify(held.body)).toBe(201);
    }
    // fixture-grp holds db-admin (an item of the fixture review), and mona is an Elevate member of it.
    for (const body of [
      { principalId: 'fixture-grp', principalType: 'group', roleId: 'db-admin', assignmentType: 'eligible' },
      { principalId: 'mona', roleId: 'group-fixture-grp-member', assignmentType: 'active', justification: 'member' },
    ]) {
      const made = await admin.post('/v1/requests', { action: 'adminAssign', ...body });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
    }
    expect((await admin.put('/v1/roles/db-gated/policy', gated)).status).toBe(200);
    // The reviewer: rita, of a review of db-admin (alice's eligibility, plus a few more to decide) started now.
    for (let i = 0; i < 3; i++) {
      await admin.post('/v1/requests', {
        action: 'adminAssign',
        assignmentType: 'eligible',
        principalId: `reviewed-${i}`,
        roleId: 'db-admin',
      });
    }
    const review = await admin.post<{ id: string }>('/v1/access-reviews', {
      displayName: 'fixture review',
      scope: { roleIds: ['db-admin'] },
      reviewers: {
        type: 'principals',
        principals: [
          { type: 'user', id: 'rita' },
          { type: 'user', id: 'mona' },
          { type: 'user', id: 'ivy' },
        ],
      },
      recurrence: { type: 'once', startDateTime: server.clock.now().toISOString() },
    });
    expect(review.status, JSON.stringify(review.body)).toBe(201);
    expect((await anonymous.post('/_local/schedules/reviews/run')).status).toBe(200);
    await settle(server);
    const instances = await admin.get<{ items: { id: string }[] }>(`/v1/access-reviews/${review.body.id}/instances`);
    const decisionsPath = `/v1/access-reviews/${review.body.id}/instances/${instances.body.items[0]?.id}/decisions`;
    const items = await admin.get<{ items: { id: string; principalId: string }[] }>(decisionsPath);
    expect(items.body.items.length).toBeGreaterThan(0);
    const groupDecision = items.body.items.find((d) => d.principalId === 'fixture-grp')?.id as string;
    expect(groupDecision).toBeDefined();
    // The lapsed admin: elevate-admin for one hour, and the clock then moves two hours on.
    const lapsed = await admin.post('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'active',
      principalId: 'lapsed-admin',
      roleId: 'elevate-admin',
      justification: 'one-hour cover',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
    });
    expect(lapsed.status).toBe(201);
    expect((await anonymous.as({ sub: 'lapsed-admin', mfa: true }).get('/v1/assignments')).status).toBe(200);
    await server.manualClock?.advance(2 * 3_600_000);
    await settle(server);
    fixture = {
      requestId: assigned.body.id,
      assignmentId: assigned.body.assignmentId,
      admin,
      decisionsPath,
      openDecisions: items.body.items.filter((d) => d.id !== groupDecision).map((d) => d.id),
      groupDecision,
      as: (sub) => anonymous.as({ sub, mfa: true }),
    };
    const mint = (sub: string, claims: Record<string, unknown> = {}, now?: Date) =>
      server.issuer.mintToken({ sub, mfa: true }, { claims, ...(now ? { now } : {}) });
    callers.admin = () => mint('admin');
    callers.auditor = () => mint('auditor-1');
    callers.user = () => mint('eve');
    callers.approver = () => mint('bob');
    callers.reviewer = () => mint('rita');
    callers.lapsedAdmin = () => mint('lapsed-admin');
    callers.groupApprover = () => mint('gus', { groups: ['Not approvers', 'approvers', 'x "y", z'] });
    callers.lookalike = () =>
      mint('lou', { groups: ['Not approvers', 'wannabe,approvers', '[approvers]', '"approvers"'] });
    callers.groupNamedAdmin = () => mint('admins-grp');
    callers.groupNamedAuditor = () => mint('auditors-grp');
    callers.memberReviewer = () => mint('mona');
    callers.idpReviewer = () => mint('ivy', { groups: ['fixture-grp'] });
    callers.adminWithoutMfa = () => server.issuer.mintToken({ sub: 'admin', mfa: false });
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
    'a token not yet valid (nbf an hour ahead)': (s) =>
      s.issuer.mintToken(
        { sub: 'admin', mfa: true },
        { claims: { nbf: Math.floor(s.clock.now().getTime() / 1000) + 3600 } },
      ),
    'a token without sub': (s) => s.issuer.mintToken({ sub: 'admin', mfa: true }, { claims: { sub: undefined } }),
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

  // The confusion attack: the issuer's PUBLIC key (as JWK text and as PEM) used as an HMAC secret.
  const publicKeyAsSecret = async (s: LocalServer, form: 'jwk' | 'pem') => {
    const jwk = s.issuer.jwks().keys[0] as JWK;
    const secret =
      form === 'jwk'
        ? JSON.stringify(jwk)
        : await exportSPKI((await importJWK(jwk, 'RS256')) as Parameters<typeof exportSPKI>[0]);
    return new SignJWT({ sub: 'admin', amr: ['pwd', 'mfa'] })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: s.issuer.kid })
      .setIssuer('https://elevate.local/issuer')
      .setAudience('elevate-api')
      .setIssuedAt(Math.floor(s.clock.now().getTime() / 1000))
      .setExpirationTime(Math.floor(s.clock.now().getTime() / 1000) + 3600)
      .sign(new TextEncoder().encode(secret));
  };
  badTokens['HS256 signed with the public JWK'] = (s) => publicKeyAsSecret(s, 'jwk');
  badTokens['HS256 signed with the public PEM'] = (s) => publicKeyAsSecret(s, 'pem');

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
        const f = { ...fixture, n };
        return { ...f, ...(await sample.prepare?.(f)) };
      };
      const send = async (client: ApiClient, who?: Who | Extra) => {
        const f = await prepare();
        const path = (who && sample.pathFor?.[who as Extra]) ?? sample.path;
        return client.request(route.method, path(f), sample.body?.(f));
      };

      if (route.access === 'slack') {
        it('takes a call signed as Slack signs it (200), and refuses one signed under another secret (401)', async () => {
          const shortcut = { type: 'shortcut', user: { id: 'U0ANYONE' }, callback_id: 'x', trigger_id: 't' };
          expect((await postInteraction(server.url, LOCAL_SLACK_SIGNING_SECRET, shortcut)).status).toBe(200);
          expect((await postInteraction(server.url, 'a-guessed-secret', shortcut)).status).toBe(401);
        });
      }
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
      const names: Record<Who | Extra, string> = {
        user: 'a plain user',
        auditor: 'an auditor',
        admin: 'an admin',
        approver: 'an approver',
        reviewer: 'a reviewer',
        lapsedAdmin: 'an admin whose assignment expired',
        groupApprover: 'a member of exactly the approver group',
        lookalike: 'a member of groups that look like the approver group when split',
        groupNamedAdmin: 'a user whose sub is the id of a group holding elevate-admin',
        groupNamedAuditor: 'a user whose sub is the id of a group holding elevate-auditor',
        memberReviewer: 'a reviewer deciding the item of an Elevate group she is a member of',
        idpReviewer: 'a reviewer deciding the item of a group named like her identity-provider group',
        adminWithoutMfa: 'an admin without MFA',
      };
      const adminChange = route.method !== 'GET' && (route.access === 'admin' || route.operationId === 'createRequest');
      for (const who of Object.keys(names) as (Who | Extra)[]) {
        const expected =
          sample.expect[who] ??
          (who === 'adminWithoutMfa' ? (adminChange ? 400 : sample.expect.admin) : sample.expect.user);
        it(`answers ${names[who]} with ${expected}`, async () => {
          const token = await (callers[who] as () => Promise<string>)();
          const res = await send(anonymous.withToken(token), who);
          expect(res.status, JSON.stringify(res.body)).toBe(expected);
          if (who === 'adminWithoutMfa' && adminChange) expect((res.body as { code: string }).code).toBe('MfaRequired');
          if (route.operationId === 'decideAccessReview' && res.status === 200) fixture.openDecisions.shift();
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
