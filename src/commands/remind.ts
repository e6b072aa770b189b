/** `creditpulse remind --org <slug> [--as-of YYYY-MM-DD] [--dry-run] [--json]` */

import type { Command } from "commander";
import { UserError } from "../errors";
import { createLogger } from "../log";
import { createSmtpMailer } from "../mail/smtp-mailer";
import { isIsoDate } from "../model";
import { runReminders } from "../reminders/dispatch";
import type { RunAt } from "../reminders/plan";
import { openingInstant } from "../reminders/run-context";
import { writeBackFor } from "../reminders/write-back";
import { findOrgBySlug } from "../store/orgs";
import { loadReminderSettings } from "../store/reminder-settings";
import type { CommandContext } from "./context";

export function registerRemind(program: Command, ctx: CommandContext): void {
  program
    .command("remind")
    .description("Send the reminders due now (inside each customer's sending window) and update credit holds")
    .requiredOption("--org <slug>", "organisation")
    .option("--as-of <date>", "run as at the opening of this date's sending window (YYYY-MM-DD)")
    .option("--dry-run", "plan and render without sending or changing anything")
    .option("--json", "print the result as JSON")
    .action(async (opts: { org: string; asOf?: string; dryRun?: boolean; json?: boolean }) => {
      if (opts.asOf !== undefined && !isIsoDate(opts.asOf))
        throw new UserError("invalid_date", `--as-of must be a date written YYYY-MM-DD, got ${opts.asOf}`);
      const store = ctx.store();
      const config = ctx.config();
      const org = await findOrgBySlug(store.db, opts.org);
      if (!org) throw new UserError("not_found", `organisation ${opts.org} not found`);
      let at: RunAt = { kind: "instant", at: ctx.clock.now() };
      let now = ctx.clock.now();
      if (opts.asOf) {
        const settings = await loadReminderSettings(store.db, org);
        at = { kind: "opening", date: opts.asOf };
        now = openingInstant(opts.asOf, settings.window, org.timezone);
      }
      const dryRun = Boolean(opts.dryRun);
      if (!dryRun && (!config.SMTP_URL || !config.MAIL_FROM))
        throw new UserError(
          "smtp_not_configured",
          "set SMTP_URL and MAIL_FROM to send reminders (or use --dry-run)",
        );
      const mailer = dryRun ? undefined : createSmtpMailer({ url: config.SMTP_URL! });
      const log = ctx.io.log ?? createLogger(config.LOG_LEVEL);
      try {
        const deps = await ctx.deps();
        const report = await runReminders(
          { store, config, log, secret: deps.secret, mailer, ...writeBackFor(deps, org) },
          { org, at, now, dryRun },
        );
        if (report.emails.some((e) => e.status === "failed")) ctx.fail(1);
        if (opts.json) {
          ctx.out(JSON.stringify({ emails: report.emails, holds: report.holds }, null, 2));
          return;
        }
        const sent = report.emails.filter((e) => e.status === "sent").length;
        const failed = report.emails.filter((e) => e.status === "failed").length;
        const skipped = report.emails.length - sent - failed;
        ctx.out(
          `${dryRun ? "Dry run: " : ""}${org.slug}: ${sent} sent, ${failed} failed, ${skipped} skipped; ` +
            `${report.holds.length} hold change(s)`,
        );
        for (const e of report.emails)
          ctx.out(
            `  ${e.status.padEnd(7)} ${e.customer_id} level ${e.level} ${e.invoice_numbers.join(",")}` +
              `${e.to ? ` -> ${e.to}` : ""}${e.reason ? ` (${e.reason})` : ""}`,
          );
        for (const h of report.holds) ctx.out(`  hold    ${h.customer_id} ${h.action}`);
        if (report.flaggedForReview)
          ctx.err(`${report.flaggedForReview} reminder(s) left by a stopped run need review (never resent).`);
      } finally {
        await mailer?.close();
      }
    });
}
