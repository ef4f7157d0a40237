import { DERIVED_LIFECYCLE_TYPES, PUBLISH_ATTR } from '#shared/store/audit-item.ts';
import { OUTBOX_ENTITY, stored } from '#shared/store/records.ts';

/**
 * The outbox publisher's event source mapping filters (EventBridge-style patterns on the stream record, any of them):
 * only new outbox items and new audit events marked as lifecycle events (`PUBLISH_ATTR`, issue 18) reach the
 * publisher: marked with a string set of detail-types (one audit event per change may be several lifecycle events:
 * a pattern's value list matches a set when any of its members is listed), or with one detail-type as a string
 * (items marked before). The local stream poller applies the same patterns. Kept apart from the construct
 * (constructs/outbox.ts) so that the local runtime reads them without importing the CDK.
 */
const markedAudit = (type: 'S' | 'SS') =>
  ({
    eventName: ['INSERT'],
    dynamodb: { NewImage: { entity: { S: [stored.audit.name] }, [PUBLISH_ATTR]: { [type]: DERIVED_LIFECYCLE_TYPES } } },
  }) as const;

export const OUTBOX_STREAM_FILTERS = [
  { eventName: ['INSERT'], dynamodb: { NewImage: { entity: { S: [OUTBOX_ENTITY] } } } },
  markedAudit('SS'),
  markedAudit('S'),
] as const;
