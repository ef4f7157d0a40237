import { depsFromEnv } from '#shared/deps.ts';
import { invocationHandler } from '#shared/invocation.ts';
import { type BatchResponse, publishOutbox, type StreamRecord } from '#shared/usecases/outbox.ts';

/**
 * The table stream's consumer (only new outbox items reach it: the event source mapping filters on them): puts
 * each committed lifecycle event on the bus, and answers the records to retry (ReportBatchItemFailures).
 */
export const handler = invocationHandler(
  'outbox',
  async (event: { Records?: StreamRecord[] }): Promise<BatchResponse> =>
    publishOutbox(depsFromEnv().events, event.Records ?? []),
);
