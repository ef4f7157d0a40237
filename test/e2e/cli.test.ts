import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { defaultPolicy } from '#shared/domain/policy.ts';
import { type ApiClient, api, startTestServer } from '#test/support/local.ts';

/**
 * The `elevate` CLI as a user runs it: the bundle `prepare` builds (cli/build.mjs), run with `node` as a
 * separate process against the local runtime started in-process here. Each "session" is its own config dir.
 */

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let server: LocalServer;
let admin: ApiClient;
let work: string;
let bundle: string;

const root = new URL('../../', import.meta.url).pathname;

function start(
  home: string,
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [bundle, ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      XDG_CONFIG_HOME: join(home, 'config'),
      ELEVATE_API: server.url,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

/** Run to the end. (Never execFileSync: the server answering the CLI lives in this process.) */
const elevate = (home: string, args: string[], env?: Record<string, string>) => start(home, args, env).done;

const session = async (name: string) => mkdtemp(join(work, `${name}-`));

async function eventually<T>(probe: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'elevate-cli-'));
  bundle = join(work, 'elevate.mjs');
  await promisify(execFile)(process.execPath, [join(root, 'cli/build.mjs'), bundle]);
  server = await startTestServer();
  admin = api(server).as({ sub: 'admin', mfa: true });
  for (const id of ['ops', 'prod']) {
    expect((await admin.post('/v1/roles', { id, displayName: id.toUpperCase(), privileged: true })).status).toBe(201);
    const policy = defaultPolicy();
    if (id === 'prod') {
      policy.activation.approval = {
        required: true,
        stages: [{ approvers: [{ type: 'user', id: 'bob' }], requiredApprovals: 1, timeout: 'PT4H' }],
      };
    }
    expect((await admin.put(`/v1/roles/${id}/policy`, policy)).status).toBe(200);
    const eligible = await admin.post('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: 'alice',
      roleId: id,
      scope: '/accounts/1',
    });
    expect(eligible.status).toBe(201);
  }
});

afterAll(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const noStackTrace = (r: Run) => expect(`${r.stdout}${r.stderr}`).not.toMatch(/^\s+at /m);

describe('usage', () => {
  it('has --help for the CLI and every command, and exit code 2 for usage errors', async () => {
    const home = await session('usage');
    const help = await elevate(home, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes:');
    for (const cmd of ['activate', 'check', 'review decide', 'audit download', 'login']) {
      const r = await elevate(home, [...cmd.split(' '), '--help']);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout).toContain(`Usage: elevate ${cmd}`);
    }
    const missing = await elevate(home, ['activate']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('usage: elevate activate');
    expect((await elevate(home, ['roles', '--bogus'])).code).toBe(2);
    expect((await elevate(home, ['activate', 'ops', '--for', '2 hours'])).code).toBe(2);
    expect((await elevate(home, ['frobnicate'])).code).toBe(2);
  });

  it('exits 3 when not logged in, and takes a token from ELEVATE_TOKEN for scripts', async () => {
    const home = await session('anon');
    const anon = await elevate(home, ['roles']);
    expect(anon.code).toBe(3);
    expect(anon.stderr.trim().split('\n')).toHaveLength(1);
    expect(anon.stderr).toContain('not logged in');
    const token = await server.issuer.mintToken({ sub: 'alice', mfa: true });
    const scripted = await elevate(home, ['roles', '--json'], { ELEVATE_TOKEN: token });
    expect(scripted.code).toBe(0);
    expect(
      JSON.parse(scripted.stdout)
        .items.map((a: { roleId: string }) => a.roleId)
        .sort(),
    ).toEqual(['ops', 'prod']);
    expect((await elevate(home, ['roles', '--token', 'not-a-jwt'])).code).toBe(3);
  });
});

describe('a newcomer (issue 14 item 10)', () => {
  it('exits 3 when never logged in at all (no API, no token), and 2 for a login without an API', async () => {
    // Act
    const home = await session('never');
    const never = await elevate(home, ['roles'], { ELEVATE_API: '' });
    const login = await elevate(home, ['login'], { ELEVATE_API: '' });

    // Assess
    expect(never.code).toBe(3);
    expect(never.stderr).toContain('not logged in: run `elevate login --api URL`');
    expect(login.code).toBe(2);
  });

  it('prints a usage error as JSON with --json, as every other error', async () => {
    // Act
    const home = await session('json-usage');
    const missing = await elevate(home, ['activate', '--json']);
    const unknown = await elevate(home, ['frobnicate', '--json']);
    const never = await elevate(home, ['roles', '--json'], { ELEVATE_API: '' });

    // Assess
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout)).toEqual({
      error: { code: 'UsageError', detail: expect.any(String) },
      exitCode: 2,
    });
    expect(JSON.parse(unknown.stdout)).toMatchObject({ error: { code: 'UsageError' }, exitCode: 2 });
    expect(JSON.parse(never.stdout)).toMatchObject({ error: { code: 'NotLoggedIn' }, exitCode: 3 });
  });

  it("shows the time left by the server's clock (its Date header), not the laptop's", async () => {
    // Prepare: an 8-hour assignment, and a laptop whose clock is 3 hours ahead
    const assigned = await admin.post('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'active',
      principalId: 'dora',
      roleId: 'ops',
      scope: '/accounts/1',
      justification: 'clock test',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT8H' } },
    });
    expect(assigned.status).toBe(201);
    const token = await server.issuer.mintToken({ sub: 'admin', mfa: true });
    const aheadBy3h = '--import=data:text/javascript,Date.now=((n)=>()=>n()+10800000)(Date.now)';

    // Act
    const r = await elevate(await session('clock'), ['check', 'dora', 'ops', '/accounts/1'], {
      ELEVATE_TOKEN: token,
      NODE_OPTIONS: aheadBy3h,
    });

    // Assess: 8 hours left (give or take the seconds the call took), not 5
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\((8h|7h 59m) left\)/);
  });
});

