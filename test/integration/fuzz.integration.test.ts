import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, type Route } from '#functions/api/routes.ts';
import { stringifyClaims } from '#infra/local/http-event.ts';
import { ManualClock, useClock } from '#shared/clock.ts';
import { depsFromEnv } from '#shared/deps.ts';
import { AssignmentType } from '#shared/domain/assignment.ts';
import { PrincipalType } from '#shared/domain/primitives.ts';
import { RequestAction } from '#shared/domain/request.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { useExportPorts } from '#shared/usecases/exports.ts';
import { checkInvariants } from '#test/support/invariants.ts';
import { call } from '#test/support/invoke.ts';
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
const handlers = new Map<string, Handler>();

afterAll(() => useExportPorts(undefined));

beforeAll(async () => {
  process.env.ELEVATE_LOG = 'error';
  useClock(clock);
  // No S3 or Lambda in this tier: the export job is not started (its own tests are in the e2e tier).
  useExportPorts({
    objects: { upload: async () => {}, put: async () => {}, presignGet: async (key) => `https://s3.invalid/${key}` },
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
  for (const fn of new Set(ROUTES.map((r) => r.fn))) {
    handlers.set(fn, ((await import(`../../functions/api/${fn}.ts`)) as { handler: Handler }).handler);
  }
});

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

const callerPlan = fc.constantFrom(
  { sub: 'admin', amr: ['pwd', 'mfa'] },
  { sub: 'alice', amr: ['pwd', 'mfa'] },
  { sub: 'alice', amr: ['pwd'] },
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
  const headers: Record<string, string> = {};
  if (plan.headers.contentType !== undefined) headers['content-type'] = plan.headers.contentType;
  if (plan.headers.idempotencyKey !== undefined) headers['idempotency-key'] = plan.headers.idempotencyKey;
  const routeKey = `${route.method} ${route.path}`;
  return {
    version: '2.0',
    routeKey,
    rawPath: route.path,
    rawQueryString: new URLSearchParams(query).toString(),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    pathParameters: Object.keys(pathParameters).length ? pathParameters : undefined,
    requestContext: {
      requestId: `fuzz-${k}`,
      routeKey,
      http: { method: route.method, path: route.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'fuzz' },
      authorizer: { jwt: { claims: stringifyClaims(plan.caller), scopes: null } },
    },
    body,
    isBase64Encoded,
  } as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;
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
