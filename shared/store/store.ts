import { createHash, randomUUID } from 'node:crypto';
import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { AUDIT_SHARDS, type ChainHead, chainId, dayOf, linkEvents } from '../domain/audit-chain.ts';
import { isServerFault, isTransportError, policy, retry, retryOn, SDK_MAX_ATTEMPTS } from '../retry.ts';
import { ChainHeadsMoved, classifyCancellation, ItemsBusy } from './cancellation.ts';
import { decodeCursor, encodeCursor, type Key, queryFingerprint } from './pagination.ts';
import {
  cursorBounds,
  type Item,
  keys,
  ops,
  partitionAttr,
  positionOf,
  type QueryPart,
  sortAttr,
  type WriteOp,
} from './records.ts';

export interface Page<T> {
  items: T[];
  nextToken: string | null;
}

export interface PageRequest<T> {
  limit: number;
  nextToken?: string | undefined;
  /** Kept items only (applied after the read; the page may then hold fewer than `limit`). */
  filter?: (item: Item) => boolean;
  map: (item: Item) => T;
  consistent?: boolean;
}

/** Calls made, for benchmarks and tests that count the work behind an operation. */
export interface StoreStats {
  reads: number;
  writes: number;
  readUnits: number;
  writeUnits: number;
}

const MAX_READS_PER_PAGE = 10;
/** A transaction that met another on the same item (a hot role counter under load), or was throttled. */
const BUSY = policy(10, 40, 800);
/** Only an audit chain head moved (another writer appended to the same chain first): linked again at once. */
const HEAD_MOVED = policy(12, 10, 120);
/** One transaction sent again after the SDK gave up on a lost answer (its ClientRequestToken makes it safe). */
const ANSWER_LOST = policy(3, 100, 200);
/** Keys a BatchGetItem left unprocessed (throttled), asked for again. */
const UNPROCESSED = policy(8, 50, 3_200);

/**
 * An audit chain picked, and its head being read, ahead of a transaction (`Store.prepareChain`): the call reads the
 * head while it reads what its change needs, instead of after. Used by the transaction's first try only.
 */
export interface PreparedChain {
  day: string;
  chain: string;
  head: Promise<ChainHead | null>;
}

/** Thrown by a BatchGetItem that left keys unprocessed, to ask for them again. */
class KeysUnprocessed extends Error {}

/**
 * The ClientRequestToken of a transaction: derived from the call that makes it (`call`, a random id per
 * `Store.transact`) and what it writes (a hash, 36 characters). Every send of it, the SDK's retries and the
 * store's own resends, is the same request to DynamoDB for 10 minutes: a repeat of a committed one answers success
 * instead of failing its own conditions. Another call writing the very same items (two reconcile runs, two review
 * job runs) has another token, so its conditions are evaluated and exactly one wins. A retry that writes
 * something else (audit events linked to a moved chain head) gets a new token.
 */
export function transactionToken(call: string, items: TransactWriteCommandInput['TransactItems']): string {
  return createHash('sha256').update(call).update('\n').update(JSON.stringify(items)).digest('base64url').slice(0, 36);
}

/** The answer was lost (a time-out, a dropped connection, a server error): the transaction may have committed. */
const answerLost = (error: unknown): boolean =>
  !(error instanceof TransactionCanceledException) && (isServerFault(error) || isTransportError(error));

/**
 * The DynamoDB adapter: executes the key recipes and conditions of records.ts. It owns no key strings
 * itself; it turns failed conditions into the domain errors the records name, and pages through one or
 * more partitions behind opaque cursors.
 */
export class Store {
  readonly stats: StoreStats = { reads: 0, writes: 0, readUnits: 0, writeUnits: 0 };

  constructor(
    readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  static fromEnv(tableName: string, client = new DynamoDBClient({ maxAttempts: SDK_MAX_ATTEMPTS })): Store {
    return new Store(
      DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
      tableName,
    );
  }

  async get(key: Item, consistent = true): Promise<Item | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: key,
        ConsistentRead: consistent,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    this.count('read', out.ConsumedCapacity?.CapacityUnits);
    return out.Item;
  }

