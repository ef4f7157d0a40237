import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiGatewayEvent } from '#infra/local/http-event.ts';
import { ROUTES, type Route } from '#shared/api/routes.ts';
import { ManualClock, useClock } from '#shared/clock.ts';
import { depsFromEnv } from '#shared/deps.ts';
import { AssignmentType } from '#shared/domain/assignment.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';
import { PrincipalType } from '#shared/domain/primitives.ts';
import { RequestAction } from '#shared/domain/request.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { useExportPorts } from '#shared/usecases/exports.ts';
import { runReviewJob } from '#shared/usecases/review-job.ts';
import { checkInvariants } from '#test/support/invariants.ts';
import { authorizationOf, call } from '#test/support/invoke.ts';
import { missingSamples, ROUTE_SAMPLES, type SampleFixture } from '#test/support/route-samples.ts';
import { createTestTable, type TestTable } from '#test/support/table.ts';

/**
 * Property-based fuzzing of every route of the route table at the handler (the API Gateway event a caller's
 * request becomes): valid samples mutated field by field (wrong types, huge strings, unicode, nested junk, extra
 * fields, null), random JSON and non-JSON bodies, base64 bodies, junk query strings, junk path parameters and
 * headers, as an admin and as a plain user. Every answer is below 500 and every error is problem+json with a
 * `code`; afterwards the table holds no partial write (see test/support/invariants.ts).
 */
type Handler = (event: APIGatewayProxyEventV2WithJWTAuthorizer) => Promise<APIGatewayProxyStructuredResultV2>;

const clock = new ManualClock(new Date('2026-11-26T10:00:00Z'));
let table: TestTable;
let fixture: SampleFixture;
/** Identity fixtures: a request waiting for the group `fz-approvers`, and the review item of the group fz-grp. */
let identity: { pendingId: string; groupDecisionPath: string };
const handlers = new Map<string, Handler>();

afterAll(() => useExportPorts(undefined));

beforeAll(async () => {
  process.env.ELEVATE_LOG = 'error';
  useClock(clock);
  // No S3 or Lambda in this tier: the export job is not started (its own tests are in the e2e tier).
  useExportPorts({
    objects: {
      upload: async () => {},
      create: async () => true,
      presignGet: async (key) => `https://s3.invalid/${key}`,
    },
    jobs: { start: async () => {} },
  });
  table = await createTestTable();
  await bootstrap(depsFromEnv(), ['admin']);
  await call('POST', '/v1/roles', { as: 'admin', body: { id: 'fz-role', displayName: 'Fuzz', privileged: true } });
  const assigned = await call('POST', '/v1/requests', {
    as: 'admin',
    body: { action: 'adminAssign', assignmentType: 'eligible', principalId: 'alice', roleId: 'fz-role' },
  });
  expect(assigned.status).toBe(201);
  expect((await call('POST', '/v1/groups', { as: 'admin', body: { id: 'fz-grp', displayName: 'G' } })).status).toBe(
    201,
  );
  fixture = {
    roleId: 'fz-role',
    requestId: assigned.body.id,
    assignmentId: assigned.body.assignmentId,
    groupId: 'fz-grp',
  };
  identity = await identityFixture();
  for (const fn of new Set(ROUTES.map((r) => r.fn))) {
    handlers.set(fn, ((await import(`../../functions/api/${fn}.ts`)) as { handler: Handler }).handler);
  }
}, 120_000); // synthesizes the template and imports every handler: slow on a loaded machine

/**
 * Issue 11, items 2-4: the group fz-grp holds elevate-admin (a user token whose sub is `fz-grp` must not); fz-gated
 * waits for the identity-provider group `fz-approvers`; fz-grp holds fz-role, reviewed by fz-rev (an Elevate member of
 * fz-grp) and fz-idp (whose identity-provider group is named fz-grp): neither may decide the group's item.
 */
