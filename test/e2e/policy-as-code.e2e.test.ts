import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { type ApiClient, api, startTestServer } from '#test/support/local.ts';

/**
 * Policy as code (issue 15, docs/policy-as-code.md): `elevate plan` / `apply` / `export` as a user runs them, the
 * bundle cli/build.mjs makes, against the local runtime started in-process.
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
let token: string;
const root = new URL('../../', import.meta.url).pathname;

function elevate(args: string[], apiUrl = server.url): Promise<Run> {
  const child: ChildProcess = spawn(process.execPath, [bundle, ...args], {
    cwd: work,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: work,
      XDG_CONFIG_HOME: join(work, 'config'),
      ELEVATE_API: apiUrl,
      ELEVATE_TOKEN: token,
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
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const FILE = `apiVersion: elevate/v1
roles:
  - id: db-admin
    displayName: Database administrator
    privileged: true
    policy: { activation: { maxDuration: PT2H, approval: { required: false, stages: [] } } }
    scopes:
      /accounts/111111111111:
        activation:
          approval:
            required: true
            stages: [{ approvers: [{ type: group, id: dba-leads }], requiredApprovals: 2, timeout: PT4H }]
      /accounts/222222222222: { activation: { requireJustification: false } }
  - id: app-reader
    displayName: Application reader
    privileged: false
groups:
  - { id: oncall, displayName: On-call }
eligibility:
  - { principal: { type: group, id: oncall }, role: db-admin, scope: /accounts/111111111111, expiration: P180D }
  - { principal: { type: user, id: alice }, role: db-admin, scope: /accounts/222222222222, expiration: never }
  - { principal: { type: user, id: alice }, role: app-reader, scope: /, expiration: P30D }
`;

const write = async (name: string, text: string) => {
  const path = join(work, name);
  await writeFile(path, text);
  return path;
};

async function all<T>(path: string): Promise<T[]> {
  const items: T[] = [];
  let next: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page: { status: number; body: { items: T[]; nextToken: string | null } } = await admin.get(
      `${path}${sep}limit=200${next ? `&nextToken=${encodeURIComponent(next)}` : ''}`,
    );
    expect(page.status).toBe(200);
    items.push(...page.body.items);
    next = page.body.nextToken;
  } while (next);
  return items;
}

type Eligible = { principalType: string; principalId: string; roleId: string; scope: string; status: string };
const liveEligibility = async (roleId: string) =>
  (await all<Eligible>(`/v1/assignments?assignmentType=eligible&roleId=${roleId}`))
    .filter((a) => a.status === 'Active' || a.status === 'Scheduled')
    .map((a) => `${a.principalType}:${a.principalId} ${a.scope}`)
    .sort();
const auditCount = async (action: string) => (await all(`/v1/audit-events?action=${action}`)).length;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'elevate-pac-'));
  bundle = join(work, 'elevate.mjs');
  await promisify(execFile)(process.execPath, [join(root, 'cli/build.mjs'), bundle]);
  server = await startTestServer();
  admin = api(server).as({ sub: 'admin', mfa: true });
  token = await server.issuer.mintToken({ sub: 'admin', mfa: true });
});

afterAll(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('elevate plan / apply / export', () => {
  it('refuses an invalid file with its line and field, and applies nothing', async () => {
    // Prepare
    const bad = await write('bad.yaml', FILE.replace('maxDuration: PT2H', 'maxDuration: two hours'));

    // Act
    const r = await elevate(['apply', '-f', bad, '--yes']);

    // Assess
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bad.yaml is not a valid policy file; nothing was applied');
    expect(r.stderr).toContain(`${bad}:6:42: /roles/0/policy/activation/maxDuration:`);
    expect((await admin.get('/v1/roles/db-admin')).status).toBe(404);
  });

  it('applies a file to an empty service, then finds nothing more to do', async () => {
    // Prepare
    const file = await write('elevate.yaml', FILE);

    // Act
    const first = await elevate(['apply', '-f', file, '--yes']);
    const again = await elevate(['apply', '-f', file, '--yes']);
    const planned = await elevate(['plan', '-f', file, '--detailed-exitcode']);

    // Assess
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Effective access:');
    expect(first.stdout).toContain(
      '  + group:oncall gains db-admin at /accounts/111111111111\n      policy of /accounts/111111111111: stage 1: 2 of group:dba-leads within PT4H',
    );
    expect(first.stdout).toContain('Applied 9 change(s).');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('No changes: the service matches the file.');
    expect(planned.code).toBe(0);
    const policy = await admin.get<{ activation: { approval: { stages: { requiredApprovals: number }[] } } }>(
      '/v1/roles/db-admin/policy?scope=/accounts/111111111111/regions/eu-west-1',
    );
    expect(policy.body.activation.approval.stages[0]?.requiredApprovals).toBe(2);
    expect(await liveEligibility('db-admin')).toEqual([
      'group:oncall /accounts/111111111111',
      'user:alice /accounts/222222222222',
    ]);
    const role = await admin.get<{ description: string }>('/v1/roles/db-admin');
    expect(role.body.description).toBe('[managed by elevate.yaml]');
  });

  it('exports the service as a file whose plan shows no changes', async () => {
    // Act
    const exported = await elevate(['export', '-o', join(work, 'exported.yaml')]);
    const planned = await elevate(['plan', '-f', join(work, 'exported.yaml'), '--detailed-exitcode']);

    // Assess
    expect(exported.code).toBe(0);
    expect(planned.stdout).toContain('No changes');
    expect(planned.code).toBe(0);
  });

  it('applies a change to one policy, and only that', async () => {
    // Prepare
    const file = await write('elevate.yaml', FILE.replace('requiredApprovals: 2', 'requiredApprovals: 1'));
    const updates = await auditCount('policy.updated');
    const created = await auditCount('policy.created');

    // Act
    const planned = await elevate(['plan', '-f', file, '--json', '--detailed-exitcode']);
    const applied = await elevate(['apply', '-f', file, '--yes']);

    // Assess
    expect(planned.code).toBe(2);
    const doc = JSON.parse(planned.stdout) as { changes: { subject: string }[]; access: { effect: string }[] };
    expect(doc.changes.map((c) => c.subject)).toEqual(['policy of role db-admin at /accounts/111111111111']);
    expect(doc.access.map((a) => a.effect)).toEqual(['changes']);
    expect(applied.code).toBe(0);
    expect(await auditCount('policy.updated')).toBe(updates + 1);
    expect(await auditCount('policy.created')).toBe(created);
  });

  it('finishes after a failure half-way, and makes nothing twice', async () => {
    // Prepare: a second role, its policies and eligibility; a proxy passes the third change on to the service
    // and then drops the connection, as a network failure would, before the CLI hears the answer.
    // The file as the previous test left it (one approver at 111…), plus the new role: bob's eligibility is the third.
    const more =
      `${FILE.replace('requiredApprovals: 2', 'requiredApprovals: 1')}  - { principal: { type: user, id: bob }, role: net-admin, scope: /accounts/333333333333, expiration: P90D }
  - { principal: { type: user, id: carol }, role: net-admin, scope: /, expiration: never }
`.replace(
        'groups:',
        `  - id: net-admin
    displayName: Network administrator
    privileged: false
    scopes: { /accounts/333333333333: { activation: { maxDuration: PT1H } } }
groups:`,
      );
    const file = await write('more.yaml', more);
    let writes = 0;
    const proxy: Server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const upstream = await fetch(`${server.url}${req.url}`, {
        method: req.method,
        headers: Object.fromEntries(
          Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k)),
        ) as Record<string, string>,
        ...(chunks.length > 0 && { body: Buffer.concat(chunks) }),
      });
      const text = await upstream.text();
      if (req.method !== 'GET' && ++writes === 3) {
        req.socket.destroy();
        return;
      }
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain' });
      res.end(text);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxied = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

    // Act
    const failed = await elevate(['apply', '-f', file, '--yes'], proxied);
    proxy.close();
    const rerun = await elevate(['apply', '-f', file, '--yes']);
    const after = await elevate(['plan', '-f', file, '--detailed-exitcode']);

    // Assess
    expect(failed.code, `${failed.stdout}\n${failed.stderr}`).toBe(1);
    expect(failed.stdout).toContain('create policy of role net-admin at /accounts/333333333333: done');
    expect(failed.stderr).toContain('cannot reach the API');
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).not.toContain('create role net-admin');
    expect(rerun.stdout).toContain('create eligibility of user:carol for net-admin at /: done');
    expect(rerun.stdout).not.toContain('user:bob');
    expect(after.code).toBe(0);
    expect(await liveEligibility('net-admin')).toEqual(['user:bob /accounts/333333333333', 'user:carol /']);
    const roleCreations = (await all<{ target: { roleId?: string } }>('/v1/audit-events?action=role.created')).filter(
      (e) => e.target.roleId === 'net-admin',
    );
    expect(roleCreations).toHaveLength(1);
    const policies = await admin.get<{ items: { scope: string }[] }>('/v1/roles/net-admin/policies');
    expect(policies.body.items.map((p) => p.scope)).toEqual(['/', '/accounts/333333333333']);
  });

  it('with --prune removes what the file dropped, never what was made by hand', async () => {
    // Prepare: a hand-made eligibility on a managed role; then the file drops carol and the net-admin scope.
    const byHand = await admin.post('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: 'dave',
      roleId: 'net-admin',
      scope: '/accounts/444444444444',
      justification: 'break-glass, by hand',
    });
    expect(byHand.status).toBe(201);
    const more = readFile(join(work, 'more.yaml'), 'utf8');
    const file = await write(
      'pruned.yaml',
      (await more)
        .replace('  - { principal: { type: user, id: carol }, role: net-admin, scope: /, expiration: never }\n', '')
        .replace('    scopes: { /accounts/333333333333: { activation: { maxDuration: PT1H } } }\n', ''),
    );

    // Act
    const without = await elevate(['plan', '-f', file, '--detailed-exitcode']);
    const pruned = await elevate(['apply', '-f', file, '--prune', '--yes']);

    // Assess
    expect(without.code).toBe(0);
    expect(without.stdout).toContain('Managed but not in the file (kept; --prune removes them):');
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toContain('  - user:carol loses net-admin at /');
    expect(await liveEligibility('net-admin')).toEqual([
      'user:bob /accounts/333333333333',
      'user:dave /accounts/444444444444',
    ]);
    const policies = await admin.get<{ items: { scope: string }[] }>('/v1/roles/net-admin/policies');
    expect(policies.body.items.map((p) => p.scope)).toEqual(['/']);
  });

  it('makes again, within the Idempotency-Key memory, what was undone by hand since the same file made it', async () => {
    // Prepare: erin's eligibility made by the file, then removed by hand.
    const pruned = await readFile(join(work, 'pruned.yaml'), 'utf8');
    const text = `${pruned}  - { principal: { type: user, id: erin }, role: app-reader, scope: /, expiration: never }\n`;
    const file = await write('erin.yaml', text);
    expect((await elevate(['apply', '-f', file, '--yes'])).code).toBe(0);
    const removed = await admin.post('/v1/requests', {
      action: 'adminRemove',
      assignmentType: 'eligible',
      principalId: 'erin',
      roleId: 'app-reader',
      scope: '/',
      justification: 'by hand',
    });
    expect(removed.status).toBe(201);

    // Act
    const again = await elevate(['apply', '-f', file, '--yes']);

    // Assess
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(await liveEligibility('app-reader')).toEqual(['user:alice /', 'user:erin /']);
  });

  it('makes pending changes under governance.requireSecondAdmin, says so, and does not propose them twice', async () => {
    // Prepare
    const on = await admin.put('/v1/settings', { governance: { adminMfa: true, requireSecondAdmin: true } });
    expect(on.status).toBe(200);
    const file = await write('governed.yaml', FILE.replace('maxDuration: PT2H', 'maxDuration: PT3H'));

    const pendingPolicies = async () =>
      (await all<{ kind: string }>('/v1/changes?status=Pending')).filter((c) => c.kind === 'rolePolicy').length;

    // Act: the base policy changes, and with it the two scopes' policies merged over it.
    const first = await elevate(['apply', '-f', file, '--yes']);
    const afterFirst = await pendingPolicies();
    const again = await elevate(['apply', '-f', file, '--yes']);

    // Assess
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      /update policy of role db-admin at \/: pending change \S+ \(governance.requireSecondAdmin\)/,
    );
    expect(first.stdout).toContain('wait for a second administrator');
    expect(again.stdout).toContain('already pending as change');
    expect(first.stdout).toContain('3 change(s) wait for a second administrator');
    expect(afterFirst).toBe(3);
    expect(await pendingPolicies()).toBe(3);
    expect(
      (await admin.get<{ activation: { maxDuration: string } }>('/v1/roles/db-admin/policy')).body.activation
        .maxDuration,
    ).toBe('PT2H');
  });
});
