import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { startTestServer } from '#test/support/local.ts';

/**
 * The console's serving and its sign-in at the local issuer (authorization code with PKCE) over HTTP, as an attacker
 * would try it: a foreign redirect, a wrong or missing verifier, a replayed code, no PKCE at all.
 */
let server: LocalServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const VERIFIER = 'v'.repeat(43);
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');

const authorizeQuery = (overrides: Record<string, string> = {}) =>
  new URLSearchParams({
    response_type: 'code',
    client_id: 'elevate-console',
    redirect_uri: `${server.url}/callback`,
    state: 'state-12345',
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    ...overrides,
  });

/** Submits the sign-in form; answers the code the issuer redirected with. */
async function codeFor(username: string, mfa: boolean): Promise<string> {
  const form = authorizeQuery({
    username,
    email: `${username}@example.com`,
    groups: 'ops, sre',
    ...(mfa && { mfa: 'true' }),
  });
  const res = await fetch(`${server.url}/_local/oidc/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
    redirect: 'manual',
  });
  expect(res.status).toBe(303);
  const location = new URL(res.headers.get('location') ?? '');
  expect(`${location.origin}${location.pathname}`).toBe(`${server.url}/callback`);
  expect(location.searchParams.get('state')).toBe('state-12345');
  return location.searchParams.get('code') ?? '';
}

const exchange = (code: string, verifier = VERIFIER, redirect = `${server.url}/callback`) =>
  fetch(`${server.url}/_local/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: redirect,
      client_id: 'elevate-console',
    }),
  });

describe('the console on the local runtime', () => {
  it('serves the app for its deep links with a strict CSP, and leaves other paths to the API (404)', async () => {
    for (const path of ['/', '/requests/req_01ABC', '/approvals', '/admin/roles/db-admin', '/audit']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(await res.text()).toContain('<script type="module" src="/assets/app.js"></script>');
      expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self';/);
      expect(res.headers.get('x-frame-options')).toBe('DENY');
    }
    const js = await fetch(`${server.url}/assets/app.js`);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await js.text()).length).toBeGreaterThan(1000);
    expect((await fetch(`${server.url}/nowhere`)).status).toBe(404);
    expect((await fetch(`${server.url}/admin/roles/../../etc/passwd`)).status).toBe(404);
    const config = (await (await fetch(`${server.url}/config.json`)).json()) as Record<string, string>;
    expect(config).toMatchObject({ apiUrl: '', clientId: 'elevate-console', tokenEndpoint: '/_local/oidc/token' });
  });

  it('shows the development sign-in page with the fixed labels and no script', async () => {
    const res = await fetch(`${server.url}/_local/oidc/authorize?${authorizeQuery()}`);
    const html = await res.text();
    expect(res.status).toBe(200);
    for (const label of ['Username', 'Email', 'Groups', 'MFA', 'Sign in']) expect(html).toContain(label);
    expect(html).not.toContain('<script');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('trades a code and its verifier for an access token the API accepts, once', async () => {
    const code = await codeFor('carol', true);
    const res = await exchange(code);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string; token_type: string };
    expect(body.token_type).toBe('Bearer');
    const who = await fetch(`${server.url}/_local/whoami`, {
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    const { claims } = (await who.json()) as { claims: Record<string, string> };
    expect(claims).toMatchObject({ sub: 'carol', email: 'carol@example.com', amr: '[pwd mfa]', groups: '[ops sre]' });
    // Replay: the code is spent.
    expect((await exchange(code)).status).toBe(400);
  });

  it('refuses a wrong verifier (and spends the code), a foreign redirect, a plain challenge and an unknown client', async () => {
    const code = await codeFor('mallory', false);
    const wrong = await exchange(code, 'w'.repeat(43));
    expect(await wrong.json()).toMatchObject({ error: 'invalid_grant' });
    expect((await exchange(code)).status).toBe(400);
    const other = await codeFor('mallory', false);
    expect((await exchange(other, VERIFIER, 'https://evil.example/callback')).status).toBe(400);
    const bads: Record<string, string>[] = [
      { redirect_uri: 'https://evil.example/callback' },
      { code_challenge_method: 'plain' },
      { client_id: 'someone-else' },
      { response_type: 'token' },
      { state: '' },
    ];
    for (const bad of bads) {
      const res = await fetch(`${server.url}/_local/oidc/authorize?${authorizeQuery(bad)}`);
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
  });

  it("answers an ID token with the client's nonce, which the API refuses as a bearer token", async () => {
    // Prepare: a sign-in that sends a nonce, as oidc-client-ts does
    const res = await fetch(`${server.url}/_local/oidc/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: authorizeQuery({ username: 'dana', email: 'dana@example.com', mfa: 'true', nonce: 'nonce-5f1c9e' }),
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    const code = new URL(res.headers.get('location') ?? '').searchParams.get('code') ?? '';

    // Act
    const tokens = (await (await exchange(code)).json()) as { access_token: string; id_token: string };
    const claims = JSON.parse(Buffer.from(tokens.id_token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    const call = (token: string) =>
      fetch(`${server.url}/v1/me/assignments`, { headers: { authorization: `Bearer ${token}` } });

    // Assess: the ID token names the console as its audience and carries the nonce; it opens no API call
    expect(claims).toMatchObject({ sub: 'dana', aud: 'elevate-console', nonce: 'nonce-5f1c9e' });
    expect((await call(tokens.id_token)).status).toBe(401);
    expect((await call(tokens.access_token)).status).toBe(200);
  });

  it('asked for a step-up (acr_values=mfa), says so and refuses a sign-in without MFA', async () => {
    const page = await fetch(`${server.url}/_local/oidc/authorize?${authorizeQuery({ acr_values: 'mfa' })}`);
    expect(await page.text()).toContain('This sign-in must use MFA');
    const refused = await fetch(`${server.url}/_local/oidc/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: authorizeQuery({ acr_values: 'mfa', username: 'bob' }),
      redirect: 'manual',
    });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('tick MFA');
  });

  it('refuses a username that is not a plain id, and escapes what it echoes', async () => {
    const form = authorizeQuery({ username: '<script>alert(1)</script>', state: '"><img src=x>state' });
    const res = await fetch(`${server.url}/_local/oidc/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
      redirect: 'manual',
    });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).not.toContain('<img src=x>');
    expect(html).toContain('&quot;&gt;&lt;img src=x&gt;state');
  });
});
