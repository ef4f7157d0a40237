import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Deps } from '#shared/deps.ts';
import { apiHandler, ok } from '#shared/http/api.ts';
import { log, withLogContext, withRequestId } from '#shared/log.ts';

const lines = (spy: { mock: { calls: unknown[][] } }) =>
  spy.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>);

describe('structured logs', () => {
  const level = process.env.ELEVATE_LOG;
  afterEach(() => {
    vi.restoreAllMocks();
    process.env.ELEVATE_LOG = level;
  });

  it('puts the request id on every line logged while a request runs, however deep', async () => {
    // Prepare
    process.env.ELEVATE_LOG = 'debug';
    const out = vi.spyOn(console, 'log').mockImplementation(() => {});
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    const handler = apiHandler(
      'meta',
      {
        getOpenApi: async () => {
          await new Promise((r) => setTimeout(r, 1));
          log('info', 'deep inside the operation');
          log('warn', 'and a warning');
          return ok({});
        },
      },
      () => ({ config: { maxBodyBytes: 1024 }, clock: { now: () => new Date() } }) as unknown as Deps,
    );

    // Act
    const response = await handler({
      routeKey: 'GET /v1/openapi.json',
      requestContext: { requestId: 'req-123', authorizer: { jwt: { claims: { sub: 'u' }, scopes: null } } },
    } as never);

    // Assess
    expect(response.statusCode).toBe(200);
    const all = [...lines(out), ...lines(err)];
    expect(all.map((l) => l.msg).sort()).toEqual(['and a warning', 'deep inside the operation', 'request']);
    for (const line of all) expect(line).toMatchObject({ requestId: 'req-123' });
  });

  it('gives a Lambda handler the invocation id as the request id, and nothing outside it', async () => {
    // Prepare
    process.env.ELEVATE_LOG = 'info';
    const out = vi.spyOn(console, 'log').mockImplementation(() => {});
    const job = withRequestId(async (event: { n: number }) => {
      log('info', 'job ran', { n: event.n });
      return event.n;
    });

    // Act
    const result = await job({ n: 7 }, { awsRequestId: 'inv-9' } as never);
    log('info', 'outside');
    await withLogContext({ requestId: 'explicit' }, async () => log('info', 'inside'));

    // Assess
    expect(result).toBe(7);
    expect(lines(out)).toEqual([
      { level: 'info', msg: 'job ran', requestId: 'inv-9', n: 7 },
      { level: 'info', msg: 'outside' },
      { level: 'info', msg: 'inside', requestId: 'explicit' },
    ]);
  });
});
