import { errorFields, log } from '../log.ts';
import type { EventPublisher, LifecycleEvent } from '../ports/events.ts';
import { outboxRecordsOf, type StreamRecord } from '../store/stream.ts';

export type { StreamRecord };

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
    // An audit event may be several lifecycle events (a request created and its activation): each is put.
    for (const event of outboxRecordsOf(record))
      pending.push({ sequence: record.dynamodb?.SequenceNumber ?? '', event });
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
