import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { api, emails, settle, startTestServer } from '#test/support/local.ts';

/**
 * Logs carry no tokens and no mail: with every log line on (ELEVATE_LOG=debug and the local request log),
 * a session that signs in, activates (which mails the admins) and fails a call leaves neither the bearer
 * token, nor an e-mail address, nor a mail body in what the processes print.
 */
describe('logs', () => {
  let server: LocalServer;
  const printed: string[] = [];
  const level = process.env.ELEVATE_LOG;

  beforeAll(async () => {
    process.env.ELEVATE_LOG = 'debug';
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        printed.push(args.map(String).join(' '));
      });
    }
    server = await startTestServer({ log: true });
  });
  afterAll(async () => {
    await server?.stop();
    vi.restoreAllMocks();
    process.env.ELEVATE_LOG = level;
  });

  it('never prints a token, an e-mail address or a mail body', async () => {
    const token = await server.issuer.mintToken({ sub: 'admin', mfa: true, email: 'admin@secret-domain.example' });
    const admin = api(server).withToken(token);
    await admin.post('/v1/roles', { id: 'logged', displayName: 'Logged', privileged: true });
    await admin.post('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: 'alice',
      roleId: 'logged',
    });
    const alice = await server.issuer.mintToken({ sub: 'alice', mfa: true, email: 'alice@secret-domain.example' });
    const activated = await api(server).withToken(alice).post('/v1/requests', {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId: 'logged',
      justification: 'marker-in-the-mail-body',
    });
    expect(activated.status).toBe(201);
    await api(server).withToken(`${token}x`).get('/v1/roles');
    await admin.post('/v1/roles', '{"broken json');
    await settle(server);
    const mails = await emails(server);
    expect(mails.some((m) => m.text.includes('marker-in-the-mail-body'))).toBe(true);

    const all = printed.join('\n');
    expect(printed.length).toBeGreaterThan(3);
    expect(all).not.toContain(token.split('.')[2]);
    expect(all).not.toContain(alice.split('.')[1]);
    expect(all).not.toContain('secret-domain.example');
    expect(all).not.toContain('marker-in-the-mail-body');
  });
});
