/** `creditpulse remind --org <slug> [--as-of YYYY-MM-DD] [--dry-run] [--json]` */

import type { Command } from "commander";
import { UserError } from "../errors";
import { createLogger } from "../log";
import { transportConfigured } from "../mail/org-mail";
import type { RunAt } from "../reminders/plan";
import { runRemindersFor } from "../reminders/run-for";
import { asOfOption, type CommandContext, orgOption } from "./context";

export function registerRemind(program: Command, ctx: CommandContext): void {
  program
    .command("remind")
    .description("Send the reminders due now (inside each customer's sending window) and update credit holds")
    .requiredOption("--org <slug>", "organisation")
    .option("--as-of <date>", "run as at the opening of this date's sending window (YYYY-MM-DD)")
    .option("--dry-run", "plan and render without sending or changing anything")
    .option("--json", "print the result as JSON")
    .action(async (opts: { org: string; asOf?: string; dryRun?: boolean; json?: boolean }) => {
      const asOf = asOfOption(opts.asOf);
      const config = ctx.config();
      const org = await orgOption(ctx.store().db, opts.org);
      const at: RunAt = asOf ? { kind: "opening", date: asOf } : { kind: "instant", at: ctx.clock.now() };
      const dryRun = Boolean(opts.dryRun);
      const notConfigured = () =>
        new UserError(
          "smtp_not_configured",
          "set SMTP_URL and MAIL_FROM to send reminders (POSTMARK_SERVER_TOKEN instead of SMTP_URL works too), or use --dry-run",
        );
      if (!dryRun && !transportConfigured(config)) throw notConfigured();
      const log = ctx.io.log ?? createLogger(config.LOG_LEVEL);
      const report = await runRemindersFor({ ...(await ctx.deps()), log }, org, at, { dryRun });
      if (!report) throw notConfigured();
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
    });
}
