import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';

/**
 * Lifecycle events for provisioners (the systems that apply access): `elevate.request.*` and
 * `elevate.assignment.activated|expired|revoked` on the Elevate bus. Schema: docs/events.md.
 */
export interface LifecycleEvent {
  type: string;
  detail: Record<string, unknown>;
}

export interface EventPublisher {
  publish(events: LifecycleEvent[]): Promise<void>;
}

export const EVENT_SOURCE = 'elevate';

export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly busName: string,
    /** Public for tests, which add middleware to it (fault injection). */
    readonly client = new EventBridgeClient({}),
  ) {}

  async publish(events: LifecycleEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += 10) {
      const batch = events.slice(i, i + 10);
      const out = await this.client.send(
        new PutEventsCommand({
          Entries: batch.map((e) => ({
            EventBusName: this.busName,
            Source: EVENT_SOURCE,
            DetailType: e.type,
            Detail: JSON.stringify(e.detail),
          })),
        }),
      );
      if (out.FailedEntryCount)
        throw new Error(`eventbridge refused ${out.FailedEntryCount} of ${batch.length} events`);
    }
  }
}
