import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStreamPoller } from '#infra/local/streams.ts';
import { OUTBOX_STREAM_FILTERS } from '#infra/outbox-filter.ts';
import { depsFromEnv } from '#shared/deps.ts';
import type { Assignment } from '#shared/domain/assignment.ts';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import type { LifecycleEvent } from '#shared/ports/events.ts';
import { keys, ops, queries, stored } from '#shared/store/records.ts';
import { bootstrap } from '#shared/usecases/bootstrap.ts';
import { auditEvent } from '#shared/usecases/context.ts';
import { publishOutbox } from '#shared/usecases/outbox.ts';
import { call } from '#test/support/invoke.ts';
import { createTestTable, TEST_REGION } from '#test/support/table.ts';

/**
 * The lifecycle events of an activation, an assignment and a removal are published from their audit events (issue
 * 18, cut 1: no outbox item of their own), one audit event per change (cut 3: the request's creation and the
 * change's own, both from it). Through the table's stream, its filters and the publisher as deployed (the local
 * stand-in of the event source mapping): the same events as the outbox items made, once each.
 */
const deps = () => depsFromEnv();
const published: LifecycleEvent[] = [];
let poller: LocalStreamPoller;

beforeAll(async () => {
  const { tableName, endpoint } = await createTestTable({ stream: true });
  await bootstrap(deps(), ['admin']);
  poller = new LocalStreamPoller({
    endpoint,
    tableName,
    region: TEST_REGION,
    filters: OUTBOX_STREAM_FILTERS,
    deliver: (records) => publishOutbox({ publish: async (events) => void published.push(...events) }, records),
  });
  await poller.start();
  const role = { id: 'ev-role', displayName: 'Events', privileged: false };
  expect((await call('POST', '/v1/roles', { as: 'admin', body: role })).status).toBe(201);
});

afterAll(async () => {
  await poller?.stop();
});

/** What was published about one request (by the request's id in its detail), by detail-type. */
const about = (requestId: string) =>
  published
    .filter(
      (e) => (e.detail.request as { id?: string } | undefined)?.id === requestId || e.detail.requestId === requestId,
    )
    .sort((a, b) => (a.type < b.type ? -1 : 1));

const assignmentOf = async (id: string): Promise<Assignment> =>
  stored.assignment.fromItem((await deps().store.get(keys.assignment(id))) as Record<string, unknown>);

/** The audit events that name a request (its creation recorded in the change's one event, or its own). */
const auditOf = async (principalId: string, requestId: string) =>
  (await call('GET', `/v1/audit-events?principalId=${principalId}`, { as: 'admin' })).body.items.filter(
    (e: { target: { requestId: string | null } }) => e.target.requestId === requestId,
  );

const outboxOfToday = async () =>
  (await deps().store.all(queries.outbox(new Date().toISOString().slice(0, 10)))).map((i) => stored.outbox.fromItem(i));

