import { afterEach, describe, expect, it, vi } from 'vitest';
import { META } from '#shared/api/contract/meta.ts';
import type { Caller } from '#shared/auth/caller.ts';
import type { Deps } from '#shared/deps.ts';
import { apiHandler, ok } from '#shared/http/api.ts';
import { log, logWith, withLogContext, withRequestId } from '#shared/log.ts';
import { CallContext } from '#shared/usecases/context.ts';
import { runEffects } from '#shared/usecases/effects.ts';

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
      META,
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
    for (const line of all) expect(line).toMatchObject({ requestId: 'req-123', coldStart: expect.any(Boolean) });
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
      { level: 'info', msg: 'job ran', requestId: 'inv-9', coldStart: expect.any(Boolean), n: 7 },
      { level: 'info', msg: 'outside' },
      { level: 'info', msg: 'inside', requestId: 'explicit' },
    ]);
  });

  it('marks the first invocation of a process as its cold start, and no later one', async () => {
    // Prepare: a fresh process's logger
    process.env.ELEVATE_LOG = 'info';
    const out = vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.resetModules();
    const fresh = await import('#shared/log.ts');
    const job = fresh.withRequestId(async () => fresh.log('info', 'ran'));

    // Act
    await job({}, { awsRequestId: 'first' });
    await job({}, { awsRequestId: 'second' });

    // Assess
    expect(lines(out)).toEqual([
      { level: 'info', msg: 'ran', requestId: 'first', coldStart: true },
      { level: 'info', msg: 'ran', requestId: 'second', coldStart: false },
    ]);
  });

  it("never puts one invocation's id on another's lines when invocations overlap (the AsyncLocalStorage from then on)", async () => {
    // Prepare: a fresh process's logger (one invocation at a time so far), and a job that logs around a pause
    process.env.ELEVATE_LOG = 'info';
    const out = vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.resetModules();
    const fresh = await import('#shared/log.ts');
    const tick = () => new Promise((r) => setTimeout(r, 5));
    const job = fresh.withRequestId(async (event: { name: string; first?: Promise<unknown> }) => {
      fresh.log('info', `${event.name} starts`);
      await tick();
      await event.first;
      fresh.log('info', `${event.name} goes on`);
      await tick();
      fresh.log('info', `${event.name} ends`);
    });

    // Act: one alone, then a second starting while a first is in flight, then two at once
    await job({ name: 'solo' }, { awsRequestId: 'solo' });
    const a = job({ name: 'a' }, { awsRequestId: 'a' });
    await job({ name: 'b', first: a }, { awsRequestId: 'b' });
    await Promise.all([job({ name: 'c' }, { awsRequestId: 'c' }), job({ name: 'd' }, { awsRequestId: 'd' })]);
    fresh.log('info', 'outside');

    // Assess: every line carries its own invocation's id, or (the one in flight when they first overlapped) none
    const logged = lines(out).map((l) => [l.msg, l.requestId]);
    expect(logged.filter(([msg]) => String(msg).startsWith('solo'))).toEqual([
      ['solo starts', 'solo'],
      ['solo goes on', 'solo'],
      ['solo ends', 'solo'],
    ]);
    expect(logged).toContainEqual(['a starts', 'a']);
    for (const [msg, id] of logged) {
      if (msg === 'outside') expect(id).toBeUndefined();
      else if (String(msg).startsWith('a ')) expect([undefined, 'a']).toContain(id);
      else expect(id).toBe(String(msg).split(' ')[0]);
    }
    expect(logged).toHaveLength(3 * 5 + 1);
  });

  it("traces a failed after-commit mail to its request through the call's CallContext, wherever the mail runs", async () => {
    // Prepare: a call whose CallContext logs as request req-42, and a mailer that always fails
    process.env.ELEVATE_LOG = 'info';
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    const deps = {
      clock: { now: () => new Date('2026-01-01T00:00:00Z') },
      mailer: { send: vi.fn(async () => Promise.reject(new Error('SES is down'))) },
      // no address is suppressed (the mail effect looks first)
      store: { getMany: vi.fn(async () => []) },
    } as unknown as Deps;
    const caller = { id: 'alice' } as Caller;
    const ctx = new CallContext(deps, caller, undefined, logWith({ requestId: 'req-42', coldStart: false }));

    // Act: the effect runs in another invocation's log context
    await withLogContext({ requestId: 'another-invocation' }, () =>
      runEffects(
        ctx.deps,
        [{ kind: 'mail', to: { addresses: ['bob@secret.example'] }, mail: { subject: 's', text: 'body', html: 'b' } }],
        ctx.log,
      ),
    );

    // Assess: one send (no retry on top of the SDK after a commit), one error line naming the request, no address
    expect(deps.mailer.send).toHaveBeenCalledTimes(1);
    const failed = lines(err).filter((l) => l.level === 'error');
    expect(failed).toEqual([
      expect.objectContaining({
        msg: 'after-commit mail failed; the change stands',
        requestId: 'req-42',
        coldStart: false,
        error: 'Error',
        message: 'SES is down',
      }),
    ]);
    expect(JSON.stringify(failed)).not.toContain('secret.example');
  });

  it("logs an API call's failing after-commit mail with the call's request id", async () => {
    // Prepare
    process.env.ELEVATE_LOG = 'info';
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    const deps = {
      config: { maxBodyBytes: 1024 },
      clock: { now: () => new Date() },
      mailer: { send: async () => Promise.reject(new Error('SES is down')) },
    } as unknown as Deps;
    const handler = apiHandler(
      'meta',
      META,
      {
        getOpenApi: async ({ ctx }) => {
          await runEffects(
            ctx.deps,
            [{ kind: 'mail', to: { addresses: ['a@x.example'] }, mail: { subject: 's', text: 't', html: 'h' } }],
            ctx.log,
          );
          return ok({});
        },
      },
      () => deps,
    );

    // Act
    const response = await handler({
      routeKey: 'GET /v1/openapi.json',
      requestContext: { requestId: 'req-api-7', authorizer: { jwt: { claims: { sub: 'u' }, scopes: null } } },
    } as never);

    // Assess
    expect(response.statusCode).toBe(200);
    expect(lines(err)).toContainEqual(
      expect.objectContaining({ msg: 'after-commit mail failed; the change stands', requestId: 'req-api-7' }),
    );
  });
});
