import { describe, expect, it } from 'vitest';
import { type BatchLimits, packBatches, TRANSACTION_BYTES, TRANSACTION_ITEMS } from '#shared/domain/batching.ts';
import { itemOf, mergeLiveCounts, ops } from '#shared/store/records.ts';

const limits: BatchLimits = {
  maxItems: TRANSACTION_ITEMS,
  maxBytes: TRANSACTION_BYTES,
  reservedItems: 4,
  reservedBytes: 0,
};

/** A removal of assignment `id` of role `role`: its record, live slot, request, 2 events, and the role counter. */
const removal = (id: string, role = 'r', bytes = 1_000) => ({
  items: [`asg#${id}`, `live#${id}`, `req#${id}`, `audit#${id}a`, `audit#${id}b`, `role#${role}`],
  merged: [`role#${role}`],
  bytes,
});

describe('packBatches', () => {
  it('fills each transaction up to 100 items, the shared counter counted once per batch', () => {
    // Prepare: 5 own items each, 1 counter per batch, 4 reserved: (100 - 4 - 1) / 5 = 19 per batch
    const units = Array.from({ length: 40 }, (_, k) => removal(`a${k}`));
    // Act
    const batches = packBatches(units, limits);
    // Assess
    expect(batches.map((b) => b.length)).toEqual([19, 19, 2]);
    expect(batches.flat()).toEqual(units.map((_, k) => k));
  });

  it('counts each role’s counter once per batch it appears in', () => {
    // Prepare: alternate roles: 2 counters per batch: (100 - 4 - 2) / 5 = 18 (with a remainder of 4)
    const units = Array.from({ length: 20 }, (_, k) => removal(`a${k}`, k % 2 ? 'x' : 'y'));
    // Act
    const batches = packBatches(units, limits);
    // Assess
    expect(batches.map((b) => b.length)).toEqual([18, 2]);
  });

  it('never puts two changes of one (unmerged) item into a batch', () => {
    // Prepare: the 2nd and the 3rd release the same AWS reference
    const units = [removal('a'), { ...removal('b'), items: [...removal('b').items, 'ref#1'] }, removal('c')];
    units[2] = { ...removal('c'), items: [...removal('c').items, 'ref#1'] };
    // Act
    const batches = packBatches(units, limits);
    // Assess
    expect(batches).toEqual([[0, 1], [2]]);
  });

  it('keeps a change that writes an item another merges (a counter set outright) out of that batch', () => {
    // Prepare
    const units = [removal('a', 'r'), { items: ['role#r'], merged: [], bytes: 10 }];
    // Act / Assess
    expect(packBatches(units, limits)).toEqual([[0], [1]]);
  });

  it('starts a new batch before 4 MB', () => {
    // Prepare: 1.5 MB each
    const units = Array.from({ length: 5 }, (_, k) => removal(`a${k}`, 'r', 1.5 * 1024 * 1024));
    // Act / Assess
    expect(packBatches(units, limits)).toEqual([[0, 1], [2, 3], [4]]);
  });

  it('gives a change too big for any batch one of its own, and nothing to pack nothing', () => {
    // Prepare
    const big = { items: Array.from({ length: 120 }, (_, k) => `i${k}`), merged: [], bytes: 1 };
    // Act / Assess
    expect(packBatches([removal('a'), big, removal('b')], limits)).toEqual([[0], [1], [2]]);
    expect(packBatches([], limits)).toEqual([]);
  });
});

describe('mergeLiveCounts and itemOf (the store side of a packed batch)', () => {
  it('merges each role’s counter updates into one, their sum, and leaves other ops alone', () => {
    // Prepare
    const other = ops.liveCount('b', -1);
    const writes = [ops.liveCount('a', -1), other, ops.liveCount('a', -2), ops.liveCount('b', 1)];
    // Act
    const merged = mergeLiveCounts(writes);
    // Assess: a's two become one of -3; b's cancel out, so none
    expect(merged.map((w) => w.liveCount)).toEqual([{ roleId: 'a', n: -3 }]);
    expect(merged.map(itemOf)).toEqual([itemOf(ops.liveCount('a', 0))]);
    expect(merged[0]).toMatchObject({ Update: { ExpressionAttributeValues: { ':minus': -3 } } });
  });

  it('names the item each op touches by its table key', () => {
    // Act / Assess
    expect(itemOf(ops.liveCount('r', -1))).toBe('ROLE#r|ROLE');
    expect(new Set([itemOf(ops.liveCount('r', -1)), itemOf(ops.liveCount('s', -1))]).size).toBe(2);
  });
});