describe('activate, approve from a second session, deactivate', () => {
  it('activates two roles in one command, waits for the approval that bob gives from his own session', async () => {
    const alice = await session('alice');
    const bob = await session('bob');
    const login = await elevate(alice, ['login', '--local', '--sub', 'alice', '--mfa']);
    expect(login).toMatchObject({ code: 0 });
    expect(login.stdout).toContain('as alice (with MFA)');
    const credentials = join(alice, 'config/elevate/credentials.json');
    expect((await stat(credentials)).mode & 0o777).toBe(0o600);
    expect((await elevate(bob, ['login', '--local', '--sub', 'bob', '--mfa'])).code).toBe(0);
    expect((await elevate(alice, ['whoami'])).stdout).toMatch(/^alice\n[\s\S]*mfa\s+yes/);

    const waiting = start(alice, [
      'activate',
      'ops',
      'prod',
      '--for',
      '2h',
      '--reason',
      'INC-42 disk full',
      '--ticket',
      'jira:OPS-1',
      '--wait',
      '--poll',
      '0.2',
    ]);
    const pending = await eventually(async () => {
      const r = await elevate(bob, ['approvals', '--json']);
      expect(r.code).toBe(0);
      const items = JSON.parse(r.stdout).items as { id: string; roleId: string; principalId: string }[];
      return items.length ? items : undefined;
    }, "bob's approval");
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({ roleId: 'prod', principalId: 'alice' });

    const approved = await elevate(bob, ['approve', pending[0]?.id as string, '--reason', 'ok for INC-42']);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toContain('now Granted');

    const done = await waiting.done;
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    const lines = done.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^✓ ops\s+\/accounts\/1\s+Granted\s+until /);
    expect(lines[1]).toMatch(/^… prod\s+\/accounts\/1\s+PendingApproval\s+request req_\w+, waiting for bob$/);
    expect(lines.at(-1)).toMatch(/^✓ prod\s+\/accounts\/1\s+Granted\s+until /);
    expect(done.stdout).not.toContain('\u001b['); // not a TTY: no colours, no cursor moves

    const mine = await elevate(alice, ['roles', '--json']);
    expect(mine.code).toBe(0);
    const items = JSON.parse(mine.stdout).items as {
      roleId: string;
      assignmentType: string;
      startDateTime: string;
      endDateTime: string;
    }[];
    const active = items.filter((a) => a.assignmentType === 'active');
    expect(active.map((a) => a.roleId).sort()).toEqual(['ops', 'prod']);
    const ops = active.find((a) => a.roleId === 'ops');
    // --for 2h became PT2H
    expect(new Date(ops?.endDateTime ?? 0).getTime() - new Date(ops?.startDateTime ?? 0).getTime()).toBe(2 * 3600_000);
    const table = await elevate(alice, ['roles']);
    expect(table.stdout).toMatch(/^ops\s+\/accounts\/1\s+permanent\s+active until .*left\)$/m);
    expect(table.stdout).toMatch(/^prod\s+\/accounts\/1\s+permanent\s+active until /m);

    expect((await elevate(alice, ['check', 'alice', 'prod', '/accounts/1/regions/eu-west-1'])).code).toBe(0);
    const off = await elevate(alice, ['deactivate', 'ops', 'prod']);
    expect(off.code).toBe(0);
    expect(off.stdout).toMatch(/✓ ops\s+\/accounts\/1\s+deactivated/);
    const check = await elevate(alice, ['check', 'alice', 'prod', '/accounts/1', '--json']);
    expect(check.code).toBe(1);
    expect(JSON.parse(check.stdout)).toMatchObject({ allowed: false, principalId: 'alice', roleId: 'prod' });
    const after = JSON.parse((await elevate(alice, ['roles', '--json'])).stdout).items as { assignmentType: string }[];
    expect(after.filter((a) => a.assignmentType === 'active')).toEqual([]);

    const history = await elevate(alice, ['requests', '--status', 'granted', '--json']);
    expect(
      JSON.parse(history.stdout)
        .items.map((r: { roleId: string }) => r.roleId)
        .sort(),
    ).toEqual(expect.arrayContaining(['ops', 'prod']));
  });

  it('exits 4 when a request it waits for is denied, and shows the reason', async () => {
    const alice = await session('alice');
    const bob = await session('bob');
    await elevate(alice, ['login', '--local', '--sub', 'alice', '--mfa']);
    await elevate(bob, ['login', '--local', '--sub', 'bob', '--mfa']);
    const waiting = start(alice, ['activate', 'prod', '--reason', 'curious', '--wait', '--poll', '0.2']);
    const id = await eventually(async () => {
      const items = JSON.parse((await elevate(bob, ['approvals', '--json'])).stdout).items as { id: string }[];
      return items[0]?.id;
    }, "bob's approval");
    expect((await elevate(bob, ['deny', id, '--reason', 'not without a ticket'])).code).toBe(0);
    const done = await waiting.done;
    expect(done.code).toBe(4);
    expect(done.stdout).toMatch(/✗ prod\s+\/accounts\/1\s+Denied\s+request \w+ \(bob: not without a ticket\)/);
  });

  it('prints a refusal by policy as one line with its reason, and exits 1', async () => {
    const home = await session('nomfa');
    expect((await elevate(home, ['login', '--local', '--sub', 'alice'])).stdout).toContain('without MFA');
    const refused = await elevate(home, ['activate', 'ops', '--reason', 'INC-43']);
    expect(refused.code).toBe(1);
    const output = `${refused.stdout}${refused.stderr}`.trim().split('\n');
    expect(output).toHaveLength(1);
    expect(output[0]).toMatch(/^✗ ops\s+\/accounts\/1\s+MfaRequired: .*multi-factor authentication/);
    noStackTrace(refused);

    const json = await elevate(home, ['activate', 'ops', '--reason', 'INC-43', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).results[0]).toMatchObject({
      roleId: 'ops',
      status: 'Refused',
      error: { status: 400, code: 'MfaRequired' },
    });

    // Any other API error: one line `code: detail` on stderr, exit 1; with --json, the problem on stdout.
    const forbidden = await elevate(home, ['audit', 'events']);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr.trim()).toMatch(/^elevate: Forbidden: .+$/);
    const forbiddenJson = await elevate(home, ['audit', 'events', '--json']);
    expect(JSON.parse(forbiddenJson.stdout)).toMatchObject({ error: { code: 'Forbidden', status: 403 }, exitCode: 1 });
    noStackTrace(forbidden);
  });
});

