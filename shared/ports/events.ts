import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SDK_MAX_ATTEMPTS } from '../retry.ts';
import { lazyClient } from './lazy.ts';

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
  /** The SDK is loaded on first use (see lazy.ts). */
  readonly #bus = lazyClient(
    () => import('@aws-sdk/client-eventbridge'),
    (m) => new m.EventBridgeClient({ maxAttempts: SDK_MAX_ATTEMPTS }),
  );

  constructor(private readonly busName: string) {}

  /** The client (public for tests, which add middleware to it: fault injection). */
  client(): Promise<EventBridgeClient> {
    return this.#bus.client();
  }

  async publish(events: LifecycleEvent[]): Promise<void> {
    const { sdk, client } = await this.#bus.get();
    for (let i = 0; i < events.length; i += 10) {
      const batch = events.slice(i, i + 10);
      const out = await client.send(
        new sdk.PutEventsCommand({
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
