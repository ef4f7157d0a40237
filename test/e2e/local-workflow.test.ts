/**
 * The access workflow in the local runtime, over HTTP only (plus the real @aws-sdk/client-sfn against the
 * server's own Step Functions endpoint): a self activation is granted at once, the synthesized state machine
 * expires it when the manual clock passes its end, lifecycle events and mail reach the local stand-ins, and
 * the scheduled reconcile job runs on demand.
 */
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { type ApiClient, api, emails, events, settle, startTestServer } from '#test/support/local.ts';

interface Req {
  id: string;
  status: string;
  assignmentId: string | null;
}

interface Assignment {
  id: string;
  status: string;
  assignmentType: string;
}

const START = new Date('2026-04-01T08:00:00Z');
const ROLE = 'db-admin';

describe('the access workflow in the local runtime', () => {
  let server: LocalServer;
  let admin: ApiClient;
  let alice: ApiClient;
  let sfn: SFNClient;
  let request: Req;

  beforeAll(async () => {
    server = await startTestServer({ clockStart: START });
    admin = api(server).as({ sub: 'admin', mfa: true });
    alice = api(server).as({ sub: 'alice', email: 'alice@example.com', mfa: true });
    sfn = new SFNClient({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });
  afterAll(async () => {
    sfn?.destroy();
    await server?.stop();
  });

  it('grants a self activation at once and publishes it', async () => {
    const principal = await admin.put('/v1/principals/admin', {
      type: 'user',
      displayName: 'Admin',
      email: 'admin@example.com',
    });
    expect(principal.status, JSON.stringify(principal.body)).toBeLessThan(300);
    const role = await admin.post('/v1/roles', { id: ROLE, displayName: 'Database administrator', privileged: true });
    expect(role.status, JSON.stringify(role.body)).toBe(201);
    const assigned = await admin.post<Req>('/v1/requests', {
      action: 'adminAssign',
      assignmentType: 'eligible',
      principalId: 'alice',
      roleId: ROLE,
      justification: 'on-call rota',
    });
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(201);

    const res = await alice.post<Req>('/v1/requests', {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId: ROLE,
      justification: 'x',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.status).toBe('Granted');
    expect(res.body.assignmentId).toEqual(expect.any(String));
    request = res.body;

    const access = await alice.get<{ allowed: boolean }>(`/v1/access?roleId=${ROLE}`);
    expect(access.status).toBe(200);
    expect(access.body.allowed).toBe(true);

    await settle(server);
    const running = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: server.stateMachineArn, statusFilter: 'RUNNING' }),
    );
    expect(running.executions?.map((e) => e.name)).toEqual(
      expect.arrayContaining([expect.stringMatching(new RegExp(`^(${request.id}|${request.assignmentId})$`))]),
    );
    const types = (await events(server)).map((e) => e.detailType);
    expect(types).toContain('elevate.assignment.activated');
  });

  it('expires it when the clock passes the end, durably, and the execution succeeds', async () => {
    const moved = await api(server).post<{ now: string }>('/_local/clock', { advance: 'PT61M' });
    expect(moved.status).toBe(200);
    await settle(server);

    const access = await alice.get<{ allowed: boolean }>(`/v1/access?roleId=${ROLE}`);
    expect(access.body.allowed).toBe(false);
    const assignment = await admin.get<Assignment>(`/v1/assignments/${request.assignmentId}`);
    expect(assignment.status, JSON.stringify(assignment.body)).toBe(200);
    expect(assignment.body.status).toBe('Expired');

    const all = await sfn.send(new ListExecutionsCommand({ stateMachineArn: server.stateMachineArn }));
    const execution = all.executions?.find((e) => e.name === request.id || e.name === request.assignmentId);
    expect(execution?.executionArn).toBeDefined();
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: execution?.executionArn }));
    expect(described.status, described.cause ?? described.error).toBe('SUCCEEDED');

    const types = (await events(server)).map((e) => e.detailType);
    expect(types).toEqual(expect.arrayContaining(['elevate.assignment.activated', 'elevate.assignment.expired']));
    const expired = (await events(server)).find((e) => e.detailType === 'elevate.assignment.expired');
    expect(expired?.source).toBe('elevate');

    // Durable: the stored assignment stays Expired after the reconcile job and later clock moves.
    const job = await api(server).post<{ name: string; result: unknown }>('/_local/schedules/reconcile/run');
    expect(job.status, JSON.stringify(job.body)).toBe(200);
    expect(job.body.name).toBe('reconcile');
    await api(server).post('/_local/clock', { advance: 'P1D' });
    await settle(server);
    const later = await admin.get<Assignment>(`/v1/assignments/${request.assignmentId}`);
    expect(later.body.status).toBe('Expired');
    expect((await alice.get<{ allowed: boolean }>(`/v1/access?roleId=${ROLE}`)).body.allowed).toBe(false);
  });

  it('mails the admins about the privileged activation', async () => {
    const mail = await emails(server);
    const toAdmin = mail.filter((m) => m.to.includes('admin@example.com'));
    expect(toAdmin.length, JSON.stringify(mail.map((m) => ({ to: m.to, subject: m.subject })))).toBeGreaterThan(0);
    expect(toAdmin[0]?.subject).toContain(ROLE);
    expect(toAdmin[0]?.sentAt).toBe(START.toISOString());
    expect(toAdmin[0]?.text).toContain(request.id);
  });
});
