/**
 * The DynamoDB I/O of an operation, as the store's client sends it: every call (its command, when it started and
 * ended, the capacity it consumed), and the round trips on the critical path. Calls in flight together count once:
 * a call's depth is one more than the deepest call that had ended before it started, and the round trips of an
 * operation are the deepest depth. Used by `npm run bench` (figures) and by tests that pin an operation's plan (the
 * count of round trips and the capacity are deterministic; no timing is ever asserted).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface IoCall {
  command: string;
  /** What it read or wrote, short: the table keys of a get, the key condition of a query, the items of a write. */
  what: string;
  start: number;
  end: number;
  depth: number;
  readUnits: number;
  writeUnits: number;
}

export interface IoPlan {
  calls: IoCall[];
  /** Sequential round trips on the critical path. */
  roundTrips: number;
  readUnits: number;
  writeUnits: number;
}

type Consumed = { CapacityUnits?: number } | { CapacityUnits?: number }[] | undefined;

const unitsOf = (c: Consumed): number =>
  Array.isArray(c) ? c.reduce((n, x) => n + (x.CapacityUnits ?? 0), 0) : (c?.CapacityUnits ?? 0);

const keyText = (key: Record<string, unknown> | undefined): string =>
  key ? `${String(key.pk ?? '')} ${String(key.sk ?? '')}`.trim() : '';

function describe(input: Record<string, unknown>): string {
  if ('TransactItems' in input) {
    const items = input.TransactItems as Record<
      string,
      { Item?: Record<string, unknown>; Key?: Record<string, unknown> }
    >[];
    return items
      .map((i) => {
        const [kind, body] = Object.entries(i)[0] as [
          string,
          { Item?: Record<string, unknown>; Key?: Record<string, unknown> },
        ];
        const size = body.Item ? ` (${JSON.stringify(body.Item).length} B)` : '';
        return `${kind} ${keyText(body.Item ?? body.Key)}${size}`;
      })
      .join('; ');
  }
  if ('RequestItems' in input) {
    const tables = Object.values(input.RequestItems as Record<string, { Keys?: Record<string, unknown>[] }>);
    return tables.flatMap((t) => (t.Keys ?? []).map(keyText)).join('; ');
  }
  if ('KeyConditionExpression' in input) {
    const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
    const index = input.IndexName ? `${String(input.IndexName)}: ` : '';
    const sk = values[':prefix'] !== undefined ? ` ${String(values[':prefix'])}…` : '';
    return `${index}${String(values[':pk'])}${sk}`;
  }
  return keyText(input.Key as Record<string, unknown> | undefined);
}

/**
 * Records every call the document client sends while a trace is open. `trace(fn)` runs `fn` and returns its
 * result with the plan of the calls made meanwhile (one trace at a time).
 */
export class IoTracer {
  #open: IoCall[] | undefined;

  constructor(doc: DynamoDBDocumentClient) {
    doc.middlewareStack.add(
      (next, context) => async (args) => {
        const calls = this.#open;
        if (!calls) return next(args);
        const call: IoCall = {
          command: String((context as { commandName?: string }).commandName ?? 'unknown').replace(/Command$/, ''),
          what: describe(args.input as Record<string, unknown>),
          start: performance.now(),
          end: Number.POSITIVE_INFINITY,
          depth: 0,
          readUnits: 0,
          writeUnits: 0,
        };
        calls.push(call);
        try {
          const out = await next(args);
          const consumed = unitsOf((out.output as { ConsumedCapacity?: Consumed }).ConsumedCapacity);
          if (/Write|Put|Update|Delete/.test(call.command)) {
            call.writeUnits = consumed;
          } else call.readUnits = consumed;
          return out;
        } finally {
          call.end = performance.now();
        }
      },
      { step: 'initialize', name: 'elevateIoTrace', override: true },
    );
  }

  async trace<T>(fn: () => Promise<T>): Promise<{ result: T; plan: IoPlan }> {
    if (this.#open) throw new Error('one trace at a time');
    const calls: IoCall[] = [];
    this.#open = calls;
    try {
      const result = await fn();
      return { result, plan: planOf(calls) };
    } finally {
      this.#open = undefined;
    }
  }
}

/** The critical path of calls: each call one deeper than the deepest one that had ended when it started. */
export function planOf(calls: IoCall[]): IoPlan {
  const ordered = [...calls].sort((a, b) => a.start - b.start);
  for (const c of ordered) {
    let before = 0;
    for (const d of ordered) if (d !== c && d.end <= c.start) before = Math.max(before, d.depth);
    c.depth = before + 1;
  }
  return {
    calls: ordered,
    roundTrips: ordered.reduce((n, c) => Math.max(n, c.depth), 0),
    readUnits: ordered.reduce((n, c) => n + c.readUnits, 0),
    writeUnits: ordered.reduce((n, c) => n + c.writeUnits, 0),
  };
}

/** The plan as lines: one per call, with its round trip, command, capacity and what it touched. */
export function formatPlan(plan: IoPlan): string {
  return plan.calls
    .map(
      (c) =>
        `  ${String(c.depth).padStart(2)}  ${c.command.padEnd(13)} ${`${c.readUnits || c.writeUnits}`.padStart(4)} ${c.writeUnits ? 'WCU' : 'RCU'}  ${c.what}`,
    )
    .join('\n');
}
