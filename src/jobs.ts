/**
 * The schedule: one table read by node-cron on Node and by the Worker's scheduled() handler. Each job reads
 * the clock once and passes it down. A job whose feature has not landed says so in the log and does nothing.
 */
import type { Deps } from "./deps";
import { warmSummaryLogged } from "./scoring/warm-summary";
import { listOrgs } from "./store/orgs";
import { runSyncJob } from "./sync/sync-connections";

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

/**
 * Hourly: each organisation's reminders, judged at this instant. Each customer is only written to inside its
 * own sending window, so the hourly runs together cover every timezone's working day.
 */
async function runRemindJob({ deps, now }: JobContext): Promise<void> {
  const { config, log } = deps;
  if (!config.SMTP_URL || !config.MAIL_FROM) {
    log.info({ job: "remind" }, "SMTP_URL and MAIL_FROM are not set: no reminders are sent");
    return;
  }
  // Loaded on first use: the Worker bundle need not carry nodemailer and the templates until it sends.
  const { createSmtpMailer } = await import("./mail/smtp-mailer");
  const { runReminders } = await import("./reminders/dispatch");
  const { writeBackFor } = await import("./reminders/write-back");
  const mailer = createSmtpMailer({ url: config.SMTP_URL });
  try {
    for (const org of await listOrgs(deps.store.db)) {
      try {
        const report = await runReminders(
          { store: deps.store, config, log, secret: deps.secret, mailer, ...writeBackFor(deps, org) },
          { org, at: { kind: "instant", at: now }, now },
        );
        const count = (s: string) => report.emails.filter((e) => e.status === s).length;
        log.info(
          {
            job: "remind",
            org: org.slug,
            sent: count("sent"),
            failed: count("failed"),
            holds: report.holds.length,
          },
          "reminders run",
        );
      } catch (err) {
        log.error({ err, job: "remind", org: org.slug }, "reminder run failed for this organisation");
      }
    }
  } finally {
    await mailer.close();
  }
}

/** Nightly: every organisation's scores, stored with their history; new deterioration alerts logged. */
async function runScoreJob({ deps, now }: JobContext): Promise<void> {
  const { runScoring } = await import("./scoring/run-scoring");
  for (const org of await listOrgs(deps.store.db)) {
    try {
      const r = await runScoring(deps.store, org, { now });
      deps.log.info(
        { job: "score", org: org.slug, customers: r.results.length, newlyDeteriorating: r.newAlerts.length },
        "scores stored",
      );
    } catch (err) {
      deps.log.error({ err, job: "score", org: org.slug }, "scoring failed for this organisation");
    }
    await warmSummaryLogged(deps, org, now);
  }
}

/**
 * Hourly: each organisation's dashboard figures for its current date, computed only where the cache lacks
 * them (a new local day, or a ledger written outside sync and import, e.g. by a webhook). Cheap when warm.
 */
async function runSummariesJob({ deps, now }: JobContext): Promise<void> {
  let computed = 0;
  for (const org of await listOrgs(deps.store.db))
    if ((await warmSummaryLogged(deps, org, now)) === "computed") computed++;
  deps.log.info({ job: "summaries", computed }, "dashboard figures warm");
}

/** Hourly on Sundays and Mondays (UTC): the weekly digest to each user whose local time is Monday DIGEST_HOUR. */
async function runDigestJob({ deps, now }: JobContext): Promise<void> {
  const { config, log } = deps;
  if (!config.SMTP_URL || !config.MAIL_FROM) {
    log.info({ job: "digest" }, "SMTP_URL and MAIL_FROM are not set: no digest is sent");
    return;
  }
  const { runDigest } = await import("./digest/send");
  const results = await runDigest(deps, { now, dueOnly: true });
  const count = (s: string) => results.filter((r) => r.status === s).length;
  log.info(
    { job: "digest", sent: count("sent"), failed: count("failed"), skipped: count("skipped") },
    "digest run",
  );
}

export const JOBS: readonly Job[] = [
  { name: "sync", cron: "*/15 * * * *", run: runSyncJob },
  { name: "score", cron: "30 1 * * *", run: runScoreJob },
  { name: "remind", cron: "5 * * * *", run: runRemindJob },
  { name: "summaries", cron: "1 * * * *", run: runSummariesJob },
  // Sunday and Monday UTC hours cover Monday DIGEST_HOUR in every timezone (UTC-12 to UTC+14).
  { name: "digest", cron: "0 * * * 0,1", run: runDigestJob },
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
