/**
 * The schedule: one table read by node-cron on Node and by the Worker's scheduled() and queue() handlers.
 *
 * Every job is split the same way on both runtimes:
 * - `fanOut` turns one cron tick into messages, one per organisation (or per user for the digest). It only
 *   reads the store.
 * - `handle` does one message's work: one organisation (or user). It may return follow-up messages (a sync
 *   stopped at its page budget continues in the next one).
 * On Workers the cron handler only enqueues the messages and the queue consumer handles them, one
 * organisation per message, with retries and a dead-letter queue (wrangler.toml). On Node `runJob` handles
 * them in this process, one after another, as before. Each message carries the instant its tick stands for,
 * so a retried message judges the same moment.
 */
import type { Deps } from "./deps";
import type { JobMessage } from "./job-message";
import type { StartCursor } from "./reminders/run-types";
import { warmSummaryLogged } from "./scoring/warm-summary";
import { listOrgs, type Organisation } from "./store/orgs";
import { syncJobMessages, syncOrgJob } from "./sync/sync-connections";

export type { JobMessage } from "./job-message";

export type JobName = JobMessage["job"];

export interface JobContext {
  deps: Deps;
  /** The instant this run stands for (read once from the clock). */
  now: number;
}

/** How one message may run: Workers cap a sync's pages per invocation; Node does not. */
export interface JobLimits {
  /** Pages a sync writes per message before it continues in the next (default: no cap). */
  syncPagesPerMessage?: number;
  /** Emails and hold decisions one remind message handles before it continues in the next (default: no cap). */
  remindActionsPerMessage?: number;
  /** Statements one message sends before it continues in the next (default: no cap). */
  statementsPerMessage?: number;
}

export interface Job {
  name: Exclude<JobName, "repull" | "demo" | "import">;
  /** Five-field cron expression, in UTC. */
  cron: string;
  /** The messages one tick fans out into. */
  fanOut(deps: Deps, now: number): Promise<JobMessage[]>;
  /** Runs every message of one tick in this process (Node, the CLI and tests). */
  run(ctx: JobContext): Promise<void>;
}

async function orgById(deps: Deps, orgId: string): Promise<Organisation | undefined> {
  return (await listOrgs(deps.store.db)).find((o) => o.id === orgId);
}

/**
 * Reminders for one organisation, judged at the tick's instant. With a budget the run stops between customers
 * and says where the next run (same instant) picks up; claims keep every (invoice, level) to one email.
 */
async function remindOrg(
  deps: Deps,
  org: Organisation,
  now: number,
  part: { budget?: number; resumeAfter?: string; resumeStart?: StartCursor } = {},
): Promise<{ more: boolean; resumeAfter?: string; resumeStart?: StartCursor }> {
  // Loaded on first use: the Worker does not evaluate the reminder engine until it sends.
  const { runRemindersFor } = await import("./reminders/run-for");
  const report = await runRemindersFor(deps, org, { kind: "instant", at: now }, part);
  if (!report) {
    deps.log.info(
      { job: "remind" },
      "no mail transport is configured (SMTP_URL or POSTMARK_SERVER_TOKEN, and MAIL_FROM): no reminders are sent",
    );
    return { more: false };
  }
  const count = (s: string) => report.emails.filter((e) => e.status === s).length;
  deps.log.info(
    {
      job: "remind",
      org: org.slug,
      sent: count("sent"),
      failed: count("failed"),
      holds: report.holds.length,
      more: report.more,
    },
    report.more ? "reminders run (budget used; continues in the next message)" : "reminders run",
  );
  return { more: report.more, resumeAfter: report.resumeAfter, resumeStart: report.resumeStart };
}