async function identityFixture(): Promise<{ pendingId: string; groupDecisionPath: string }> {
  const ok = async (method: string, path: string, opts: Parameters<typeof call>[2]) => {
    const res = await call(method, path, opts);
    expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
    return res.body;
  };
  const assign = (body: Record<string, unknown>) =>
    ok('POST', '/v1/requests', { as: 'admin', body: { action: 'adminAssign', justification: 'fixture', ...body } });
  await assign({ assignmentType: 'active', principalId: 'fz-grp', principalType: 'group', roleId: 'elevate-admin' });
  await ok('POST', '/v1/roles', { as: 'admin', body: { id: 'fz-gated', displayName: 'Gated', privileged: true } });
  const policy = defaultPolicy();
  policy.activation.approval = {
    required: true,
    stages: [{ approvers: [{ type: 'group', id: 'fz-approvers' }], requiredApprovals: 1, timeout: 'PT8H' }],
  };
  await ok('PUT', '/v1/roles/fz-gated/policy', { as: 'admin', body: policy });
  await assign({ assignmentType: 'eligible', principalId: 'fz-asker', roleId: 'fz-gated' });
  const pending = await ok('POST', '/v1/requests', {
    as: 'fz-asker',
    body: {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId: 'fz-gated',
      justification: 'INC-1',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
    },
  });
  await assign({ assignmentType: 'eligible', principalId: 'fz-grp', principalType: 'group', roleId: 'fz-role' });
  await assign({ assignmentType: 'active', principalId: 'fz-rev', roleId: 'group-fz-grp-member' });
  const review = await ok('POST', '/v1/access-reviews', {
    as: 'admin',
    body: {
      displayName: 'identity fuzz',
      scope: { roleIds: ['fz-role'] },
      reviewers: {
        type: 'principals',
        principals: [
          { type: 'user', id: 'fz-rev' },
          { type: 'user', id: 'fz-idp' },
        ],
      },
      requireJustification: false,
      recurrence: { type: 'once', startDateTime: clock.now().toISOString() },
    },
  });
  await runReviewJob(depsFromEnv(), { timeLeft: () => 900_000 });
  const instances = await ok('GET', `/v1/access-reviews/${review.id}/instances`, { as: 'admin' });
  const path = `/v1/access-reviews/${review.id}/instances/${instances.items[0].id}/decisions`;
  const items = (await ok('GET', path, { as: 'admin' })).items as { id: string; principalType: string }[];
  const group = items.find((d) => d.principalType === 'group');
  expect(group).toBeDefined();
  return { pendingId: pending.id, groupDecisionPath: `${path}/${group?.id}` };
}

// ---- arbitraries -----------------------------------------------------------------------------------

const SPECIAL = [
  '',
  ' ',
  '../',
  '..',
  '../../etc/passwd',
  '%2e%2e%2f',
  '%ZZ',
  '%',
  '/',
  '//',
  '\u0000',
  '\ud800',
  '🙂🙃',
  'e\u0301',
  '\u202e',
  'null',
  '__proto__',
  'constructor',
  "' OR 1=1 --",
  '$'.concat('{jndi:ldap://x}'),
  '<script>alert(1)</script>',
  'LIVE#x#active#/',
  'a'.repeat(257),
  'b'.repeat(3000),
  'é'.repeat(1500),
];

const junkString = fc.oneof(
  fc.constantFrom(...SPECIAL),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.nat({ max: 70_000 }).map((n) => 'x'.repeat(n)),
);

/** Values the schemas accept somewhere: swapped into another field, they reach the use cases' own checks. */
const PLAUSIBLE = [
  ...AssignmentType.options,
  ...RequestAction.options,
  ...PrincipalType.options,
  'alice',
  'admin',
  'fz-role',
  'elevate-admin',
  'elevate-auditor',
  '/',
  '/accounts/123456789012/regions/eu-west-1',
  'PT1H',
  'P400D',
  'P9999Y',
  '9999-12-31T23:59:59Z',
  'PT0S',
  'noExpiration',
  'afterDateTime',
  '2026-11-26T09:00:00Z',
  '2031-01-01T00:00:00Z',
  'Approve',
  'Deny',
];

const junkValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<unknown>(...PLAUSIBLE, true, false, 0, 3) },
  { weight: 4, arbitrary: junkString },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constantFrom(Number.MAX_SAFE_INTEGER, -1, 1e308) },
  { weight: 1, arbitrary: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.nat({ max: 60 }).map((depth) => nest(depth)) },
);

/** Mostly the valid value: one perturbation at a time reaches further than many at once. */
const sometimes = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

const nest = (depth: number): unknown => (depth === 0 ? 'leaf' : { a: [nest(depth - 1)] });

/** Paths to every value of a JSON value (object keys and array indices), the root included. */
function pathsOf(value: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [at];
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) out.push(...pathsOf(v, [...at, i]));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...at, k]));
  }
  return out;
}

type Mutation = { kind: 'replace' | 'delete' | 'extra'; pick: number; key: string; value: unknown };

function mutate(sample: unknown, m: Mutation): unknown {
  const copy = structuredClone(sample);
  const paths = pathsOf(copy);
  const path = paths[m.pick % paths.length] as (string | number)[];
  if (path.length === 0) return m.kind === 'replace' ? m.value : copy;
  const parent = path.slice(0, -1).reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], copy);
  const last = path[path.length - 1] as string | number;
  const container = parent as Record<string | number, unknown>;
  if (m.kind === 'replace') container[last] = m.value;
  else if (m.kind === 'delete') delete container[last];
  else {
    const target = container[last];
    if (target && typeof target === 'object' && !Array.isArray(target)) {
      (target as Record<string, unknown>)[m.key] = m.value;
    } else container[m.key] = m.value;
  }
  return copy;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('replace', 'replace', 'delete', 'extra'),
  pick: fc.nat(),
  key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'extra', 'pk', 'version', 'status'), fc.string()),
  value: junkValue,
});

type BodyPlan =
  | { mode: 'none' }
  | { mode: 'valid' }
  | { mode: 'mutated'; mutations: Mutation[] }
  | { mode: 'json'; value: unknown }
  | { mode: 'raw'; text: string }
  | { mode: 'base64'; text: string };

const bodyPlan: fc.Arbitrary<BodyPlan> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ mode: 'none' as const }) },
  { weight: 1, arbitrary: fc.constant({ mode: 'valid' as const }) },
  {
    weight: 6,
    arbitrary: fc.record({
      mode: fc.constant('mutated' as const),
      mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ mode: fc.constant('json' as const), value: junkValue }) },
  {
    weight: 1,
    arbitrary: fc.record({
      mode: fc.constant('raw' as const),
      text: fc.oneof(
        junkString,
        fc.constantFrom('{', '{"a":', '[1,2', 'nul', '{}garbage', `${'['.repeat(5000)}${']'.repeat(5000)}`),
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ mode: fc.constant('base64' as const), text: junkString }) },
);

const queryPlan = fc.record({
  keepValid: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  extra: fc.oneof(
    { weight: 3, arbitrary: fc.constant({}) },
    {
      weight: 1,
      arbitrary: fc.dictionary(
        fc.oneof(
          fc.constantFrom('limit', 'nextToken', 'principalId', 'roleId', 'status', 'scope', 'from', 'to', 'privileged'),
          junkString,
        ),
        junkString,
        { maxKeys: 3 },
      ),
    },
  ),
});

const headerPlan = fc.record({
  contentType: fc.oneof(
    { weight: 4, arbitrary: fc.constant('application/json') },
    { weight: 1, arbitrary: fc.constant(undefined) },
    {
      weight: 2,
      arbitrary: fc.oneof(
        fc.constantFrom(
          'application/json',
          'application/json; charset=utf-8',
          'APPLICATION/JSON',
          'application/problem+json',
          'application/vnd.api+json',
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          '',
          'application/jsonx',
        ),
        junkString,
      ),
    },
  ),
  idempotencyKey: sometimes(
    fc.oneof(
      fc.nat({ max: 20 }).map((n) => `fz-key-${n}`),
      junkString,
    ),
  ),
});

const routeIndex = fc.nat({ max: ROUTES.length - 1 });

const paramPlan = fc.array(sometimes(junkString), { minLength: 3, maxLength: 3 });

