import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalServer } from '#infra/local/server.ts';
import { depsFromEnv } from '#shared/deps.ts';
import type { EventBridgePublisher } from '#shared/ports/events.ts';
import type { SesMailer } from '#shared/ports/mailer.ts';
import type { StepFunctionsWorkflow } from '#shared/ports/workflow.ts';
import { type Fault, faults, injectFault } from '#test/support/faults.ts';
import { checkInvariants, scanTable } from '#test/support/invariants.ts';
import { type ApiClient, api, emails, events, settle, startTestServer } from '#test/support/local.ts';

/**
 * Faults injected at each AWS client the handlers use (DynamoDB, Step Functions, SES, EventBridge), on the real
 * SDK clients of the running local runtime (see test/support/faults.ts). For each: the request is not lost (it is
 * made, or a retry with the same Idempotency-Key makes it), not duplicated (the retry answers the first response
 * and the table holds one of it), and what the fault interrupted is finished by a retry or the reconcile job.
 */
interface Req {
  id: string;
  status: string;
  assignmentId: string | null;
}

let server: LocalServer;
let admin: ApiClient;
let alice: ApiClient;
let roles = 0;
let fault: Fault | undefined;

beforeAll(async () => {
  process.env.ELEVATE_LOG = 'silent';
  server = await startTestServer({ clockStart: new Date('2026-11-26T10:00:00Z') });
  admin = api(server).as({ sub: 'admin', mfa: true });
  alice = api(server).as({ sub: 'alice', mfa: true });
  for (const id of ['admin', 'alice', 'bob']) {
    await admin.put(`/v1/principals/${id}`, { type: 'user', displayName: id, email: `${id}@example.com` });
  }
});
afterEach(async () => {
  fault?.remove();
  fault = undefined;
  await settle(server);
  expect(await checkInvariants(server)).toEqual([]);
});
afterAll(async () => {
  await server?.stop();
});

const deps = () => depsFromEnv();
const ddb = () => deps().store.doc;
const sfn = () => (deps().workflow as StepFunctionsWorkflow).client();
const ses = () => (deps().mailer as SesMailer).client();
const bus = () => (deps().events as EventBridgePublisher).client();
/** How many attempts the SDK makes of one DynamoDB call before it gives up (its own retries included). */
const sdkAttempts = () => ddb().config.maxAttempts();

/** A fresh role alice is eligible for (approval by bob when asked). */
async function eligibleRole(approval = false): Promise<string> {
  const id = `fault-role-${++roles}`;
  expect((await admin.post('/v1/roles', { id, displayName: id, privileged: true })).status).toBe(201);
  if (approval) {
    const policy = (await admin.get<Record<string, Record<string, unknown>>>(`/v1/roles/${id}/policy`)).body;
    policy.activation = {
      ...policy.activation,
      approval: {
        required: true,
        stages: [{ approvers: [{ type: 'user', id: 'bob' }], requiredApprovals: 1, timeout: 'PT4H' }],
      },
    };
    expect((await admin.put(`/v1/roles/${id}/policy`, policy)).status).toBe(200);
  }
  const assigned = await admin.post('/v1/requests', {
    action: 'adminAssign',
    assignmentType: 'eligible',
    principalId: 'alice',
    roleId: id,
  });
  expect(assigned.status).toBe(201);
  return id;
}

const activate = (roleId: string, key: string, justification = key) =>
  alice.post<Req>(
    '/v1/requests',
    {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId,
      justification,
      schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
    },
    { 'idempotency-key': key },
  );

/** alice's activations of a role as the table holds them: the records, and the live ones. */
async function activationsOf(roleId: string) {
  const items = await scanTable(server);
  const records = items.filter(
    (i) =>
      i.entity === 'assignment' && i.roleId === roleId && i.principalId === 'alice' && i.assignmentType === 'active',
  );
  const requests = items.filter((i) => i.entity === 'request' && i.roleId === roleId && i.action === 'selfActivate');
  return { records, requests, live: records.filter((r) => r.status === 'Active') };
}

/** The retry with the same key answers the first response, marked as replayed, and makes nothing new. */
async function expectReplay(roleId: string, key: string, first: { status: number; body: Req }) {
  const retry = await activate(roleId, key);
  expect(retry.status).toBe(first.status);
  expect(retry.body.id).toBe(first.body.id);
  expect(retry.headers['idempotent-replayed']).toBe('true');
  const { records, requests } = await activationsOf(roleId);
  expect(records).toHaveLength(1);
  expect(requests).toHaveLength(1);
}

/** Did the local Step Functions ever see an execution of this name? */
function executionStarted(name: string): boolean {
  try {
    server.statesEntered(name);
    return true;
  } catch {
    return false;
  }
}

const allowed = async (roleId: string) =>
  (await admin.get<{ allowed: boolean }>(`/v1/access?principalId=alice&roleId=${roleId}`)).body.allowed;

