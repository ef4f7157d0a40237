/**
 * The local stand-in for Lambda's DynamoDB stream event source mapping: reads the table's stream in DynamoDB
 * Local (which supports streams) and hands the records that pass the mapping's filter to the same handler the
 * deployed stack runs (the outbox publisher), in order per shard, honouring its partial batch response: a record
 * it names is read again at the next pass, with everything after it. So locally too every committed lifecycle
 * event reaches the bus at least once.
 *
 * DynamoDB Local's streams API is spoken as plain JSON (`DynamoDBStreams_20120810.*`); DynamoDB Local accepts
 * any credentials, so requests carry a placeholder Authorization header instead of a signature.
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** A stream record as DynamoDB Streams (and Lambda) give it. */
export interface LocalStreamRecord {
  eventID?: string;
  eventName?: string;
  dynamodb?: { SequenceNumber?: string; NewImage?: Record<string, unknown>; [key: string]: unknown };
  [key: string]: unknown;
}

export interface LocalStreamOptions {
  readonly endpoint: string;
  readonly tableName: string;
  readonly region: string;
  /** The event source mapping's filter patterns, any of them (only literal-value lists, as OUTBOX_STREAM_FILTERS). */
  readonly filters: readonly Readonly<Record<string, unknown>>[];
  /** The consumer: Lambda's handler contract, answering the records to retry. */
  readonly deliver: (records: LocalStreamRecord[]) => Promise<{ batchItemFailures?: { itemIdentifier: string }[] }>;
  /** How often the background loop reads the stream. @default 100 ms */
  readonly intervalMs?: number;
  /** Records per delivery. @default 100 */
  readonly batchSize?: number;
}

/**
 * Whether a record matches an EventBridge-style pattern of literal-value lists (nested objects descend). As in
 * EventBridge, a value that is an array (a string set's `SS`) matches a list when any of its elements is listed.
 */
export function matchesPattern(value: unknown, pattern: unknown): boolean {
  if (Array.isArray(pattern)) {
    return Array.isArray(value) ? value.some((v) => pattern.includes(v)) : pattern.some((p) => p === value);
  }
  if (typeof pattern !== 'object' || pattern === null) return false;
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(pattern).every(([key, sub]) => matchesPattern((value as Record<string, unknown>)[key], sub));
}

interface ShardState {
  /** The iterator to read next, or null once the shard is closed and read to its end. */
  iterator: string | null;
}

export class LocalStreamPoller {
  readonly #opts: LocalStreamOptions;
  readonly #shards = new Map<string, ShardState>();
  #streamArn: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #pass: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(opts: LocalStreamOptions) {
    this.#opts = opts;
  }

  /** Finds the table's stream and starts reading it in the background. */
  async start(): Promise<void> {
    const client = new DynamoDBClient({ endpoint: this.#opts.endpoint, region: this.#opts.region });
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: this.#opts.tableName }));
      this.#streamArn = Table?.LatestStreamArn;
    } finally {
      client.destroy();
    }
    if (!this.#streamArn) throw new Error(`table ${this.#opts.tableName} has no stream; the template declares one`);
    this.#timer = setInterval(() => {
      this.drain().catch((error: unknown) => console.warn(`[elevate-local] stream: ${String(error)}`));
    }, this.#opts.intervalMs ?? 100);
    this.#timer.unref();
  }

  /**
   * Resolves after one full pass over the stream that began after this call: every record committed before the
   * call has been delivered, unless the consumer refused it (then it waits for a later pass).
   */
  drain(): Promise<void> {
    const next = this.#pass.then(() => (this.#stopped ? undefined : this.#readAll()));
    this.#pass = next.catch(() => undefined);
    return next;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#pass;
  }

  async #readAll(): Promise<void> {
    const streamArn = this.#streamArn as string;
    const description = (await this.#call('DescribeStream', { StreamArn: streamArn })) as {
      StreamDescription?: { Shards?: { ShardId: string }[] };
    };
    for (const { ShardId } of description.StreamDescription?.Shards ?? []) {
      if (!this.#shards.has(ShardId)) {
        const { ShardIterator } = (await this.#call('GetShardIterator', {
          StreamArn: streamArn,
          ShardId,
          ShardIteratorType: 'TRIM_HORIZON',
        })) as { ShardIterator?: string };
        this.#shards.set(ShardId, { iterator: ShardIterator ?? null });
      }
      await this.#readShard(streamArn, ShardId, this.#shards.get(ShardId) as ShardState);
    }
  }

  async #readShard(streamArn: string, shardId: string, shard: ShardState): Promise<void> {
    while (shard.iterator !== null) {
      const out = (await this.#call('GetRecords', { ShardIterator: shard.iterator, Limit: 1000 })) as {
        Records?: LocalStreamRecord[];
        NextShardIterator?: string;
      };
      const records = out.Records ?? [];
      const failed = await this.#deliver(records);
      if (failed !== undefined) {
        // Read again from the refused record at the next pass (Lambda retries the shard from there).
        const { ShardIterator } = (await this.#call('GetShardIterator', {
          StreamArn: streamArn,
          ShardId: shardId,
          ShardIteratorType: 'AT_SEQUENCE_NUMBER',
          SequenceNumber: failed,
        })) as { ShardIterator?: string };
        shard.iterator = ShardIterator ?? null;
        return;
      }
      shard.iterator = out.NextShardIterator ?? null;
      if (records.length === 0) return;
    }
  }

  /** Delivers the matching records in batches; the sequence number to read again from, if one was refused. */
  async #deliver(records: LocalStreamRecord[]): Promise<string | undefined> {
    const matching = records
      .filter((r) => this.#opts.filters.some((f) => matchesPattern(r, f)))
      .map((r) => ({
        ...r,
        eventSource: 'aws:dynamodb',
        awsRegion: this.#opts.region,
        eventSourceARN: this.#streamArn,
      }));
    const size = this.#opts.batchSize ?? 100;
    for (let i = 0; i < matching.length; i += size) {
      const batch = matching.slice(i, i + size);
      let failures: { itemIdentifier: string }[];
      try {
        failures = (await this.#opts.deliver(batch)).batchItemFailures ?? [];
      } catch {
        // A function error: the whole batch is retried.
        return batch[0]?.dynamodb?.SequenceNumber;
      }
      if (failures.length > 0) {
        const sequences = failures.map((f) => f.itemIdentifier);
        return sequences.reduce((a, b) => (BigInt(b) < BigInt(a) ? b : a));
      }
    }
    return undefined;
  }

  async #call(target: string, body: Record<string, unknown>): Promise<unknown> {
    const res = await fetch(this.#opts.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDBStreams_20120810.${target}`,
        authorization: `AWS4-HMAC-SHA256 Credential=local/20260101/${this.#opts.region}/dynamodb/aws4_request, SignedHeaders=host, Signature=local`,
      },
      body: JSON.stringify(body),
    });
    const answer: unknown = await res.json();
    if (!res.ok) throw new Error(`dynamodb streams ${target}: ${res.status} ${JSON.stringify(answer)}`);
    return answer;
  }
}
