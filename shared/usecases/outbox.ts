import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { errorFields, log } from '../http/log.ts';
import type { EventPublisher, LifecycleEvent } from '../ports/events.ts';
import { OUTBOX_ENTITY, type OutboxRecord } from '../store/records.ts';

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

/** The records to retry: Lambda's partial batch response (`ReportBatchItemFailures`). */
export interface BatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

const PUT_EVENTS_MAX = 10;

/**
 * Publishes the outbox items of a batch of stream records, in order, ten per PutEvents. At the first batch the bus
 * refuses (or that fails), it stops and names that record: Lambda (and the local poller) retries the shard from it,
 * so nothing after a failure is skipped (a retry may publish an event twice; provisioners confirm with
 * GET /v1/access). A batch still refused after the stream mapping's retries (20, within a day) goes to the
 * dead-letter queue as a position; its items stay in the table 7 days for a replay (docs/events.md).
 */
export async function publishOutbox(events: EventPublisher, records: readonly StreamRecord[]): Promise<BatchResponse> {
  const pending: { sequence: string; event: LifecycleEvent }[] = [];
  for (const record of records) {
    const outbox = outboxRecordOf(record);
    if (outbox) pending.push({ sequence: record.dynamodb?.SequenceNumber ?? '', event: outbox });
  }
  for (let i = 0; i < pending.length; i += PUT_EVENTS_MAX) {
    const batch = pending.slice(i, i + PUT_EVENTS_MAX);
    try {
      await events.publish(batch.map((p) => ({ type: p.event.type, detail: p.event.detail })));
    } catch (error) {
      log('warn', 'lifecycle events not published yet; the stream retries them', {
        events: batch.length,
        firstSequence: batch[0]?.sequence,
        ...errorFields(error),
      });
      return { batchItemFailures: [{ itemIdentifier: batch[0]?.sequence ?? '' }] };
    }
  }
  return { batchItemFailures: [] };
}
