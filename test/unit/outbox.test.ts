import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { matchesPattern } from '#infra/local/streams.ts';
import { OUTBOX_STREAM_FILTERS } from '#infra/outbox-filter.ts';
import type { LifecycleEvent } from '#shared/ports/events.ts';
import { PUBLISH_ATTR } from '#shared/store/audit-item.ts';
import { ops } from '#shared/store/records.ts';
import { publishOutbox, type StreamRecord } from '#shared/usecases/outbox.ts';
import * as s from '#test/support/record-samples.ts';

type AuditPut = { Put: { Item: Record<string, unknown> } };

const now = new Date('2026-05-01T10:00:00Z');
const insert = (item: Record<string, unknown>, sequence: string): StreamRecord => ({
  eventName: 'INSERT',
  dynamodb: { SequenceNumber: sequence, NewImage: marshall(item, { removeUndefinedValues: true }) },
});
const outboxItem = (n: number) =>
  (ops.publish({ type: 'elevate.request.created', detail: { n } }, now) as { Put: { Item: Record<string, unknown> } })
    .Put.Item;

describe('publishOutbox', () => {
  it('puts every outbox item on the bus in order, ten per call, and nothing else', async () => {
    // Prepare
    const calls: LifecycleEvent[][] = [];
    const records = [
      ...Array.from({ length: 12 }, (_, n) => insert(outboxItem(n), String(100 + n))),
      insert({ pk: 'ROLE#r', sk: 'ROLE', entity: 'role' }, '200'),
      { eventName: 'REMOVE', dynamodb: { SequenceNumber: '201' } },
    ];

    // Act
    const out = await publishOutbox({ publish: async (e) => void calls.push(e) }, records);

    // Assess
    expect(out).toEqual({ batchItemFailures: [] });
    expect(calls.map((c) => c.length)).toEqual([10, 2]);
    expect(calls.flat().map((e) => e.detail.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(calls[0]?.[0]).toEqual({ type: 'elevate.request.created', detail: { n: 0 } });
  });

  it('stops at the first refused call and names its first record, so the shard is retried from there', async () => {
    // Prepare
    let call = 0;
    const records = Array.from({ length: 15 }, (_, n) => insert(outboxItem(n), String(300 + n)));

    // Act
    const out = await publishOutbox(
      {
        publish: async () => {
          if (++call === 2) throw new Error('eventbridge is down');
        },
      },
      records,
    );

    // Assess
    expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: '310' }] });
    expect(call).toBe(2);
  });
});

describe('lifecycle events of audit events (issue 18)', () => {
  const { auditEvent } = s;
  const request = { id: 'req-1', status: 'Granted' };
  const marked = {
    ...auditEvent,
    hash: 'c'.repeat(64),
    action: 'request.created',
    details: { request },
  };
  const markedItem = (ops.audit(marked, [{ type: 'elevate.request.created', detail: { request } }]) as AuditPut).Put
    .Item;
  // One change, one audit event (cut 3): an activation at once is its request's creation and its activation.
  const assignment = { id: 'asg-1', status: 'Active' };
  const activation = {
    ...marked,
    action: 'assignment.activated',
    target: { ...marked.target, requestId: request.id, assignmentId: assignment.id },
    details: { assignment, request },
  };
  const bothEvents: LifecycleEvent[] = [
    { type: 'elevate.request.created', detail: { request } },
    { type: 'elevate.assignment.activated', detail: { assignment, requestId: request.id } },
  ];
  const bothItem = (ops.audit(activation, [...bothEvents].reverse()) as AuditPut).Put.Item;
  const unmarkedItem = (ops.audit(marked) as AuditPut).Put.Item;

  it('publishes a marked audit event as its lifecycle event, and an unmarked one not at all', async () => {
    // Prepare
    const calls: LifecycleEvent[][] = [];

    // Act
    const out = await publishOutbox({ publish: async (e) => void calls.push(e) }, [
      insert(unmarkedItem, '1'),
      insert(markedItem, '2'),
      insert(outboxItem(7), '3'),
    ]);

    // Assess
    expect(out).toEqual({ batchItemFailures: [] });
    expect(calls).toEqual([
      [
        { type: 'elevate.request.created', detail: { request } },
        { type: 'elevate.request.created', detail: { n: 7 } },
      ],
    ]);
  });

  it('publishes every lifecycle event of one marked audit event, in order, once each', async () => {
    // Prepare
    const calls: LifecycleEvent[][] = [];

    // Act
    const out = await publishOutbox({ publish: async (e) => void calls.push(e) }, [
      insert(outboxItem(1), '1'),
      insert(bothItem, '2'),
      insert(outboxItem(2), '3'),
    ]);

    // Assess
    expect(out).toEqual({ batchItemFailures: [] });
    expect(calls).toEqual([
      [
        { type: 'elevate.request.created', detail: { n: 1 } },
        ...bothEvents,
        { type: 'elevate.request.created', detail: { n: 2 } },
      ],
    ]);
  });

  it('names the record whose second event the bus refused, so both are put again (at least once)', async () => {
    // Prepare: nine outbox items, then the two events of one audit event: the tenth and the eleventh.
    const records = [
      ...Array.from({ length: 9 }, (_, n) => insert(outboxItem(n), String(10 + n))),
      insert(bothItem, '19'),
    ];
    let call = 0;

    // Act
    const out = await publishOutbox(
      {
        publish: async () => {
          if (++call === 2) throw new Error('eventbridge is down');
        },
      },
      records,
    );

    // Assess
    expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: '19' }] });
  });

  it('lets the stream filters through: outbox items and marked audit events, nothing else', () => {
    // Prepare
    const passes = (item: Record<string, unknown>) =>
      OUTBOX_STREAM_FILTERS.some((f) => matchesPattern(insert(item, '1'), f));

    // Act, Assess
    expect(passes(markedItem)).toBe(true);
    expect(passes(bothItem)).toBe(true);
    expect(passes({ ...markedItem, [PUBLISH_ATTR]: 'elevate.request.created' })).toBe(true);
    expect(passes({ ...markedItem, [PUBLISH_ATTR]: new Set(['elevate.request.approved']) })).toBe(false);
    expect(passes(outboxItem(1))).toBe(true);
    expect(passes(unmarkedItem)).toBe(false);
    expect(passes({ ...markedItem, entity: 'request' })).toBe(false);
    expect(passes({ ...markedItem, [PUBLISH_ATTR]: 'elevate.request.approved' })).toBe(false);
  });
});
