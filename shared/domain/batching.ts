/**
 * Packing changes into transactions (a review's removals): DynamoDB's TransactWriteItems holds at most 100 items,
 * under 4 MB, and touches each item once. Some items many changes share and merge into one write (a role's
 * live-assignment counter: one ADD of the batch's total); any other item two changes touch keeps them in separate
 * transactions.
 */

/** One change: the items it writes (by key), the ones of them that merge across changes, and its size in bytes. */
export interface BatchUnit {
  readonly items: readonly string[];
  readonly merged: readonly string[];
  readonly bytes: number;
}

export interface BatchLimits {
  /** Items per transaction (DynamoDB: 100). */
  readonly maxItems: number;
  /** Bytes per transaction (DynamoDB: 4 MB). */
  readonly maxBytes: number;
  /** Items and bytes every transaction also holds (the instance's step, audit chain heads). */
  readonly reservedItems: number;
  readonly reservedBytes: number;
}

/** DynamoDB's limits of one TransactWriteItems. */
export const TRANSACTION_ITEMS = 100;
export const TRANSACTION_BYTES = 4 * 1024 * 1024;

/**
 * The units, in their order, grouped into batches (indexes into `units`): a unit goes into the current batch when
 * the batch can take its items (a merged item counted once per batch) and bytes, and none of its own items is already
 * in the batch; otherwise it starts the next batch. A unit too big for any batch still gets one of its own (its
 * transaction then fails as it would alone).
 */
export function packBatches(units: readonly BatchUnit[], limits: BatchLimits): number[][] {
  const batches: number[][] = [];
  let current: number[] = [];
  let own = new Set<string>();
  let shared = new Set<string>();
  let items = limits.reservedItems;
  let bytes = limits.reservedBytes;
  const close = () => {
    if (current.length) batches.push(current);
    current = [];
    own = new Set();
    shared = new Set();
    items = limits.reservedItems;
    bytes = limits.reservedBytes;
  };
  units.forEach((u, index) => {
    const merged = new Set(u.merged);
    const ownItems = u.items.filter((k) => !merged.has(k));
    const fits = () =>
      items + ownItems.length + [...merged].filter((k) => !shared.has(k)).length <= limits.maxItems &&
      bytes + u.bytes <= limits.maxBytes &&
      ownItems.every((k) => !own.has(k) && !shared.has(k)) &&
      [...merged].every((k) => !own.has(k));
    if (current.length && !fits()) close();
    current.push(index);
    for (const k of ownItems) own.add(k);
    items += ownItems.length + [...merged].filter((k) => !shared.has(k)).length;
    for (const k of merged) shared.add(k);
    bytes += u.bytes;
  });
  close();
  return batches;
}
