import { DERIVED_LIFECYCLE_TYPES, PUBLISH_ATTR } from '#shared/store/audit-item.ts';
import { OUTBOX_ENTITY, stored } from '#shared/store/records.ts';

/**
 * The outbox publisher's event source mapping filters (EventBridge-style patterns on the stream record, any of them):
 * only new outbox items and new audit events marked as lifecycle events (`PUBLISH_ATTR`, issue 18) reach the
 * publisher. The local stream poller applies the same patterns. Kept apart from the construct (constructs/outbox.ts)
 * so that the local runtime reads them without importing the CDK.
 */
export const OUTBOX_STREAM_FILTERS = [
  { eventName: ['INSERT'], dynamodb: { NewImage: { entity: { S: [OUTBOX_ENTITY] } } } },
  {
    eventName: ['INSERT'],
    dynamodb: { NewImage: { entity: { S: [stored.audit.name] }, [PUBLISH_ATTR]: { S: DERIVED_LIFECYCLE_TYPES } } },
  },
] as const;