/** Group names that split (on spaces, commas, brackets or quotes) into the approver group's name, and junk. */
const groupName = fc.oneof(
  fc.constantFrom(
    'fz-approvers',
    'fz-grp',
    'Not fz-approvers',
    'wannabe,fz-approvers',
    '[fz-approvers]',
    '"fz-approvers"',
    '["fz-approvers"]',
    'fz-approvers ',
    'map[fz-approvers:x]',
  ),
  fc
    .array(fc.constantFrom('fz-approvers', 'fz-grp', 'Not', ' ', ',', '[', ']', '"', 'x'), { maxLength: 4 })
    .map((parts) => parts.join('')),
  fc.string({ maxLength: 12 }),
);

const callerPlan = fc.oneof(
  fc.constantFrom(
    { sub: 'admin', amr: ['pwd', 'mfa'] },
    { sub: 'alice', amr: ['pwd', 'mfa'] },
    { sub: 'alice', amr: ['pwd'] },
    // a user whose sub is the id of the group fz-grp, which holds elevate-admin
    { sub: 'fz-grp', amr: ['pwd', 'mfa'] },
  ),
  fc.record({
    sub: fc.constant('alice'),
    amr: fc.constant(['pwd', 'mfa']),
    groups: fc.array(groupName, { maxLength: 4 }),
  }),
);

// ---- one fuzzed call --------------------------------------------------------------------------------

let n = 0;

function eventOf(
  route: Route,
  plan: {
    body: BodyPlan;
    query: { keepValid: boolean; extra: Record<string, string> };
    headers: { contentType: string | undefined; idempotencyKey: string | undefined };
    params: (string | undefined)[];
    caller: Record<string, unknown>;
  },
): APIGatewayProxyEventV2WithJWTAuthorizer {
  const sample = ROUTE_SAMPLES[route.operationId as keyof typeof ROUTE_SAMPLES];
  const k = ++n;
  const validParams = sample.params?.(fixture) ?? {};
  const pathParameters: Record<string, string> = {};
  Object.keys(validParams).forEach((name, i) => {
    pathParameters[name] = plan.params[i] ?? (validParams[name] as string);
  });
  const query = { ...(plan.query.keepValid ? (sample.query?.(fixture) ?? {}) : {}), ...plan.query.extra };
  const validBody = sample.body?.(fixture, k);
  let body: string | undefined;
  let isBase64Encoded = false;
  switch (plan.body.mode) {
    case 'valid':
      body = validBody === undefined ? undefined : JSON.stringify(validBody);
      break;
    case 'mutated': {
      if (validBody === undefined) break; // a route without a body: its path, query and headers are fuzzed
      let value: unknown = validBody;
      for (const m of plan.body.mutations) value = mutate(value, m);
      body = JSON.stringify(value);
      break;
    }
    case 'json':
      body = JSON.stringify(plan.body.value) ?? 'null';
      break;
    case 'raw':
      body = plan.body.text;
      break;
    case 'base64':
      body = Buffer.from(plan.body.text).toString('base64');
      isBase64Encoded = true;
      break;
  }
  const headers: Record<string, string> = { authorization: authorizationOf(plan.caller) };
  if (plan.headers.contentType !== undefined) headers['content-type'] = plan.headers.contentType;
  if (plan.headers.idempotencyKey !== undefined) headers['idempotency-key'] = plan.headers.idempotencyKey;
  return apiGatewayEvent({
    routeKey: `${route.method} ${route.path}`,
    method: route.method,
    rawPath: route.path,
    rawQueryString: new URLSearchParams(query).toString(),
    // the drawn values as they are (a round trip through the query string would decode some of them differently)
    ...(Object.keys(query).length > 0 && { queryStringParameters: query }),
    pathParameters,
    headers,
    ...(body !== undefined && { body }),
    isBase64Encoded,
    claims: plan.caller,
    requestId: `fuzz-${k}`,
    userAgent: 'fuzz',
  });
}

