/**
 * The schedule: one table read by node-cron on Node and by the Worker's scheduled() handler. Each job reads
 * the clock once and passes it down. A job whose feature has not landed says so in the log and does nothing.
 */
import type { Deps } from "./deps";

export interface JobContext {
  deps: Deps;
  /** The instant this run stands for (read once from the clock). */
  now: number;
}

export interface Job {
  name: string;
  /** Five-field cron expression, in UTC. */
  cron: string;
  run(ctx: JobContext): Promise<void>;
}

function notConfiguredYet(name: string, what: string): Job["run"] {
  return async ({ deps }) => {
    deps.log.info({ job: name }, `${what} is not configured yet: nothing to do`);
  };
}

export const JOBS: readonly Job[] = [
  { name: "sync", cron: "*/15 * * * *", run: notConfiguredYet("sync", "ledger sync") },
  { name: "score", cron: "30 1 * * *", run: notConfiguredYet("score", "credit scoring") },
  { name: "remind", cron: "5 * * * *", run: notConfiguredYet("remind", "the reminder engine") },
  { name: "digest", cron: "0 * * * 1", run: notConfiguredYet("digest", "the weekly digest") },
];

/** Runs one job by name, logging (not throwing) its failure so one bad job never stops the scheduler. */
export async function runJob(job: Job, deps: Deps): Promise<boolean> {
  const now = deps.clock.now();
  try {
    await job.run({ deps, now });
    return true;
  } catch (err) {
    deps.log.error({ err, job: job.name }, "job failed");
    return false;
  }
}