/** Scheduled statements for one organisation, judged at the tick's instant (nothing when none is scheduled). */
async function statementsOrg(
  deps: Deps,
  org: Organisation,
  now: number,
  part: { budget?: number; resumeAfter?: string } = {},
): Promise<{ more: boolean; resumeAfter?: string }> {
  const { runStatementsFor } = await import("./statements/run");
  const report = await runStatementsFor(deps, org, {
    now,
    budget: part.budget,
    resumeAfter: part.resumeAfter,
  });
  if (!report) return { more: false };
  const count = (s: string) => report.statements.filter((e) => e.status === s).length;
  if (report.statements.length > 0)
    deps.log.info(
      { job: "statements", org: org.slug, sent: count("sent"), failed: count("failed"), more: report.more },
      "statements run",
    );
  return { more: Boolean(report.more), resumeAfter: report.resume_after };
}

/** Scores for one organisation, stored with their history; new deterioration alerts logged. */
async function scoreOrg(deps: Deps, org: Organisation, now: number): Promise<void> {
  const { runScoring } = await import("./scoring/run-scoring");
  try {
    const r = await runScoring(deps.store, org, { now });
    deps.log.info(
      { job: "score", org: org.slug, customers: r.results.length, newlyDeteriorating: r.newAlerts.length },
      "scores stored",
    );
  } finally {
    await warmSummaryLogged(deps, org, now);
  }
}

/** The weekly digest to one user, when their local time is Monday DIGEST_HOUR. */
async function digestUser(deps: Deps, userId: string, now: number): Promise<void> {
  const { runDigest } = await import("./digest/send");
  const { mailerFor } = await import("./mail/mailer-for");
  const mailer = await mailerFor(deps.config);
  if (!mailer) {
    deps.log.info({ job: "digest" }, "no mail transport is configured: no digest is sent");
    return;
  }
  try {
    const results = await runDigest(deps, { now, dueOnly: true, userId, mailer });
    for (const r of results)
      deps.log.info({ job: "digest", user: userId, status: r.status, reason: r.reason }, "digest run");
    // Each outcome is recorded on the (user, week) claim by the digest's own rules (a claimed digest is never
    // sent twice), so the message is acknowledged whatever happened.
  } finally {
    await mailer.close();
  }
}

const perOrg = (job: "score" | "remind" | "summaries" | "statements") => async (deps: Deps, now: number) =>
  (await listOrgs(deps.store.db)).map((o) => ({ job, orgId: o.id, at: now }));

/** Users whose weekly digest is due at `now` (Monday DIGEST_HOUR in their timezone). */
async function digestMessages(deps: Deps, now: number): Promise<JobMessage[]> {
  const { digestRecipients } = await import("./store/accounts");
  const { userTimezone } = await import("./digest/send");
  const { localMoment } = await import("./reminders/window");
  const orgs = new Map((await listOrgs(deps.store.db)).map((o) => [o.id, o]));
  const out: JobMessage[] = [];
  for (const { user, orgIds } of await digestRecipients(deps.store.db)) {
    const mine = orgIds.map((id) => orgs.get(id)).filter((o): o is Organisation => Boolean(o));
    if (mine.length === 0) continue;
    const local = localMoment(now, userTimezone(user, mine));
    if (local.weekday === 1 && Math.floor(local.minutes / 60) === deps.config.DIGEST_HOUR)
      out.push({ job: "digest", userId: user.id, at: now });
  }
  return out;
}

/**
 * Handles one message: one organisation's (or user's) work. Throws when it should be retried; returns the
 * follow-up messages (a sync that continues).
 */
