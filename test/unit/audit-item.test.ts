import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { type AuditEvent, eventHash, eventOfChange } from '#shared/domain/audit.ts';
import { linkEvents, verifyEvents } from '#shared/domain/audit-chain.ts';
import { csvRow, jsonLine } from '#shared/domain/audit-format.ts';
import { newId } from '#shared/ids.ts';
import { DETAILS_DICTIONARY_SHA256, PUBLISH_ATTR } from '#shared/store/audit-item.ts';
import { ops, stored } from '#shared/store/records.ts';
import { outboxRecordsOfItem } from '#shared/store/stream.ts';
import { auditEvent } from '#shared/usecases/context.ts';
import { activatedEvent } from '#shared/usecases/lifecycle.ts';
import { presentRequest } from '#shared/usecases/request-records.ts';
import { itemSize } from '#test/support/item-size.ts';
import * as s from '#test/support/record-samples.ts';

const now = new Date('2026-12-03T10:15:00.123Z');
const itemOf = (e: AuditEvent, publishes?: Parameters<typeof ops.audit>[1]) =>
  (ops.audit(e, publishes) as { Put: { Item: Record<string, unknown> } }).Put.Item;

/**
 * An activation's two audit events as the handler wrote them before cut 3 (ids and names of real lengths), linked,
 * and its one event as it writes it now (`one`: the activation's, recording the request).
 */
function activation() {
  const request = { ...s.request, id: newId('req', now), createdBy: 'bench-sc-000000', principalId: 'bench-sc-000000' };
  const assignment = {
    ...s.assignment,
    id: newId('asg', now),
    principalId: 'bench-sc-000000',
    requestId: request.id,
    eligibilityId: newId('asg', now),
    justification: 'bench: an activation',
  };
  const granted = { ...request, status: 'Granted' as const, assignmentId: assignment.id };
  const shown = presentRequest(granted);
  const target = { principalId: 'bench-sc-000000', roleId: 'bench-role-3', scope: '/', requestId: request.id };
  const actor = { id: 'bench-sc-000000', type: 'user' as const };
  const created = auditEvent(now, actor, 'request.created', target, { request: shown });
  const activated = auditEvent(
    now,
    actor,
    'assignment.activated',
    { ...target, assignmentId: assignment.id },
    {
      assignment,
    },
  );
  const { events } = linkEvents([created, activated], '2026-12-03#3', { hash: 'a'.repeat(64), seq: 41 });
  const change = { action: 'assignment.activated', target: activated.target, details: { assignment } };
  const draft = eventOfChange({ target: { ...target, assignmentId: assignment.id }, request: shown }, change);
  const [one] = linkEvents([auditEvent(now, actor, draft.action, draft.target, draft.details)], '2026-12-03#3', {
    hash: 'a'.repeat(64),
    seq: 41,
  }).events as [AuditEvent];
  return { events: events as [AuditEvent, AuditEvent], one, shown, granted, assignment };
}

/** An item as written before issue 18: every attribute of the event beside the keys. */
function oldFormat(e: AuditEvent): Record<string, unknown> {
  const { entity, pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, gsi3pk, gsi3sk } = itemOf(e);
  return { pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, gsi3pk, gsi3sk, entity, ...e };
}

