/** Latency sampling for the bench: an operation and its floor, interleaved, timed with performance.now(). */

export interface Sample {
  n: number;
  p50: number;
  p99: number;
  mean: number;
}

/** Nearest-rank percentile of ascending values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

export function summarize(values: readonly number[]): Sample {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / (sorted.length || 1);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean };
}

/**
 * One iteration's work: whatever is synchronous in `prepare` (building the event, a fresh principal) stays
 * outside the timer; only the returned thunk is timed.
 */
export type Step = (i: number) => () => Promise<unknown>;

export interface PairOptions {
  warmup: number;
  iterations: number;
  op: Step;
  floor: Step;
  /** Called once, after the warm-up and before the first timed iteration (e.g. to snapshot counters). */
  onTimedStart?: () => void;
}

/**
 * Runs op and floor alternately (op first on even iterations, floor first on odd ones), so drift in
 * DynamoDB Local (JIT, GC, growing tables) lands on both sides alike and the ratio stays meaningful.
 */
export async function pair(opts: PairOptions): Promise<{ op: Sample; floor: Sample }> {
  const opTimes: number[] = [];
  const floorTimes: number[] = [];
  const time = async (step: Step, i: number, into: number[] | undefined) => {
    const run = step(i);
    const started = performance.now();
    await run();
    const ms = performance.now() - started;
    into?.push(ms);
  };
  for (let i = 0; i < opts.warmup + opts.iterations; i++) {
    const timed = i >= opts.warmup;
    if (i === opts.warmup) opts.onTimedStart?.();
    if (i % 2 === 0) {
      await time(opts.op, i, timed ? opTimes : undefined);
      await time(opts.floor, i, timed ? floorTimes : undefined);
    } else {
      await time(opts.floor, i, timed ? floorTimes : undefined);
      await time(opts.op, i, timed ? opTimes : undefined);
    }
  }
  return { op: summarize(opTimes), floor: summarize(floorTimes) };
}