/** What is wrong with a response (undefined when it is well-formed and below 500). */
function responseProblem(res: APIGatewayProxyStructuredResultV2): string | undefined {
  const status = res.statusCode ?? 200;
  if (status >= 500) return `status ${status}: ${res.body}`;
  if (res.body === undefined || res.body === '') return status >= 400 ? `error ${status} without a body` : undefined;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    return `status ${status}: the body is not JSON`;
  }
  const type = String(res.headers?.['content-type'] ?? '');
  if (!/^application\/(problem\+)?json$/.test(type)) return `status ${status}: content-type ${type}`;
  if (status >= 400) {
    if (typeof json.code !== 'string' || json.status !== status) return `status ${status}: not a problem: ${res.body}`;
    if (type !== 'application/problem+json') return `status ${status}: error with content-type ${type}`;
  }
  return undefined;
}

describe('fuzzing every route at the handler', () => {
  it('has a valid sample for every route of the route table', () => {
    expect(missingSamples()).toEqual([]);
  });

  it('starts from samples that are valid (an admin gets a 2xx or a refusal of the state, never a 400)', async () => {
    for (const route of ROUTES) {
      const event = eventOf(route, {
        body: { mode: 'valid' },
        query: { keepValid: true, extra: {} },
        headers: { contentType: 'application/json', idempotencyKey: undefined },
        params: [undefined, undefined, undefined],
        caller: { sub: 'admin', amr: ['pwd', 'mfa'] },
      });
      const res = await (handlers.get(route.fn) as Handler)(event);
      expect(res.statusCode, `${route.operationId}: ${res.body}`).not.toBe(400);
      expect(responseProblem(res), route.operationId).toBeUndefined();
    }
  });

  it('decides group approvers on the exact group names of the verified token (item 2)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(groupName, { maxLength: 4 }), fc.boolean(), async (groups, swapped) => {
        const claims = { sub: 'fz-someone', amr: ['pwd', 'mfa'], groups };
        // swapped: the header carries another subject's token (its groups must not count)
        const headers: Record<string, string> = swapped
          ? { authorization: authorizationOf({ ...claims, sub: 'fz-other' }) }
          : {};
        const member = groups.includes('fz-approvers') && !swapped;
        const listed = await call('GET', '/v1/approvals', { as: claims, headers });
        expect(listed.status).toBe(200);
        const ids = (listed.body.items as { id: string }[]).map((r) => r.id);
        expect(ids.includes(identity.pendingId), JSON.stringify({ groups, swapped })).toBe(member);
        if (!member) {
          const approve = await call('POST', `/v1/requests/${identity.pendingId}/approve`, {
            as: claims,
            headers,
            body: { justification: 'fuzz' },
          });
          // Not an approver of any stage: the request is hidden from them (the 404 of a request that does not exist).
          expect(approve.status, JSON.stringify({ groups, body: approve.body })).toBe(404);
        }
      }),
      { numRuns: 150, interruptAfterTimeLimit: 30_000, markInterruptAsFailure: false },
    );
  }, 120_000);

  it('never lets a reviewer decide the item of a group she holds it through (item 4)', async () => {
    const reviewer = fc.oneof(
      fc.record({ sub: fc.constant('fz-rev'), groups: fc.array(groupName, { maxLength: 3 }) }),
      fc.record({
        sub: fc.constant('fz-idp'),
        groups: fc.array(groupName, { maxLength: 3 }).map((g) => [...g, 'fz-grp']),
      }),
    );
    const body = fc.record({
      decision: fc.constantFrom('Approve', 'Deny', 'DontKnow'),
      // Valid justifications only: a malformed one is refused (400) before the item is read, which proves nothing here.
      justification: fc.option(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 .,:#-]{0,19}$/), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(reviewer, body, async (who, decision) => {
        const res = await call('POST', identity.groupDecisionPath, {
          as: { ...who, amr: ['pwd', 'mfa'] },
          body: decision,
        });
        expect(res.status, JSON.stringify({ who, body: res.body })).toBe(403);
      }),
      { numRuns: 60, interruptAfterTimeLimit: 30_000, markInterruptAsFailure: false },
    );
    const decided = await call('GET', identity.groupDecisionPath.replace(/\/[^/]+$/, ''), { as: 'admin' });
    const item = (decided.body.items as { principalType: string; decision: string }[]).find(
      (d) => d.principalType === 'group',
    );
    expect(item?.decision).toBe('NotReviewed');
  }, 120_000);

  // After the identity properties: the random calls may remove the memberships those properties stand on.
  it('never answers 5xx or a malformed error, and leaves no partial write', async () => {
    const seen = new Map<string, number>();
    const statuses = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(
        routeIndex,
        bodyPlan,
        queryPlan,
        headerPlan,
        paramPlan,
        callerPlan,
        async (i, body, query, headers, params, caller) => {
          const route = ROUTES[i] as Route;
          seen.set(route.operationId, (seen.get(route.operationId) ?? 0) + 1);
          const res = await (handlers.get(route.fn) as Handler)(
            eventOf(route, { body, query, headers, params, caller }),
          );
          // A user token never holds the authority of a group of its id.
          if (caller.sub === 'fz-grp' && (route.access === 'admin' || route.access === 'reader')) {
            if ((res.statusCode ?? 200) < 300) throw new Error(`${route.operationId} let the user fz-grp act as admin`);
          }
          const k = `${res.statusCode}`;
          statuses.set(k, (statuses.get(k) ?? 0) + 1);
          const problem = responseProblem(res);
          if (problem) throw new Error(`${route.method} ${route.path}: ${problem}`);
        },
      ),
      { numRuns: 1500, interruptAfterTimeLimit: 60_000, markInterruptAsFailure: false },
    );
    // Not all refusals: some mutated calls got through to the use cases and wrote.
    const succeeded = [...statuses].filter(([k]) => k.startsWith('2')).reduce((sum, [, v]) => sum + v, 0);
    expect(succeeded).toBeGreaterThan(20);
    expect(await checkInvariants(table)).toEqual([]);
    // The run covered the route table broadly (each route is picked with the same weight).
    expect(seen.size).toBeGreaterThan(ROUTES.length * 0.8);
  }, 120_000);
});

