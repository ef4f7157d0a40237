import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_AUDIENCE, LOCAL_ISSUER } from '#infra/local/issuer.ts';
import type { LocalServer } from '#infra/local/server.ts';
import { api, startTestServer } from '#test/support/local.ts';

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
}

// Any authenticated route: the JWT check runs before the handler is loaded, so a 401 depends on no handler.
const PROTECTED = '/v1/me/assignments';

describe('the local runtime', () => {
  let server: LocalServer;

  beforeAll(async () => {
    server = await startTestServer({ clockStart: new Date('2026-03-01T09:00:00Z') });
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe('/_local/clock', () => {
    it('tells the manual clock time', async () => {
      const res = await api(server).get<{ now: string }>('/_local/clock');
      expect(res.status).toBe(200);
      expect(res.body.now).toBe(server.clock.now().toISOString());
    });

    it('advances by an ISO 8601 duration and sets forward', async () => {
      const before = server.clock.now().getTime();
      const advanced = await api(server).post<{ now: string }>('/_local/clock', { advance: 'PT9H' });
      expect(advanced.status).toBe(200);
      expect(new Date(advanced.body.now).getTime()).toBe(before + 9 * 3_600_000);
      const target = new Date(before + 86_400_000).toISOString();
      const set = await api(server).post<{ now: string }>('/_local/clock', { set: target });
      expect(set.status).toBe(200);
      expect(set.body.now).toBe(target);
      expect(server.clock.now().toISOString()).toBe(target);
    }, 180_000); // a day of the clock runs every scheduled job due in it (reconcile every 5 minutes): slow under load

    it('refuses to move backwards and refuses bad input', async () => {
      const now = server.clock.now();
      const back = await api(server).post<Problem>('/_local/clock', {
        set: new Date(now.getTime() - 1000).toISOString(),
      });
      expect(back.status).toBe(409);
      expect(back.headers['content-type']).toBe('application/problem+json');
      expect(back.body.code).toBe('Conflict');
      expect(server.clock.now()).toEqual(now);
      for (const body of [
        { advance: '9 hours' },
        { set: 'tomorrow' },
        {},
        { advance: 'PT1H', set: now.toISOString() },
      ]) {
        const res = await api(server).post<Problem>('/_local/clock', body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body.code).toBe('ValidationFailed');
      }
    });
  });

  describe('tokens and the JWT check', () => {
    it('mints a token over HTTP that the server accepts, with claims stringified as API Gateway does', async () => {
      const minted = await api(server).post<{ token: string }>('/_local/token', {
        sub: 'alice',
        email: 'alice@example.com',
        name: 'Alice',
        groups: ['ops', 'dev'],
        mfa: true,
        acrs: ['c1'],
      });
      expect(minted.status).toBe(200);
      const who = await api(server)
        .withToken(minted.body.token)
        .get<{ claims: Record<string, string> }>('/_local/whoami');
      expect(who.status).toBe(200);
      const nowS = String(Math.floor(server.clock.now().getTime() / 1000));
      expect(who.body.claims).toMatchObject({
        sub: 'alice',
        email: 'alice@example.com',
        name: 'Alice',
        groups: '[ops dev]',
        amr: '[pwd mfa]',
        acrs: '[c1]',
        iss: LOCAL_ISSUER,
        aud: LOCAL_AUDIENCE,
        auth_time: nowS,
        iat: nowS,
      });
      const routed = await api(server).withToken(minted.body.token).get(PROTECTED);
      expect(routed.status).not.toBe(401);
      expect(routed.status).toBeLessThan(500);
    });

    it('validates the token request', async () => {
      const res = await api(server).post<Problem>('/_local/token', { sub: '', mfa: 'yes' });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('ValidationFailed');
    });

    async function expect401(res: Promise<{ status: number; headers: Record<string, string>; body: unknown }>) {
      const { status, headers, body } = await res;
      expect(status).toBe(401);
      expect(headers['content-type']).toBe('application/problem+json');
      expect(body).toMatchObject({
        status: 401,
        code: 'Unauthenticated',
        title: expect.any(String),
        type: expect.any(String),
        detail: expect.any(String),
      });
    }

    it('answers 401 without a token', async () => {
      await expect401(api(server).get(PROTECTED));
      await expect401(api(server).get(PROTECTED, { authorization: 'Basic YWxpY2U6eA==' }));
    });

    it('answers 401 for a bad signature', async () => {
      const token = await server.issuer.mintToken({ sub: 'alice' });
      const [header, payload, signature] = token.split('.') as [string, string, string];
      const flipped = `${signature.slice(0, -4)}${signature.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
      await expect401(api(server).withToken(`${header}.${payload}.${flipped}`).get(PROTECTED));
      // a payload changed under the original signature
      const forged = Buffer.from(
        JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'admin' }),
      ).toString('base64url');
      await expect401(api(server).withToken(`${header}.${forged}.${signature}`).get(PROTECTED));
    });

    it('answers 401 once the manual clock passes exp', async () => {
      const token = await server.issuer.mintToken({ sub: 'alice', ttl: 60 });
      expect((await api(server).withToken(token).get('/_local/whoami')).status).toBe(200);
      await api(server).post('/_local/clock', { advance: 'PT2M' });
      await expect401(api(server).withToken(token).get(PROTECTED));
      await expect401(api(server).withToken(token).get('/_local/whoami'));
    });

    it('answers 401 for a wrong audience or issuer', async () => {
      await expect401(
        api(server)
          .withToken(await server.issuer.mintToken({ sub: 'alice' }, { claims: { aud: 'other-api' } }))
          .get(PROTECTED),
      );
      await expect401(
        api(server)
          .withToken(await server.issuer.mintToken({ sub: 'alice' }, { claims: { iss: 'https://evil.example/' } }))
          .get(PROTECTED),
      );
      // an audience list that contains ours is accepted
      const listed = await server.issuer.mintToken(
        { sub: 'alice' },
        { claims: { aud: ['other-api', LOCAL_AUDIENCE] } },
      );
      expect((await api(server).withToken(listed).get('/_local/whoami')).status).toBe(200);
    });

    it('answers 401 for an ID token or any token without the accepted scope, as the authorizer does', async () => {
      // Prepare: an ID token carries no scope; another API's access token carries other scopes
      const idToken = await server.issuer.mintToken({ sub: 'alice' }, { claims: { scope: undefined } });
      const otherScope = await server.issuer.mintToken({ sub: 'alice' }, { claims: { scope: 'openid profile' } });
      const accessToken = await server.issuer.mintToken({ sub: 'alice' });

      // Act + Assess
      await expect401(api(server).withToken(idToken).get(PROTECTED));
      await expect401(api(server).withToken(otherScope).get(PROTECTED));
      expect((await api(server).withToken(accessToken).get(PROTECTED)).status).toBe(200);
    });

    it('answers 401 for alg none and for a token of another key', async () => {
      const now = Math.floor(server.clock.now().getTime() / 1000);
      const claims = { sub: 'admin', iss: LOCAL_ISSUER, aud: LOCAL_AUDIENCE, iat: now, exp: now + 600 };
      const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const none = `${encode({ alg: 'none', typ: 'JWT', kid: server.issuer.kid })}.${encode(claims)}.`;
      await expect401(api(server).withToken(none).get(PROTECTED));
      const hs = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', kid: server.issuer.kid })
        .sign(new TextEncoder().encode('a-shared-secret-of-sufficient-length!'));
      await expect401(api(server).withToken(hs).get(PROTECTED));
      const { createIssuer } = await import('#infra/local/issuer.ts');
      const stranger = await createIssuer(':memory:');
      await expect401(
        api(server)
          .withToken(await stranger.mintToken({ sub: 'admin' }, { now: server.clock.now() }))
          .get(PROTECTED),
      );
    });

    it('serves the JWKS of its key', async () => {
      const res = await api(server).get<{ keys: { kid: string; alg: string; kty: string; d?: string }[] }>(
        '/_local/.well-known/jwks.json',
      );
      expect(res.status).toBe(200);
      expect(res.body.keys).toHaveLength(1);
      expect(res.body.keys[0]).toMatchObject({ kid: server.issuer.kid, alg: 'RS256', kty: 'RSA' });
      expect(res.body.keys[0]?.d).toBeUndefined();
    });
  });

  describe('routing', () => {
    it('answers 404 problem+json for an unknown path, and for a known path with another method (as API Gateway)', async () => {
      for (const res of [
        await api(server).get<Problem>('/v1/nothing-here'),
        await api(server).request<Problem>('PUT', '/v1/roles'),
      ]) {
        expect(res.status).toBe(404);
        expect(res.headers['content-type']).toBe('application/problem+json');
        expect(res.body).toMatchObject({ status: 404, code: 'NotFound' });
      }
    });

    it('answers 404 for a malformed percent-encoding in a path parameter', async () => {
      const res = await api(server).as({ sub: 'alice' }).get<Problem>('/v1/roles/%E0%A4%A');
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('NotFound');
    });

    it('answers 413 for a body over 10 MB', async () => {
      const res = await api(server).post<Problem>('/v1/requests', 'x'.repeat(10 * 1024 * 1024 + 1), {
        'content-type': 'application/json',
      });
      expect(res.status).toBe(413);
      expect(res.headers['content-type']).toBe('application/problem+json');
    });

    it('lists no mail nor events yet, and knows only the scheduled jobs of SCHEDULES', async () => {
      expect((await api(server).get('/_local/emails')).body).toEqual({ items: [] });
      expect((await api(server).get('/_local/events')).body).toEqual({ items: [] });
      const job = await api(server).post<Problem>('/_local/schedules/no-such-job/run');
      expect(job.status).toBe(404);
      expect(job.body).toMatchObject({
        code: 'NotFound',
        detail: expect.stringMatching(/^no scheduled job named no-such-job; the jobs are .*reconcile/),
      });
    });
  });
});