describe('lifecycle events published from audit events', () => {
  it('publishes an activation as before: elevate.request.created and elevate.assignment.activated, once each', async () => {
    // Prepare
    const assign = { action: 'adminAssign', assignmentType: 'eligible', principalId: 'ev-alice', roleId: 'ev-role' };
    expect((await call('POST', '/v1/requests', { as: 'admin', body: assign })).status).toBe(201);
    const outboxBefore = (await outboxOfToday()).length;

    // Act
    const activated = await call('POST', '/v1/requests', {
      as: 'ev-alice',
      body: {
        action: 'selfActivate',
        assignmentType: 'active',
        roleId: 'ev-role',
        justification: 'events',
        schedule: { expiration: { type: 'afterDuration', duration: 'PT1H' } },
      },
    });
    expect(activated.status, JSON.stringify(activated.body)).toBe(201);
    await poller.drain();

    // Assess: the events the outbox items said (detail-type and detail), nothing else, and no outbox item.
    const request = activated.body;
    expect(about(request.id)).toEqual([
      {
        type: 'elevate.assignment.activated',
        detail: { assignment: await assignmentOf(request.assignmentId), requestId: request.id },
      },
      { type: 'elevate.request.created', detail: { request } },
    ]);
    expect((await outboxOfToday()).length).toBe(outboxBefore);
  });

  it('writes one audit event for a self-activation, its request recorded in it, and publishes both events from it', async () => {
    // Prepare
    const assign = { action: 'adminAssign', assignmentType: 'eligible', principalId: 'ev-erin', roleId: 'ev-role' };
    expect((await call('POST', '/v1/requests', { as: 'admin', body: assign })).status).toBe(201);
    const outboxBefore = (await outboxOfToday()).length;

    // Act
    const activated = await call('POST', '/v1/requests', {
      as: 'ev-erin',
      body: { action: 'selfActivate', assignmentType: 'active', roleId: 'ev-role', justification: 'one event' },
    });
    expect(activated.status, JSON.stringify(activated.body)).toBe(201);
    await poller.drain();

    // Assess: exactly one audit event of the change, which is both lifecycle events, each published once.
    const request = activated.body;
    const assignment = await assignmentOf(request.assignmentId);
    const events = await auditOf('ev-erin', request.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: 'assignment.activated',
      target: { principalId: 'ev-erin', roleId: 'ev-role', assignmentId: assignment.id, requestId: request.id },
      details: { assignment, request },
    });
    expect(about(request.id)).toEqual([
      { type: 'elevate.assignment.activated', detail: { assignment, requestId: request.id } },
      { type: 'elevate.request.created', detail: { request } },
    ]);
    expect((await outboxOfToday()).length).toBe(outboxBefore);
  });

  it('publishes a removal as before from its one audit event: its request created, its assignment revoked', async () => {
    // Prepare
    const assign = { action: 'adminAssign', assignmentType: 'eligible', principalId: 'ev-frank', roleId: 'ev-role' };
    const assigned = await call('POST', '/v1/requests', { as: 'admin', body: assign });
    expect(assigned.status).toBe(201);
    const outboxBefore = (await outboxOfToday()).length;

    // Act
    const removed = await call('POST', '/v1/requests', {
      as: 'admin',
      body: { ...assign, action: 'adminRemove', justification: 'left the team' },
    });
    expect(removed.status, JSON.stringify(removed.body)).toBe(201);
    await poller.drain();

    // Assess
    const request = removed.body;
    const assignment = await assignmentOf(assigned.body.assignmentId);
    expect(assignment.status).toBe('Revoked');
    const events = await auditOf('ev-frank', request.id);
    expect(events.map((e: { action: string }) => e.action)).toEqual(['assignment.revoked']);
    expect(events[0].details).toEqual({ assignment, request });
    const revoked = published.filter(
      (e) => e.type === 'elevate.assignment.revoked' && (e.detail.assignment as Assignment).id === assignment.id,
    );
    expect(revoked).toEqual([{ type: 'elevate.assignment.revoked', detail: { assignment } }]);
    expect(about(request.id)).toEqual([{ type: 'elevate.request.created', detail: { request } }]);
    expect((await outboxOfToday()).length).toBe(outboxBefore);
  });

  it('publishes an assignment, active or eligible, as before: its request created, its assignment activated', async () => {
    // Act
    const active = await call('POST', '/v1/requests', {
      as: 'admin',
      body: {
        action: 'adminAssign',
        assignmentType: 'active',
        principalId: 'ev-bob',
        roleId: 'ev-role',
        justification: 'events',
      },
    });
    const eligible = await call('POST', '/v1/requests', {
      as: 'admin',
      body: { action: 'adminAssign', assignmentType: 'eligible', principalId: 'ev-carol', roleId: 'ev-role' },
    });
    expect([active.status, eligible.status]).toEqual([201, 201]);
    await poller.drain();

    // Assess
    for (const { body } of [active, eligible]) {
      expect(about(body.id)).toEqual([
        {
          type: 'elevate.assignment.activated',
          detail: { assignment: await assignmentOf(body.assignmentId), requestId: body.id },
        },
        { type: 'elevate.request.created', detail: { request: body } },
      ]);
    }
  });

  it('publishes nothing of a marked audit event whose transaction failed', async () => {
    // Prepare: a marked event in a transaction that cannot commit (the request it creates exists), and one that can.
    const stale = await call('POST', '/v1/requests', {
      as: 'admin',
      body: { action: 'adminAssign', assignmentType: 'eligible', principalId: 'ev-dave', roleId: 'ev-role' },
    });
    expect(stale.status).toBe(201);
    await poller.drain();
    const marked = (requestId: string) => {
      const request = { ...stale.body, id: requestId };
      const target = { principalId: 'ev-dave', roleId: 'ev-role', requestId };
      const e = auditEvent(new Date(), SYSTEM_ACTOR, 'request.created', target, { request });
      return ops.audit(e, [{ type: 'elevate.request.created', detail: { request } }]);
    };
    const record = stored.request.fromItem((await deps().store.get(keys.request(stale.body.id))) as never);

    // Act
    const failed = deps().store.transact([marked('req_failed'), ops.createRequest(record)]);
    await expect(failed).rejects.toThrow();
    await deps().store.transact([marked('req_committed')]);
    await poller.drain();

    // Assess
    expect(about('req_failed')).toEqual([]);
    expect(about('req_committed').map((e) => e.type)).toEqual(['elevate.request.created']);
  });
});
