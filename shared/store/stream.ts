import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { lifecycleDetailOf, PUBLISH_ATTR } from './audit-item.ts';
import { audit } from './entities.ts';
import type { Item } from './keyspace.ts';
import { OUTBOX_ENTITY, type OutboxRecord } from './records.ts';

/** One record of the table's stream, as Lambda (and the local stream poller) hands it over. */
export interface StreamRecord {
  eventName?: string;
  dynamodb?: { SequenceNumber?: string; NewImage?: Record<string, unknown> };
}

/**
 * The lifecycle event a stored item is, or undefined when it is none: an outbox item, or an audit event marked as
 * also being a lifecycle event (`PUBLISH_ATTR`, issue 18), its detail derived from the event as it was written.
 */
export function outboxRecordOfItem(item: Item): OutboxRecord | undefined {
  if (item.entity === OUTBOX_ENTITY && typeof item.type === 'string') {
    return {
      id: String(item.id),
      type: item.type,
      detail: (item.detail ?? {}) as Record<string, unknown>,
      time: String(item.time),
    };
  }
  const type = item[PUBLISH_ATTR];
  if (item.entity !== audit.name || typeof type !== 'string') return undefined;
  const e = audit.fromItem(item);
  const detail = lifecycleDetailOf(e, type);
  return detail && { id: e.id, type, detail, time: e.time };
}

/** The lifecycle event a stream record carries, or undefined when it carries none (or a removal). */
export function outboxRecordOf(record: StreamRecord): OutboxRecord | undefined {
  const image = record.dynamodb?.NewImage;
  if (record.eventName !== 'INSERT' || !image) return undefined;
  return outboxRecordOfItem(unmarshall(image as Record<string, AttributeValue>));
}