  /** The items of `keyList` that exist, 100 keys per BatchGetItem (strongly consistent unless `consistent` is false). */
  async getMany(keyList: Item[], consistent = true): Promise<Item[]> {
    const found: Item[] = [];
    for (let i = 0; i < keyList.length; i += 100) {
      let keys = keyList.slice(i, i + 100);
      await retry(
        async () => {
          const out: BatchGetCommandOutput = await this.doc.send(
            new BatchGetCommand({
              RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: consistent } },
              ReturnConsumedCapacity: 'TOTAL',
            }),
          );
          this.count(
            'read',
            out.ConsumedCapacity?.reduce((n, c) => n + (c.CapacityUnits ?? 0), 0),
          );
          found.push(...(out.Responses?.[this.tableName] ?? []));
          keys = (out.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Item[];
          if (keys.length) throw new KeysUnprocessed(`dynamodb kept ${keys.length} keys unprocessed`);
        },
        retryOn(UNPROCESSED, (e) => e instanceof KeysUnprocessed),
      );
    }
    return found;
  }

  /**
   * One TransactWriteItems. A failed condition becomes the error its op names (or a 409);
   * a conflict with another transaction in flight is retried with backoff, then a 409.
   */
  async transact(givenOps: WriteOp[], opts: { chain?: PreparedChain } = {}): Promise<void> {
    if (givenOps.length === 0) return;
    const call = randomUUID();
    let prepared = opts.chain;
    await retry(
      () => {
        // A prepared head serves the first try only: a retry reads the head of a chain picked again.
        const chain = prepared;
        prepared = undefined;
        return this.transactOnce(givenOps, call, chain);
      },
      (e) => (e instanceof ChainHeadsMoved ? HEAD_MOVED : e instanceof ItemsBusy ? BUSY : undefined),
    );
  }

  /**
   * Picks the audit chain of `now`'s day for a transaction to come and starts reading its head (strongly
   * consistent), so the read runs beside the call's other reads. Pass it to `transact({ chain })`. A failed read
   * surfaces there (it is never an unhandled rejection); an unused one costs one read.
   */
  prepareChain(now: Date): PreparedChain {
    const day = dayOf(now.toISOString());
    const chain = chainId(day, Math.floor(Math.random() * AUDIT_SHARDS));
    const head = this.readHead(chain);
    head.catch(() => {});
    return { day, chain, head };
  }

  private async readHead(chain: string): Promise<ChainHead | null> {
    const item = await this.get(keys.auditHead(chain));
    return item ? { hash: String(item.hash), seq: Number(item.seq) } : null;
  }

  /** One try of `transact`: its cancellation classified (cancellation.ts) into the error that says what to do. */
  private async transactOnce(givenOps: WriteOp[], call: string, prepared?: PreparedChain): Promise<void> {
    // Audit events are linked into their chains on every try, from heads read now (see linkAudit).
    const writeOps = await this.linkAudit(givenOps, prepared);
    if (writeOps.length > 100) throw new Error(`a transaction holds at most 100 items, not ${writeOps.length}`);
    const items = writeOps.map((op) => {
      const { onConflict: _ignored, audit: _audit, publishes: _publishes, liveCount: _count, ...item } = op;
      const [kind, body] = Object.entries(item)[0] as [string, Record<string, unknown>];
      return { [kind]: { TableName: this.tableName, ...body } };
    }) as TransactWriteCommandInput['TransactItems'];
    const input: TransactWriteCommandInput = {
      TransactItems: items,
      ClientRequestToken: transactionToken(call, items),
      ReturnConsumedCapacity: 'TOTAL',
    };
    try {
      const out = await this.sendTransaction(input);
      this.count(
        'write',
        out.ConsumedCapacity?.reduce((n, c) => n + (c.CapacityUnits ?? 0), 0),
      );
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const cancellation = classifyCancellation(error.CancellationReasons ?? [], writeOps);
      switch (cancellation.kind) {
        case 'headMoved':
          throw new ChainHeadsMoved();
        case 'busy':
          throw new ItemsBusy();
        case 'refused':
          throw cancellation.error;
        case 'other':
          throw error;
      }
    }
  }

  /**
   * One TransactWriteItems. When the SDK gave up because every answer was lost, the same transaction (same token)
   * is sent again, a few times: if it had committed, DynamoDB answers success and the caller goes on to its
   * after-commit steps; if it had not, it commits now.
   */
  private sendTransaction(input: TransactWriteCommandInput) {
    return retry(() => this.doc.send(new TransactWriteCommand(input)), retryOn(ANSWER_LOST, answerLost));
  }

  /**
   * The hash chain, resolved here so that no use case has to know about it. The transaction's audit events are
   * grouped by UTC day; each group goes to one chain `<day>#<shard>`, the shard picked at random per try (so
   * concurrent writers seldom meet on a head, and a retry after a moved head likely lands elsewhere). The head is
   * read (strongly consistent), the events get seq, previousHash and a new hash, and the head's Put joins the
   * transaction under the condition that it is still what was read. Ops without an audit event pass unchanged.
   */
  private async linkAudit(writeOps: WriteOp[], prepared?: PreparedChain): Promise<WriteOp[]> {
    const audited = writeOps.filter((op) => op.audit);
    if (audited.length === 0) return writeOps;
    const byDay = new Map<string, NonNullable<WriteOp['audit']>[]>();
    for (const op of audited) {
      const e = op.audit as NonNullable<WriteOp['audit']>;
      byDay.set(dayOf(e.time), [...(byDay.get(dayOf(e.time)) ?? []), e]);
    }
    // The lifecycle event an audit event also is stays with it (ops.audit marks the linked event's item again).
    const publishes = new Map(audited.map((op) => [op.audit?.id, op.publishes]));
    const linked = new Map<string, WriteOp>();
    const heads: WriteOp[] = [];
    for (const [day, events] of byDay) {
      const ready = prepared?.day === day ? prepared : undefined;
      const chain = ready?.chain ?? chainId(day, Math.floor(Math.random() * AUDIT_SHARDS));
      const head = await (ready?.head ?? this.readHead(chain));
      const out = linkEvents(events, chain, head);
      for (const e of out.events) linked.set(e.id, ops.audit(e, publishes.get(e.id)));
      heads.push(ops.auditHead(chain, out.head, head?.seq ?? null));
      // The first event of a chain marks its day as having events (the listing skips days without).
      if (!head) heads.push(ops.auditDay(day));
    }
    return [...writeOps.map((op) => (op.audit ? (linked.get(op.audit.id) as WriteOp) : op)), ...heads];
  }

  /** Every item of a query in its order, one page at a time (memory stays flat whatever the size). */
  async *stream(q: QueryPart, consistent = false): AsyncGenerator<Item> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          ...this.queryInput(q),
          ExclusiveStartKey: startKey,
          ConsistentRead: !q.index && consistent,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      this.count('read', out.ConsumedCapacity?.CapacityUnits);
      for (const item of out.Items ?? []) yield item as Item;
      startKey = out.LastEvaluatedKey;
    } while (startKey);
  }

  /**
   * The items of several partitions that share one sort order (all forward or all backward), merged into that
   * order by sort key: one stream. Each partition is read a page at a time (`pageSize` items), the first pages in
   * parallel; with `prefetch`, each partition's next page is asked for as soon as one arrives (an export, which
   * reads everything), otherwise only when the merge needs it (a listing, which stops after a page).
   *
   * With `windowMs` (forward parts whose range is [ISO time, ...]: the audit partitions), each page is a Query of a
   * time window of the range rather than of the rest of the range, the window resized after each page to hold about
   * `pageSize` items. The cost of a page then stays the same however deep into the partition it is: DynamoDB Local
   * reads the whole key range of a Query before applying its Limit (and before skipping to ExclusiveStartKey), so
   * a long export read page after page of the rest of its range slowed down as the partition grew.
   */
  async *merge(
    parts: QueryPart[],
    opts: { pageSize: number; prefetch?: boolean; consistent?: boolean; windowMs?: number },
  ): AsyncGenerator<Item> {
    if (parts.length === 0) return;
    const forward = parts[0]?.forward ?? true;
    if (parts.some((q) => (q.forward ?? true) !== forward || q.index !== parts[0]?.index)) {
      throw new Error('merge: every part must share the index and the direction');
    }
    const skName = sortAttr(parts[0]?.index);
    const query = async (q: QueryPart, startKey: Record<string, unknown> | undefined) => {
      const out = await this.doc.send(
        new QueryCommand({
          ...this.queryInput(q),
          Limit: opts.pageSize,
          ExclusiveStartKey: startKey,
          ConsistentRead: !q.index && (opts.consistent ?? false),
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      this.count('read', out.ConsumedCapacity?.CapacityUnits);
      return { items: (out.Items ?? []) as Item[], key: out.LastEvaluatedKey };
    };
    /** The pages of one range, by ExclusiveStartKey. */
    async function* pagesOf(q: QueryPart): AsyncGenerator<Item[]> {
      let key: Record<string, unknown> | undefined;
      do {
        const page = await query(q, key);
        key = page.key;
        yield page.items;
      } while (key);
    }
    const windowed = (q: QueryPart): boolean =>
      Boolean(opts.windowMs && forward && q.between && !Number.isNaN(Date.parse(q.between[0])));
    /** The pages of a forward time range, window by window (each window paged as above when it is full). */
    async function* windowsOf(q: QueryPart): AsyncGenerator<Item[]> {
      const [lo, hi] = q.between as [string, string];
      let from = lo;
      let width = opts.windowMs as number;
      while (from <= hi) {
        const end = new Date(Date.parse(from.slice(0, 24)) + width).toISOString();
        const last = end >= hi;
        let n = 0;
        // [from, end): a sort key `<end>#<id>` sorts after `end`, so it falls in the next window.
        for await (const items of pagesOf({ ...q, between: [from, last ? hi : end] })) {
          n += items.length;
          yield items;
        }
        if (last) return;
        from = end;
        width = Math.max(1_000, Math.round(width * Math.min(8, Math.max(0.25, opts.pageSize / Math.max(n, 1)))));
      }
    }
    interface Source {
      pages: AsyncGenerator<Item[]>;
      items: Item[];
      at: number;
      next: Promise<IteratorResult<Item[]>> | null;
    }
    /** A page asked for ahead: its failure surfaces where it is awaited, never as an unhandled rejection. */
    const ask = (s: Source): Promise<IteratorResult<Item[]>> => {
      const p = s.pages.next();
      p.catch(() => {});
      return p;
    };
    /** Makes the source's current item available, reading pages until one has items or there is none left. */
    const fill = async (s: Source): Promise<void> => {
      while (s.at >= s.items.length) {
        const page = await (s.next ?? ask(s));
        s.next = null;
        if (page.done) {
          s.items = [];
          s.at = 0;
          return;
        }
        s.items = page.value;
        s.at = 0;
        if (opts.prefetch) s.next = ask(s);
      }
    };
    const sources: Source[] = parts.map((q) => ({
      pages: windowed(q) ? windowsOf(q) : pagesOf(q),
      items: [],
      at: 0,
      next: null,
    }));
    for (const s of sources) s.next = ask(s);
    await Promise.all(sources.map(fill));
    try {
      for (;;) {
        let best: Source | undefined;
        let bestKey = '';
        for (const s of sources) {
          if (s.at >= s.items.length) continue;
          const key = String((s.items[s.at] as Item)[skName]);
          if (!best || (forward ? key < bestKey : key > bestKey)) {
            best = s;
            bestKey = key;
          }
        }
        if (!best) return;
        const item = best.items[best.at] as Item;
        best.at++;
        yield item;
        if (best.at >= best.items.length) await fill(best);
      }
    } finally {
      // A consumer that stops early (a full listing page) leaves no reads running on.
      await Promise.allSettled(sources.map((s) => s.pages.return(undefined)));
    }
  }

  /**
   * Pages through `parts` in order (one query, or several partitions read one after another), applying
   * `filter` and stopping at `limit` items or after a bounded number of reads.
   */
  async page<T>(parts: QueryPart[], req: PageRequest<T>): Promise<Page<T>> {
    const fingerprint = queryFingerprint(parts);
    let part = 0;
    let startKey: Key | undefined;
    if (req.nextToken) {
      const cursor = decodeCursor(req.nextToken, fingerprint, (p) => {
        const q = parts[p];
        return q && cursorBounds(q);
      });
      part = cursor.part;
      startKey = cursor.key ?? undefined;
    }
    const items: T[] = [];
    let reads = 0;
    while (part < parts.length) {
      const q = parts[part] as QueryPart;
      const want = req.limit - items.length;
      const out = await this.doc.send(
        new QueryCommand({
          ...this.queryInput(q),
          Limit: req.filter ? Math.min(200, Math.max(want * 2, 25)) : want,
          ExclusiveStartKey: startKey,
          ConsistentRead: !q.index && (req.consistent ?? false),
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      reads++;
      this.count('read', out.ConsumedCapacity?.CapacityUnits);
      const raw = out.Items ?? [];
      for (let i = 0; i < raw.length; i++) {
        const item = raw[i] as Item;
        if (req.filter && !req.filter(item)) continue;
        items.push(req.map(item));
        const morePending = i < raw.length - 1 || out.LastEvaluatedKey !== undefined || part < parts.length - 1;
        if (items.length === req.limit && morePending) {
          return { items, nextToken: encodeCursor(fingerprint, part, positionOf(item, q.index)) };
        }
      }
      if (out.LastEvaluatedKey) {
        startKey = out.LastEvaluatedKey as Key;
      } else {
        part++;
        startKey = undefined;
      }
      if (reads >= MAX_READS_PER_PAGE && part < parts.length) {
        return { items, nextToken: encodeCursor(fingerprint, part, startKey ?? null) };
      }
    }
    return { items, nextToken: null };
  }

  /** All items of one query (for small, bounded sets such as a principal's live slots). */
  async all(q: QueryPart, consistent = true): Promise<Item[]> {
    const items: Item[] = [];
    for await (const item of this.stream(q, consistent)) items.push(item);
    return items;
  }

  private queryInput(q: QueryPart): QueryCommandInput {
    const pkName = partitionAttr(q.index);
    const skName = sortAttr(q.index);
    const names: Record<string, string> = { '#pk': pkName };
    const values: Record<string, unknown> = { ':pk': q.pk };
    let condition = '#pk = :pk';
    if (q.beginsWith !== undefined) {
      names['#sk'] = skName;
      values[':prefix'] = q.beginsWith;
      condition += ' AND begins_with(#sk, :prefix)';
    } else if (q.between) {
      names['#sk'] = skName;
      values[':lo'] = q.between[0];
      values[':hi'] = q.between[1];
      condition += ' AND #sk BETWEEN :lo AND :hi';
    }
    return {
      TableName: this.tableName,
      IndexName: q.index,
      KeyConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: q.forward ?? true,
    };
  }

  private count(kind: 'read' | 'write', units: number | undefined): void {
    if (kind === 'read') {
      this.stats.reads++;
      this.stats.readUnits += units ?? 0;
    } else {
      this.stats.writes++;
      this.stats.writeUnits += units ?? 0;
    }
  }
}