describe('login with the device authorization grant (RFC 8628)', () => {
  interface Call {
    path: string;
    form: URLSearchParams;
    at: number;
  }

  let oidc: Server;
  let issuerUrl: string;
  const calls: Call[] = [];
  let polls = 0;

  beforeAll(async () => {
    oidc = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d.toString();
      });
      req.on('end', async () => {
        const form = new URLSearchParams(body);
        const path = req.url ?? '';
        calls.push({ path, form, at: Date.now() });
        const json = (status: number, value: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(value));
        };
        if (path === '/.well-known/openid-configuration') {
          return json(200, {
            issuer: issuerUrl,
            device_authorization_endpoint: `${issuerUrl}/device`,
            token_endpoint: `${issuerUrl}/token`,
            revocation_endpoint: `${issuerUrl}/revoke`,
          });
        }
        if (path === '/device') {
          return json(200, {
            device_code: 'dev-1',
            user_code: 'WDJB-MJHT',
            verification_uri: `${issuerUrl}/activate`,
            verification_uri_complete: `${issuerUrl}/activate?user_code=WDJB-MJHT`,
            expires_in: 600,
            interval: 0,
          });
        }
        if (path === '/token' && form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:device_code') {
          polls++;
          if (polls === 1) return json(400, { error: 'authorization_pending' });
          if (polls === 2) return json(400, { error: 'slow_down' });
          return json(200, {
            access_token: await server.issuer.mintToken({ sub: 'carol', mfa: true }),
            token_type: 'Bearer',
            expires_in: 20, // under the CLI's 30 s margin: the next command renews it
            refresh_token: 'rt-1',
          });
        }
        if (path === '/token' && form.get('grant_type') === 'refresh_token') {
          if (form.get('refresh_token') !== 'rt-1') return json(400, { error: 'invalid_grant' });
          return json(200, {
            access_token: await server.issuer.mintToken({ sub: 'carol', mfa: true, email: 'carol@example.com' }),
            token_type: 'Bearer',
            expires_in: 3600,
            refresh_token: 'rt-2',
          });
        }
        if (path === '/revoke') return json(200, {});
        json(404, { error: 'not_found' });
      });
    });
    await new Promise<void>((resolve) => oidc.listen(0, '127.0.0.1', resolve));
    issuerUrl = `http://127.0.0.1:${(oidc.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => oidc?.close(resolve));
  });

  it('logs in with a device code, polls through authorization_pending and slow_down, caches and refreshes', async () => {
    const home = await session('carol');
    const login = await elevate(home, ['login', '--issuer', issuerUrl, '--client-id', 'elevate-cli']);
    expect(login.stderr).toContain('WDJB-MJHT');
    expect(login.stderr).toContain(`${issuerUrl}/activate?user_code=WDJB-MJHT`);
    expect(login.code).toBe(0);
    expect(login.stdout).toContain('as carol (with MFA)');

    const device = calls.find((c) => c.path === '/device');
    expect(device?.form.get('client_id')).toBe('elevate-cli');
    expect(device?.form.get('scope')).toContain('offline_access');
    const tokenPolls = calls.filter((c) => c.path === '/token');
    expect(tokenPolls.map((c) => c.form.get('device_code'))).toEqual(['dev-1', 'dev-1', 'dev-1']);
    // slow_down adds 5 seconds to the interval (RFC 8628, 3.5)
    expect((tokenPolls[2]?.at ?? 0) - (tokenPolls[1]?.at ?? 0)).toBeGreaterThanOrEqual(4900);

    const file = join(home, 'config/elevate/credentials.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const cached = JSON.parse(await readFile(file, 'utf8'))[server.url];
    expect(cached).toMatchObject({ source: 'oidc', refreshToken: 'rt-1', clientId: 'elevate-cli', issuer: issuerUrl });
    const settings = JSON.parse(await readFile(join(home, 'config/elevate/config.json'), 'utf8'));
    expect(settings).toMatchObject({ issuer: issuerUrl, clientId: 'elevate-cli', api: server.url });

    // The access token is about to expire: the next command renews it with the refresh token first.
    const whoami = await elevate(home, ['whoami', '--json']);
    expect(whoami.code).toBe(0);
    expect(JSON.parse(whoami.stdout)).toMatchObject({ sub: 'carol', email: 'carol@example.com', mfa: true });
    expect(calls.filter((c) => c.form.get('grant_type') === 'refresh_token')).toHaveLength(1);
    const renewed = JSON.parse(await readFile(file, 'utf8'))[server.url];
    expect(renewed.refreshToken).toBe('rt-2');
    expect(renewed.accessToken).not.toBe(cached.accessToken);
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const logout = await elevate(home, ['logout']);
    expect(logout.code).toBe(0);
    expect(calls.find((c) => c.path === '/revoke')?.form.get('token')).toBe('rt-2');
    expect((await elevate(home, ['roles'])).code).toBe(3);
  }, 120_000);
});

describe('the bin', () => {
  it('runs from the checkout through cli/elevate.mjs (package.json bin)', async () => {
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
    expect(pkg.bin.elevate).toBe('cli/elevate.mjs');
    const r = await promisify(execFile)(process.execPath, [join(root, 'cli/elevate.mjs'), '--version']);
    expect(r.stdout.trim()).toBe(pkg.version);
  });
});

describe('scopes', () => {
  it('lists the organization as GET /v1/scopes gives it, as a table and with --json', async () => {
    // Prepare: nothing synced yet, then the organization-sync job copies the stand-in's organization
    const home = await session('scopes');
    expect((await elevate(home, ['login', '--local', '--sub', 'alice'])).code).toBe(0);
    const before = await elevate(home, ['scopes']);
    expect((await api(server).post('/_local/schedules/organization-sync/run')).status).toBe(200);
    // Act
    const listed = await elevate(home, ['scopes', '--json']);
    const shown = await elevate(home, ['scopes']);
    const fromApi = await api(server).as({ sub: 'alice' }).get<{ items: unknown[] }>('/v1/scopes');
    // Assess
    expect(before.code).toBe(0);
    expect(before.stdout).toContain('No organization is synced');
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual({ items: fromApi.body.items, nextToken: null });
    expect(fromApi.body.items.length).toBeGreaterThanOrEqual(6);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^SCOPE\s+TYPE\s+NAME\s+PARENT$/m);
    expect(shown.stdout).toMatch(/^\/ous\/ou-local-prod\s+OU\s+\S.*\s\/$/m);
    expect(shown.stdout).toMatch(/^\/accounts\/333333333333\s+account\s+\S.*\s\/ous\/ou-local-dev$/m);
    noStackTrace(shown);
  });
});

describe('reviews and audit exports (the endpoints other work is adding)', () => {
  it('lists and decides an access review item', async () => {
    const bob = await session('bob');
    const boss = await session('admin');
    await elevate(bob, ['login', '--local', '--sub', 'bob', '--mfa']);
    await elevate(boss, ['login', '--local', '--sub', 'admin', '--mfa']);
    const created = await admin.post<{ id: string }>('/v1/access-reviews', {
      displayName: 'CLI review',
      scope: { roleIds: ['ops'], assignmentTypes: ['eligible'] },
      reviewers: { type: 'principals', principals: [{ type: 'user', id: 'bob' }] },
      duration: 'P14D',
      recurrence: { type: 'once', startDateTime: server.clock.now().toISOString() },
      defaultDecision: 'none',
      autoApply: false,
      requireJustification: true,
      recommendationLookback: 'P30D',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await api(server).post('/_local/schedules/reviews/run');
    const listed = await elevate(bob, ['reviews', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const items = JSON.parse(listed.stdout).items as { id: string; principalId: string; roleId: string }[];
    expect(items).toEqual([expect.objectContaining({ principalId: 'alice', roleId: 'ops' })]);
    expect((await elevate(bob, ['reviews'])).stdout).toMatch(/alice\s+ops\s+\/accounts\/1/);
    const decided = await elevate(bob, [
      'review',
      'decide',
      items[0]?.id as string,
      'approve',
      '--reason',
      'still on call',
    ]);
    expect(decided.code, decided.stderr).toBe(0);
    expect(decided.stdout).toContain('Approve recorded for alice: ops at /accounts/1');
    const events = await elevate(boss, ['audit', 'events', '--action', 'review.decided', '--json']);
    expect(JSON.parse(events.stdout).items).toEqual([expect.objectContaining({ action: 'review.decided' })]);
    expect((await elevate(boss, ['audit', 'events', '--action', 'review.decided'])).stdout).toMatch(
      /review\.decided\s+bob\s+alice\s+ops/,
    );
  });

  it('exports the audit log and downloads the export', async () => {
    const boss = await session('admin');
    await elevate(boss, ['login', '--local', '--sub', 'admin', '--mfa']);
    const from = new Date(server.clock.now().getTime() - 3600_000).toISOString();
    const to = server.clock.now().toISOString();
    const exported = await elevate(boss, [
      'audit',
      'export',
      '--from',
      from,
      '--to',
      to,
      '--wait',
      '--poll',
      '0.2',
      '--json',
    ]);
    const exp = JSON.parse(exported.stdout) as { id: string; status: string; error?: string };
    expect(exported.code, `${exported.stderr}${exported.stdout}`).toBe(0);
    expect(exp.status).toBe('Completed');
    const file = join(boss, 'audit.jsonl.gz');
    const downloaded = await elevate(boss, ['audit', 'download', exp.id, '-o', file]);
    expect(downloaded.code, downloaded.stderr).toBe(0);
    expect(downloaded.stdout).toContain('matches the export');
    expect((await stat(file)).size).toBeGreaterThan(0);
  });
});

describe("others' text (issue 11, item 10)", () => {
  /** What a terminal acts on: ESC (CSI, OSC), CR, BEL, a C1 CSI, DEL, bidi overrides (LF: counted as lines). */
  const RAW = /(?!\n)[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/u;
  const hostile =
    'INC-1\u001b[2J\u001b[H\u001b]0;pwned\u0007\u001b[32mapproved\r\nreq_fake  mallory  ops  /  selfActivate  Granted\u009b31m\u202egnp.exe\u007f';

  let fake: Server;
  let fakeUrl: string;
  beforeAll(async () => {
    // An API answering with others' text (a requester's justification, a problem's detail) as it is stored.
    fake = createServer((req, res) => {
      const json = (status: number, value: unknown, type = 'application/json') => {
        res.writeHead(status, { 'content-type': type });
        res.end(JSON.stringify(value));
      };
      const request = {
        id: 'req_1',
        action: 'selfActivate',
        status: 'PendingApproval',
        principalId: `mallory${hostile}`,
        roleId: 'prod',
        scope: '/accounts/1',
        createdAt: '2026-11-26T12:00:00Z',
        justification: hostile,
        stages: [],
      };
      if (req.url?.startsWith('/v1/approvals')) return json(200, { items: [request], nextToken: null });
      if (req.url?.startsWith('/v1/requests/req_1/approve')) {
        return json(
          409,
          { type: 'about:blank', title: 'Conflict', status: 409, code: 'Conflict', detail: hostile },
          'application/problem+json',
        );
      }
      json(404, { code: 'NotFound', status: 404, detail: hostile }, 'application/problem+json');
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => fake?.close(resolve));
  });

  it('shows a justification with escape codes and newlines escaped in the approvals table, plain lines and errors', async () => {
    // Prepare
    const home = await session('escapes');
    const env = { ELEVATE_API: fakeUrl, ELEVATE_TOKEN: 'any' };

    // Act
    const table = await elevate(home, ['approvals'], env);
    const refused = await elevate(home, ['approve', 'req_1', '--reason', 'ok'], env);
    const json = await elevate(home, ['approvals', '--json'], env);
    const coloured = await elevate(home, ['approvals'], { ...env, FORCE_COLOR: '1' });

    // Assess: one header and one row, nothing a terminal acts on, the text still readable
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).not.toMatch(RAW);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('INC-1\\x1b[2J\\x1b[H\\x1b]0;pwned\\x07\\x1b[32mapproved\\r\\nreq_fake');
    expect(lines[1]).toContain('\\x9b31m\\u202egnp.exe\\x7f');
    expect(lines[1]).toMatch(/^req_1\s+malloryINC-1\\x1b\[2J/);
    // Errors: one line on stderr, escaped
    expect(refused.code).toBe(1);
    expect(refused.stderr).not.toMatch(RAW);
    expect(refused.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^elevate: Conflict: INC-1\\x1b\[2J/)]);
    // --json: the same data, every character a terminal acts on written as a \u escape
    expect(json.stdout).not.toMatch(RAW);
    expect(JSON.parse(json.stdout).items[0].justification).toBe(hostile);
    // Colours are the CLI's own, the text's sequences stay escaped
    expect(coloured.stdout).toContain('\u001b[1m');
    const ownColours = new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, 'g');
    expect(coloured.stdout.replace(ownColours, '')).not.toMatch(RAW);
  });

  it("escapes a requester's justification in the real approver's table", async () => {
    // Prepare: alice asks for prod (bob approves) with a justification made to fake a row and clear the screen
    const bob = await session('bob-esc');
    await elevate(bob, ['login', '--local', '--sub', 'bob', '--mfa']);
    const alice = api(server).as({ sub: 'alice', mfa: true });
    const asked = await alice.post<{ id: string }>('/v1/requests', {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId: 'prod',
      scope: '/accounts/1',
      justification: `INC-7 \u001b[2J\u001b[H\nreq_fake  mallory  prod  /accounts/1  Granted\u202e`,
    });
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);

    // Act
    const table = await elevate(bob, ['approvals']);

    // Assess
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).not.toMatch(RAW);
    const listed = JSON.parse((await elevate(bob, ['approvals', '--json'])).stdout).items as unknown[];
    const rows = table.stdout.trimEnd().split('\n').slice(1);
    expect(rows).toHaveLength(listed.length); // no faked row
    expect(rows.find((r) => r.startsWith(asked.body.id))).toMatch(/INC-7 .*req_fake {2}mallory/);
    await alice.post(`/v1/requests/${asked.body.id}/cancel`, {});
  });
});