describe('faults at DynamoDB', () => {
  it('commits an activation once through throttling of its first two attempts', async () => {
    const roleId = await eligibleRole();
    fault = injectFault(ddb(), {
      command: 'TransactWriteItemsCommand',
      matching: 'fault-throttle',
      times: 2,
      error: faults.throttled,
    });
    const first = await activate(roleId, 'fault-throttle');
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(fault.injected).toBe(2);
    expect(await allowed(roleId)).toBe(true);
    await expectReplay(roleId, 'fault-throttle', first);
  });

  it('commits an activation once through a 500 of its first attempt', async () => {
    const roleId = await eligibleRole();
    fault = injectFault(ddb(), {
      command: 'TransactWriteItemsCommand',
      matching: 'fault-500',
      times: 1,
      error: faults.internal,
    });
    const first = await activate(roleId, 'fault-500');
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(fault.injected).toBe(1);
    await expectReplay(roleId, 'fault-500', first);
  });

  it('answers the committed activation when the commit timed out after DynamoDB made it', async () => {
    const roleId = await eligibleRole();
    // The first attempt commits, then its answer is lost; the SDK sends the same transaction again.
    fault = injectFault(ddb(), {
      command: 'TransactWriteItemsCommand',
      matching: 'fault-timeout',
      times: 1,
      when: 'after',
      error: faults.timeout,
    });
    const first = await activate(roleId, 'fault-timeout');
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body.status).toBe('Granted');
    expect(fault.injected).toBe(1);
    await expectReplay(roleId, 'fault-timeout', first);
  });

  it('answers the first response to the retry when every attempt of the commit timed out after DynamoDB made it', async () => {
    const roleId = await eligibleRole();
    // Every SDK attempt reaches DynamoDB (the SDK's ClientRequestToken makes the repeats harmless), no answer
    // comes back: the caller gets a problem, though the change was made.
    fault = injectFault(ddb(), {
      command: 'TransactWriteItemsCommand',
      matching: 'fault-lost',
      when: 'after',
      error: faults.timeout,
    });
    const lost = await activate(roleId, 'fault-lost');
    expect(lost.status).toBeGreaterThanOrEqual(500);
    expect(lost.headers['content-type']).toBe('application/problem+json');
    expect(fault.injected).toBeGreaterThan(1);
    fault.remove();
    const retry = await activate(roleId, 'fault-lost');
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    const { records, requests } = await activationsOf(roleId);
    expect(records).toHaveLength(1);
    expect(requests).toHaveLength(1);
    expect(records[0]?.id).toBe(retry.body.assignmentId);
  });

  it('loses nothing when throttling outlasts the retries: a problem now, the retry with the same key makes it', async () => {
    const roleId = await eligibleRole();
    fault = injectFault(ddb(), {
      command: 'TransactWriteItemsCommand',
      matching: 'fault-throttle-long',
      error: faults.throttling,
    });
    const failed = await activate(roleId, 'fault-throttle-long');
    expect(failed.status).toBe(503);
    expect(failed.headers['retry-after']).toBe('1');
    expect(failed.headers['content-type']).toBe('application/problem+json');
    expect((failed.body as unknown as { code: string }).code).toBe('Unavailable');
    expect((await activationsOf(roleId)).records).toHaveLength(0);
    fault.remove();
    const retry = await activate(roleId, 'fault-throttle-long');
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    await expectReplay(roleId, 'fault-throttle-long', retry);
  });
});

describe('answers lost after the DynamoDB commit', () => {
  // The SDK retries a lost answer itself (its maxAttempts); when every one of them is lost, the store sends the same
  // transaction again: its ClientRequestToken (derived from the transaction) makes DynamoDB answer the committed
  // transaction with success instead of failing its own conditions.
  it('commits an activation without an Idempotency-Key once, when every SDK attempt lost its answer', async () => {
    // Prepare
    const roleId = await eligibleRole();
    fault = injectFault(ddb(), {
      command: 'TransactWriteItemsCommand',
      matching: 'answer-lost-activation',
      times: await sdkAttempts(),
      when: 'after',
      error: faults.timeout,
    });

    // Act
    const first = await alice.post<Req>('/v1/requests', {
      action: 'selfActivate',
      assignmentType: 'active',
      roleId,
      justification: 'answer-lost-activation',
      schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
    });

    // Assess
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(fault.injected).toBe(await sdkAttempts());
    expect(fault.attempts).toBe((await sdkAttempts()) + 1);
    expect(await allowed(roleId)).toBe(true);
    const { records, requests } = await activationsOf(roleId);
    expect(records).toHaveLength(1);
    expect(requests).toHaveLength(1);
    expect(executionStarted(first.body.id)).toBe(true);
  });

  it('answers an approval whose commit lost its answers with the grant, not a false 409, and resumes the workflow', async () => {
    // Prepare
    const roleId = await eligibleRole(true);
    const asked = await activate(roleId, 'answer-lost-approval');
    expect(asked.body.status).toBe('PendingApproval');
    await settle(server);
    fault = injectFault(ddb(), {
      command: 'TransactWriteItemsCommand',
      matching: 'request.approved',
      times: await sdkAttempts(),
      when: 'after',
      error: faults.internal,
    });

    // Act
    const approved = await api(server)
      .as({ sub: 'bob', mfa: true })
      .post<Req>(`/v1/requests/${asked.body.id}/approve`, { justification: 'ok' });
    await settle(server);

    // Assess
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.status).toBe('Granted');
    expect(fault.injected).toBe(await sdkAttempts());
    expect(await allowed(roleId)).toBe(true);
    expect(server.statesEntered(asked.body.id)).toEqual([
      'Phase',
      'AwaitApproval',
      'NextStage?',
      'WaitForStart',
      'Grant',
      'Granted?',
      'WaitForEnd',
    ]);
  });
});

