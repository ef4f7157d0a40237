/**
 * The local runtime's start and stop as an ordered list of phases (DynamoDB Local, the clock, each AWS stand-in, the
 * workflow runner, the stream, the HTTP server, the scheduler...): started in order, and stopped in the reverse
 * order, both when a later phase fails to start and when the runtime stops. Never deployed.
 */

/** One part of the local runtime: what starting it does, and what undoes it. */
export interface Phase {
  /** What the phase starts (in a failure's message). */
  readonly name: string;
  start(): Promise<void> | void;
  /** Undoes `start`; called only once `start` succeeded, at most once. @default - nothing to undo */
  stop?(): Promise<void> | void;
}

/** Phases that started, to be stopped in reverse order. */
export interface StartedPhases {
  /**
   * Stops every started phase, last first. A phase that fails to stop does not keep the others running: each is
   * stopped, and the first failure is thrown at the end. Called again, it answers the first call's outcome.
   */
  stop(): Promise<void>;
}

/** Stops `started` last first; every phase is stopped even when one fails, and the first failure is thrown. */
async function stopAll(started: readonly Phase[]): Promise<void> {
  const failures: unknown[] = [];
  for (const phase of [...started].reverse()) {
    try {
      await phase.stop?.();
    } catch (error) {
      failures.push(new Error(`stopping ${phase.name} failed: ${String(error)}`, { cause: error }));
    }
  }
  if (failures.length > 0) throw failures[0];
}

/**
 * Starts the phases in order. When one fails, those already started are stopped (last first) and its error is thrown
 * (a failure to stop one of them is logged, not thrown over it).
 */
export async function startPhases(phases: readonly Phase[]): Promise<StartedPhases> {
  const started: Phase[] = [];
  for (const phase of phases) {
    try {
      await phase.start();
    } catch (error) {
      await stopAll(started).catch((cleanup: unknown) => console.error('[elevate-local]', cleanup));
      throw error;
    }
    started.push(phase);
  }
  let stopping: Promise<void> | undefined;
  return {
    stop: () => {
      stopping ??= stopAll(started);
      return stopping;
    },
  };
}
