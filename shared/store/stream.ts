import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { OUTBOX_ENTITY, type OutboxRecord } from './records.ts';

/** One record of the table's stream, as Lambda (and the local stream poller) hands it over. */
export interface StreamRecord {
  eventName?: string;
  dynamodb?: { SequenceNumber?: string; NewImage?: Record<string, unknown> };
}

/** The outbox item a stream record carries, or undefined when it carries something else (or a removal). */
export function outboxRecordOf(record: StreamRecord): OutboxRecord | undefined {
  const image = record.dynamodb?.NewImage;
  if (record.eventName !== 'INSERT' || !image) return undefined;
  const item = unmarshall(image as Record<string, AttributeValue>);
  if (item.entity !== OUTBOX_ENTITY || typeof item.type !== 'string') return undefined;
  return {
    id: String(item.id),
    type: item.type,
    detail: (item.detail ?? {}) as Record<string, unknown>,
    time: String(item.time),
  };
}