describe('the stored form of an audit event', () => {
  it('keeps the dictionary of compressed details frozen (every stored detailsZ needs it)', () => {
    expect(DETAILS_DICTIONARY_SHA256()).toBe('e8b743d19310ba7a11b05b5d60bc3335141a144b58ad56fd8bb6483282e2b0f1');
  });

  it('reads back the event it was written from, whose hash still verifies', () => {
    // Prepare
    const { events } = activation();

    // Act
    const read = events.map((e) => stored.audit.fromItem(unmarshall(marshall(itemOf(e)))));

    // Assess
    expect(read).toEqual(events);
    expect(verifyEvents(read.map((event, i) => ({ event, at: String(i) }))).breaks).toEqual([]);
    const { hash, ...body } = read[1] as AuditEvent;
    expect(eventHash(body)).toBe(hash);
  });

  it('is under 1 KB as DynamoDB counts it for both events of an activation (was 1,240 and 1,358 B)', () => {
    // Prepare
    const { events, shown, granted, assignment } = activation();

    // Act
    const sizes = [
      itemSize(itemOf(events[0], [{ type: 'elevate.request.created', detail: { request: shown } }])),
      itemSize(itemOf(events[1], [activatedEvent(granted, assignment)])),
    ];
    const before = events.map((e) => itemSize(oldFormat(e)));

    // Assess
    for (const size of sizes) expect(size).toBeLessThan(800);
    for (const size of before) expect(size).toBeGreaterThan(1024);
  });

  it('keeps the one event of an activation (its request and its assignment, both lifecycle events) under 1 KB', () => {
    // Prepare
    const { one, shown, granted, assignment } = activation();
    const publishes = [
      { type: 'elevate.request.created', detail: { request: shown } },
      activatedEvent(granted, assignment),
    ];

    // Act
    const size = itemSize(itemOf(one, publishes));

    // Assess: one item billed as one KB (2 WCU in a transaction), where the two events were two.
    expect(size).toBeLessThan(900);
  });

  it('does not store what its keys hold: id, time, chain, the actor id, the target principal and role', () => {
    // Prepare
    const { events } = activation();

    // Act
    const item = itemOf(events[1]);

    // Assess
    for (const attr of ['id', 'time', 'chain', 'details']) expect(item).not.toHaveProperty(attr);
    expect(item.actor).toBe('user');
    expect(item.target).toEqual({
      scope: '/',
      assignmentId: events[1].target.assignmentId,
      requestId: expect.any(String),
    });
    expect(item.hash).toBeInstanceOf(Uint8Array);
    expect((item.hash as Uint8Array).byteLength).toBe(32);
    expect(item.detailsZ).toBeInstanceOf(Uint8Array);
  });

  it('keeps small details as a map, a null previous hash absent, a target without principal or role', () => {
    // Prepare
    const first = { ...s.auditEvent, hash: 'b'.repeat(64), details: { n: 1 } };
    const anonymous = { ...first, target: { ...first.target, principalId: null, roleId: null } };

    // Act
    const item = itemOf(anonymous);

    // Assess
    expect(item.details).toEqual({ n: 1 });
    expect(item).not.toHaveProperty('previousHash');
    expect(stored.audit.fromItem(item)).toEqual(anonymous);
    expect(stored.audit.fromItem(itemOf(first))).toEqual(first);
  });

  it('reads an item written before the compact form (every attribute of the event) as it was', () => {
    // Prepare
    const { events } = activation();
    const old = unmarshall(marshall(oldFormat(events[0])));

    // Act
    const read = stored.audit.fromItem(old);

    // Assess
    expect(read).toEqual(events[0]);
    expect(jsonLine(read)).toBe(jsonLine(stored.audit.fromItem(itemOf(events[0]))));
    expect(csvRow(read)).toBe(csvRow(stored.audit.fromItem(itemOf(events[0]))));
  });

  it('reads the binary attributes of a stream record (base64 in the JSON Lambda hands over)', () => {
    // Prepare
    const { events } = activation();
    const image = marshall(itemOf(events[1]), { removeUndefinedValues: true });
    const asJson = JSON.parse(
      JSON.stringify(image, (_k, v) =>
        v instanceof Uint8Array || v?.type === 'Buffer' ? Buffer.from(v).toString('base64') : v,
      ),
    );

    // Act
    const read = stored.audit.fromItem(unmarshall(asJson));

    // Assess
    expect(read).toEqual(events[1]);
  });

  it('marks an audit event that is also a lifecycle event, never in the event, and refuses a detail it lacks', () => {
    // Prepare
    const { events, shown, granted, assignment } = activation();
    const publishes = [activatedEvent(granted, assignment)];

    // Act
    const item = itemOf(events[1], publishes);

    // Assess
    expect(item[PUBLISH_ATTR]).toEqual(new Set(['elevate.assignment.activated']));
    expect(stored.audit.fromItem(item)).toEqual(events[1]);
    expect(stored.audit.fromItem(oldFormat(events[1]))).not.toHaveProperty(PUBLISH_ATTR);
    expect(() => itemOf(events[0], publishes)).toThrow(/does not carry/);
    expect(() => itemOf(events[1], [{ type: 'elevate.request.created', detail: { request: shown } }])).toThrow(
      /does not carry/,
    );
    expect(() => itemOf(events[1], [{ type: 'elevate.request.approved', detail: { requestId: granted.id } }])).toThrow(
      /does not carry/,
    );
  });

  it('marks the one event of a change as every lifecycle event it is, each derived from it, once each', () => {
    // Prepare
    const { one, shown, granted, assignment } = activation();
    const created = { type: 'elevate.request.created', detail: { request: shown } };
    const activated = activatedEvent(granted, assignment);

    // Act
    const item = itemOf(one, [activated, created]);
    const read = outboxRecordsOfItem(unmarshall(marshall(item)));

    // Assess: published in LIFECYCLE_OF_AUDIT's order (a set has none), each with the event's id and time.
    expect(item[PUBLISH_ATTR]).toEqual(new Set(['elevate.assignment.activated', 'elevate.request.created']));
    expect(stored.audit.fromItem(item)).toEqual(one);
    expect(read).toEqual([
      { id: one.id, time: one.time, ...created },
      { id: one.id, time: one.time, ...activated },
    ]);
    expect(() => itemOf(one, [created, created])).toThrow(/twice/);
    const revoked = {
      type: 'elevate.assignment.revoked',
      detail: { assignment: { ...assignment, status: 'Revoked' } },
    };
    expect(() => itemOf(one, [created, revoked])).toThrow(/does not carry/);
  });

  it('reads an item marked before with one detail-type (a string) as that lifecycle event', () => {
    // Prepare
    const { events, shown } = activation();
    const item = { ...itemOf(events[0]), [PUBLISH_ATTR]: 'elevate.request.created' };

    // Act
    const read = outboxRecordsOfItem(item);

    // Assess
    expect(read).toEqual([
      { id: events[0].id, time: events[0].time, type: 'elevate.request.created', detail: { request: shown } },
    ]);
  });
});