describe('faults after the DynamoDB commit', () => {
  it('still expires an activation whose workflow never started (the reconcile job does it)', async () => {
    const roleId = await eligibleRole();
    fault = injectFault(await sfn(), { command: 'StartExecutionCommand', error: faults.unavailable });
    const first = await activate(roleId, 'fault-sfn');
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(fault.injected).toBeGreaterThan(0);
    expect(executionStarted(first.body.id)).toBe(false);
    expect(await allowed(roleId)).toBe(true);
    await expectReplay(roleId, 'fault-sfn', first);
    fault.remove();

    await api(server).post('/_local/clock', { advance: 'PT1H2M' });
    await settle(server);
    const run = await api(server).post<{ result: { expired: number } }>('/_local/schedules/reconcile/run');
    expect(run.status).toBe(200);
    const { records, live } = await activationsOf(roleId);
    expect(records.map((r) => r.status)).toEqual(['Expired']);
    expect(live).toHaveLength(0);
    expect(await allowed(roleId)).toBe(false);
    // No workflow ever ran for it: the expiry is the reconcile job's, recorded as a missed expiry.
    expect(executionStarted(first.body.id)).toBe(false);
    const missed = await admin.get<{ items: { target: { assignmentId: string } }[] }>(
      '/v1/audit-events?action=alert.expiryMissed',
    );
    expect(missed.body.items.map((e) => e.target.assignmentId)).toContain(first.body.assignmentId);
  });

  it('never fails a request because SES is down; the approval goes on', async () => {
    const roleId = await eligibleRole(true);
    const before = (await emails(server)).length;
    fault = injectFault(await ses(), { command: 'SendEmailCommand', error: faults.unavailable });
    const asked = await activate(roleId, 'fault-ses');
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    expect(asked.body.status).toBe('PendingApproval');
    await settle(server);
    expect(fault.injected).toBeGreaterThan(0);
    const retry = await activate(roleId, 'fault-ses');
    expect(retry.status).toBe(202);
    expect(retry.body.id).toBe(asked.body.id);
    const approved = await api(server)
      .as({ sub: 'bob', mfa: true })
      .post<Req>(`/v1/requests/${asked.body.id}/approve`, {
        justification: 'ok',
      });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.status).toBe('Granted');
    expect(await allowed(roleId)).toBe(true);
    expect((await emails(server)).length).toBe(before);
    expect((await activationsOf(roleId)).records).toHaveLength(1);
  });

  it('never fails a request because EventBridge is down', async () => {
    const roleId = await eligibleRole();
    const before = (await events(server)).length;
    fault = injectFault(await bus(), { command: 'PutEventsCommand', error: faults.internal });
    const first = await activate(roleId, 'fault-events');
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    await settle(server);
    expect(fault.injected).toBeGreaterThan(0);
    expect(await allowed(roleId)).toBe(true);
    expect((await events(server)).length).toBe(before);
    await expectReplay(roleId, 'fault-events', first);
  });

  it('delivers the events of a committed change once EventBridge is back (the outbox, at least once)', async () => {
    // Prepare: EventBridge refuses every PutEvents while the change commits
    const roleId = await eligibleRole();
    fault = injectFault(await bus(), { command: 'PutEventsCommand', error: faults.internal });
    const activated = await activate(roleId, 'fault-events-later');
    expect(activated.status, JSON.stringify(activated.body)).toBe(201);
    await settle(server);
    const ofRole = async () =>
      (await events(server)).filter((e) => {
        const assignment = (e.detail as { assignment?: { roleId?: string; assignmentType?: string } }).assignment;
        return assignment?.roleId === roleId && assignment.assignmentType === 'active';
      });
    expect(await ofRole()).toEqual([]);

    // Act: EventBridge comes back
    fault.remove();
    fault = undefined;
    await settle(server);

    // Assess: the event committed with the change is delivered after all
    const delivered = await ofRole();
    expect(delivered.map((e) => e.detailType)).toEqual(['elevate.assignment.activated']);
    expect(delivered[0]).toMatchObject({ source: 'elevate', eventBusName: 'elevate' });
  });
});
