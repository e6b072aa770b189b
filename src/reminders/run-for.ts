/**
 * "Run reminders for an organisation", wired once: the install's mail transport (src/mail/mailer-for.ts), the
 * ledger write-back of the organisation's connector (./write-back.ts) and the run itself (./dispatch.ts).
 * The scheduler's remind job (src/jobs.ts), the dashboard's send-now and `creditpulse remind` all start a run
 * here; what they do with the report (log it, redirect, print it) stays with them.
 */
import type { Deps } from "../deps";
import { withMailer } from "../mail/mailer-for";
import { orgMail } from "../mail/org-mail";
import { smsSenderFor } from "../sms/sender-for";
import type { Organisation } from "../store/orgs";
import { loadReminderSettings } from "../store/reminder-settings";
import { runReminders } from "./dispatch";
import type { RunAt } from "./plan";
import { openingInstant } from "./run-context";
import type { RemindOptions, RemindReport } from "./run-types";
import { writeBackFor } from "./write-back";

export type RunForOptions = Pick<RemindOptions, "dryRun" | "budget" | "resumeAfter" | "resumeStart">;

/**
 * One reminder run for `org`, judged at `at`: an instant (records stamped with it), or the opening of a
 * date's sending window in the organisation's timezone (`remind --as-of`). Null when no mail transport is
 * configured (SMTP_URL or POSTMARK_SERVER_TOKEN) or the organisation has no sender (its mail settings, else
 * MAIL_FROM): nothing is planned, claimed or sent. A dry
 * run needs no transport and changes nothing.
 */
export async function runRemindersFor(
  deps: Deps,
  org: Organisation,
  at: RunAt,
  opts: RunForOptions = {},
): Promise<RemindReport | null> {
  const { store, config, log, secret } = deps;
  const settings = await loadReminderSettings(store.db, org);
  return withMailer(
    config,
    opts.dryRun,
    async (mailer) => {
      const now = at.kind === "instant" ? at.at : openingInstant(at.date, settings.window, org.timezone);
      return runReminders(
        { store, config, log, secret, mailer, sms: smsSenderFor(config), ...writeBackFor(deps, org) },
        { org, at, now, ...opts },
      );
    },
    orgMail(settings, config).from,
  );
}
