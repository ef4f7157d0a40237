/**
 * The local event bus: the entries EventBridge PutEvents would have put on the bus, kept in memory for
 * `GET /_local/events` (the stand-in itself is in aws-standins.ts).
 */
export interface LocalEvent {
  /** The id PutEvents answered with. */
  readonly id: string;
  readonly eventBusName: string;
  readonly source: string;
  readonly detailType: string;
  /** The entry's Detail, parsed (the raw string when it is not JSON). */
  readonly detail: unknown;
  /** ISO 8601: the entry's Time, else the process clock's time when it was put. */
  readonly time: string;
}

const events: LocalEvent[] = [];

/** Record a put event. */
export function add(event: LocalEvent): void {
  events.push(event);
}

/** Every event put since start (or since the last `clear`), oldest first. */
export function list(): readonly LocalEvent[] {
  return [...events];
}

/** Forget every event (tests). */
export function clear(): void {
  events.length = 0;
}
