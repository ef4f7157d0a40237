import { OUTBOX_ENTITY } from '#shared/store/records.ts';

/**
 * The outbox publisher's event source mapping filter (an EventBridge-style pattern on the stream record): only new
 * outbox items reach the publisher. The local stream poller applies the same pattern. Kept apart from the construct
 * (constructs/outbox.ts) so that the local runtime reads it without importing the CDK.
 */
export const OUTBOX_STREAM_FILTER = {
  eventName: ['INSERT'],
  dynamodb: { NewImage: { entity: { S: [OUTBOX_ENTITY] } } },
} as const;