describe('fuzzing list cursors (issue 11, item 12)', () => {
  type Cursor = Record<string, unknown> & { k?: unknown };
  const decode = (token: string) => JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Cursor;
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value) ?? 'null').toString('base64url');

  /** One hand edit of a decoded cursor: a field or a key attribute set, dropped or added. */
  const edit = fc.oneof(
    fc.record({ op: fc.constant('field' as const), name: fc.constantFrom('v', 'q', 'p', 'k', 'x'), value: junkValue }),
    fc.record({ op: fc.constant('drop' as const), name: fc.constantFrom('v', 'q', 'p', 'k') }),
    fc.record({ op: fc.constant('keyDrop' as const), at: fc.nat({ max: 3 }) }),
    fc.record({ op: fc.constant('keySet' as const), at: fc.nat({ max: 3 }), value: junkValue }),
    fc.record({
      op: fc.constant('keyAdd' as const),
      name: fc.oneof(fc.constantFrom('pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'ttl'), junkString),
      value: junkValue,
    }),
    fc.record({ op: fc.constant('keyTweak' as const), at: fc.nat({ max: 3 }), suffix: junkString }),
  );

  function apply(cursor: Cursor, e: Record<string, unknown>): Cursor {
    const c: Cursor = { ...cursor };
    const key = (typeof c.k === 'object' && c.k !== null ? { ...(c.k as Record<string, unknown>) } : {}) as Record<
      string,
      unknown
    >;
    const names = Object.keys(key);
    const at = (n: unknown) => names[Number(n) % Math.max(1, names.length)] as string;
    switch (e.op) {
      case 'field':
        c[e.name as string] = e.value;
        return c;
      case 'drop':
        delete c[e.name as string];
        return c;
      case 'keyDrop':
        delete key[at(e.at)];
        break;
      case 'keySet':
        key[at(e.at)] = e.value;
        break;
      case 'keyAdd':
        key[e.name as string] = e.value;
        break;
      case 'keyTweak':
        key[at(e.at)] = `${String(key[at(e.at)])}${e.suffix}`;
        break;
    }
    return { ...c, k: key };
  }

  it('answers a hand-edited cursor of any list with 400 ValidationFailed or a page, never 5xx', async () => {
    // Prepare: a second request and real tokens (limit 1) of lists over the table, its indexes and many partitions
    await call('POST', '/v1/requests', {
      as: 'admin',
      body: { action: 'adminAssign', assignmentType: 'eligible', principalId: 'bob', roleId: 'fz-role' },
    });
    const lists = ['/v1/requests', '/v1/roles', '/v1/audit-events', '/v1/assignments', '/v1/groups'];
    const tokens: [string, string][] = [];
    for (const path of lists) {
      const first = await call('GET', `${path}?limit=1`, { as: 'admin' });
      expect(first.status, `${path}: ${JSON.stringify(first.body)}`).toBe(200);
      if (first.body.nextToken) tokens.push([path, first.body.nextToken]);
    }
    expect(tokens.length).toBeGreaterThanOrEqual(3);
    const statuses = new Map<number, number>();

    // Act + Assess
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: tokens.length - 1 }),
        fc.array(edit, { minLength: 1, maxLength: 3 }),
        async (i, edits) => {
          const [path, token] = tokens[i] as [string, string];
          const edited = encode(edits.reduce((c, e) => apply(c, e as Record<string, unknown>), decode(token)));
          const res = await call('GET', `${path}?limit=1&nextToken=${encodeURIComponent(edited)}`, { as: 'admin' });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status === 200) return;
          if (res.status !== 400 || res.body.code !== 'ValidationFailed') {
            throw new Error(`${path} ${JSON.stringify(decode(edited))}: ${res.status} ${JSON.stringify(res.body)}`);
          }
        },
      ),
      { numRuns: 400, interruptAfterTimeLimit: 40_000, markInterruptAsFailure: false },
    );
    expect(statuses.get(400)).toBeGreaterThan(50);
  }, 180_000);
});

