/**
 * The registry of scheduled jobs the local runtime can run on demand (`POST /_local/schedules/{name}/run`)
 * or on the clock. Later work registers the jobs (`reviews`, `audit-export`, `reconcile`, `alerts`, `digest`)
 * from the same schedule table the CDK construct reads.
 */
export type ScheduledJob = () => Promise<unknown>;

const jobs = new Map<string, ScheduledJob>();

/** Register (or replace) the job run under `name`. Returns a function that removes it. */
export function registerSchedule(name: string, job: ScheduledJob): () => void {
  jobs.set(name, job);
  return () => {
    if (jobs.get(name) === job) jobs.delete(name);
  };
}

/** The job named `name`, if any. */
export function scheduledJob(name: string): ScheduledJob | undefined {
  return jobs.get(name);
}

/** The names of every registered job. */
export function scheduleNames(): string[] {
  return [...jobs.keys()].sort();
}
