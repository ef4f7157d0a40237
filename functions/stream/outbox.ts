import { depsFromEnv } from '#shared/deps.ts';
import { withRequestId } from '#shared/log.ts';
import { type BatchResponse, publishOutbox, type StreamRecord } from '#shared/usecases/outbox.ts';

/**
 * The table stream's consumer (only new outbox items reach it: the event source mapping filters on them): puts
 * each committed lifecycle event on the bus, and answers the records to retry (ReportBatchItemFailures).
 */
export const handler = withRequestId(
  async (event: { Records?: StreamRecord[] }): Promise<BatchResponse> =>
    publishOutbox(depsFromEnv().events, event.Records ?? []),
);