describe('fuzzing self actions (issue 11, item 13)', () => {
  it('never lets a self action name a group, nor renew a role never held; nothing is left pending', async () => {
    const refused = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('selfActivate', 'selfDeactivate', 'selfExtend', 'selfRenew'),
        fc.constantFrom('fz-role', 'elevate-admin', 'elevate-auditor'),
        fc.constantFrom<'user' | 'group' | 'servicePrincipal' | undefined>(
          'group',
          'servicePrincipal',
          'user',
          undefined,
        ),
        fc.constantFrom('fz-self', 'fz-grp', 'fz-never', undefined),
        async (action, roleId, principalType, principalId) => {
          const asGroup = principalType !== undefined && principalType !== 'user';
          // selfRenew of a role fz-self never held: NotEligible; any self action for a non-user: InvalidPrincipalType.
          if (!asGroup && action !== 'selfRenew') return;
          const res = await call('POST', '/v1/requests', {
            as: 'fz-self',
            body: {
              action,
              assignmentType: 'active',
              roleId,
              scope: '/',
              justification: 'fuzz',
              schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
              ...(principalType === undefined ? {} : { principalType }),
              ...(principalId === undefined ? {} : { principalId }),
            },
          });
          const code = (res.body as { code?: string }).code ?? `status ${res.status}`;
          refused.set(code, (refused.get(code) ?? 0) + 1);
          const what = JSON.stringify({ action, roleId, principalType, principalId, body: res.body });
          if (principalId !== undefined && principalId !== 'fz-self') {
            // Naming another principal is refused first, whatever its type.
            expect(res.status, what).toBe(403);
          } else {
            expect(res.status, what).toBe(400);
            expect(code, what).toBe(asGroup ? 'InvalidPrincipalType' : 'NotEligible');
          }
        },
      ),
      { numRuns: 150, interruptAfterTimeLimit: 30_000, markInterruptAsFailure: false },
    );
    const pending = await call('GET', '/v1/requests?principalId=fz-self&status=PendingApproval', { as: 'admin' });
    expect(pending.body.items).toHaveLength(0);
    expect(refused.get('InvalidPrincipalType')).toBeGreaterThan(0);
    expect(await checkInvariants(table)).toEqual([]);
  }, 180_000);
});