export async function handleJob(deps: Deps, msg: JobMessage, limits: JobLimits = {}): Promise<JobMessage[]> {
  switch (msg.job) {
    case "sync": {
      const r = await syncOrgJob(deps, msg.orgId, {
        maxPages: limits.syncPagesPerMessage,
        resumeAt: msg.resumeAt,
      });
      return r.more ? [{ ...msg, part: (msg.part ?? 0) + 1, resumeAt: r.resumeAt }] : [];
    }
    case "repull": {
      const { repullChanged } = await import("./sync/webhook-events");
      const r = await repullChanged(deps, msg.events);
      deps.log.info({ job: "repull", events: msg.events.length, records: r.records }, "webhook re-pull done");
      return [];
    }
    case "digest":
      await digestUser(deps, msg.userId, msg.at);
      return [];
    case "import": {
      const { runCsvUpload } = await import("./import/http-upload");
      await runCsvUpload(deps, msg.orgId, msg.uploadId);
      return [];
    }
    case "demo": {
      const { runDemoJob } = await import("./import/demo-deploy");
      await runDemoJob(deps, msg);
      return [];
    }
    default: {
      const org = await orgById(deps, msg.orgId);
      if (!org) return []; // deleted since the tick
      if (msg.job === "remind") {
        const r = await remindOrg(deps, org, msg.at, {
          budget: limits.remindActionsPerMessage,
          resumeAfter: msg.resumeAfter,
          resumeStart: msg.resumeStart,
        });
        if (!r.more || (r.resumeAfter === undefined && r.resumeStart === undefined)) return [];
        const { resumeAfter: _a, resumeStart: _s, ...rest } = msg;
        return [
          {
            ...rest,
            part: (msg.part ?? 0) + 1,
            ...(r.resumeAfter !== undefined ? { resumeAfter: r.resumeAfter } : {}),
            ...(r.resumeStart !== undefined ? { resumeStart: r.resumeStart } : {}),
          },
        ];
      }
      if (msg.job === "statements") {
        const r = await statementsOrg(deps, org, msg.at, {
          budget: limits.statementsPerMessage,
          resumeAfter: msg.resumeAfter,
        });
        return r.more && r.resumeAfter !== undefined
          ? [{ ...msg, part: (msg.part ?? 0) + 1, resumeAfter: r.resumeAfter }]
          : [];
      }
      if (msg.job === "score") await scoreOrg(deps, org, msg.at);
      else await warmSummaryLogged(deps, org, msg.at);
      return [];
    }
  }
}

/**
 * Handles a message and its follow-ups in this process (Node), until none is left (a sync or reminder run
 * continues while it reports more); a failure is logged, never thrown. Node runs without limits by default.
 */
export async function handleInProcess(
  deps: Deps,
  first: JobMessage,
  limits: JobLimits = {},
): Promise<boolean> {
  let ok = true;
  const queue = [first];
  for (let msg = queue.shift(); msg; msg = queue.shift()) {
    try {
      queue.push(...(await handleJob(deps, msg, limits)));
    } catch (err) {
      ok = false;
      const { job } = msg;
      const who = "orgId" in msg ? { org: msg.orgId } : "userId" in msg ? { user: msg.userId } : {};
      deps.log.error({ err, job, ...who }, "job failed for this organisation");
    }
  }
  return ok;
}

function job(name: Job["name"], cron: string, fanOut: Job["fanOut"]): Job {
  return {
    name,
    cron,
    fanOut,
    async run({ deps, now }) {
      const messages = await fanOut(deps, now);
      if (messages.length === 0) deps.log.info({ job: name }, "nothing to do");
      for (const m of messages) await handleInProcess(deps, m);
    },
  };
}

export const JOBS: readonly Job[] = [
  // Every 15 minutes: each organisation's ledger connection.
  job("sync", "*/15 * * * *", async (deps, now) =>
    (await syncJobMessages(deps)).map((m) => ({ ...m, at: now })),
  ),
  // Nightly: every organisation's scores.
  job("score", "30 1 * * *", perOrg("score")),
  // Hourly: each organisation's reminders; each customer is only written to inside its own sending window.
  job("remind", "5 * * * *", perOrg("remind")),
  // Hourly at half past: each organisation's scheduled statements (off unless an organisation sets them).
  job("statements", "35 * * * *", perOrg("statements")),
  // Hourly: each organisation's dashboard figures for its current date (cheap when warm).
  job("summaries", "1 * * * *", perOrg("summaries")),
  // Sunday and Monday UTC hours cover Monday DIGEST_HOUR in every timezone (UTC-12 to UTC+14).
  job("digest", "0 * * * 0,1", digestMessages),
];

/** Runs one job by name in this process, logging (not throwing) its failure so one bad job never stops the scheduler. */
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
