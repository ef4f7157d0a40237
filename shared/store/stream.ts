import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { lifecycleDetailOf, markedTypes, PUBLISH_ATTR } from './audit-item.ts';
import { audit } from './entities.ts';
import type { Item } from './keyspace.ts';
import { OUTBOX_ENTITY, type OutboxRecord } from './records.ts';

/** One record of the table's stream, as Lambda (and the local stream poller) hands it over. */
export interface StreamRecord {
  eventName?: string;
  dynamodb?: { SequenceNumber?: string; NewImage?: Record<string, unknown> };
}

/**
 * The lifecycle events a stored item is, none when it is none: an outbox item (one), or an audit event marked as
 * also being lifecycle events (`PUBLISH_ATTR`, issue 18: each detail-type it names, in `LIFECYCLE_OF_AUDIT`'s
 * order, each with the event's id and time), every detail derived from the event as it was written.
 */
export function outboxRecordsOfItem(item: Item): OutboxRecord[] {
  if (item.entity === OUTBOX_ENTITY && typeof item.type === 'string') {
    return [
      {
        id: String(item.id),
        type: item.type,
        detail: (item.detail ?? {}) as Record<string, unknown>,
        time: String(item.time),
      },
    ];
  }
  const types = item.entity === audit.name ? markedTypes(item[PUBLISH_ATTR]) : [];
  if (types.length === 0) return [];
  const e = audit.fromItem(item);
  return types.flatMap((type) => {
    const detail = lifecycleDetailOf(e, type);
    return detail ? [{ id: e.id, type, detail, time: e.time }] : [];
  });
}

/** The lifecycle events a stream record carries: none when it carries none (or is a removal). */
export function outboxRecordsOf(record: StreamRecord): OutboxRecord[] {
  const image = record.dynamodb?.NewImage;
  if (record.eventName !== 'INSERT' || !image) return [];
  return outboxRecordsOfItem(unmarshall(image as Record<string, AttributeValue>));
}
