/**
 * `creditpulse statements --org <slug> [--as-of YYYY-MM-DD] [--dry-run] [--json]`: send the statements due now.
 * `creditpulse statement-schedule --org <slug> [--customer <id>] [--monthly <day> | --weekly <day> | --off |
 * --org-default]`: show or set when statements go.
 */
import type { Command } from "commander";
import { UserError } from "../errors";
import { createLogger } from "../log";
import { transportConfigured } from "../mail/org-mail";
import type { StatementSetting } from "../model";
import { openingInstant } from "../reminders/run-context";
import { runStatementsFor } from "../statements/run";
import { findContactByExternalId } from "../store/contacts";
import { ensureReminderSetup, loadReminderSettings } from "../store/reminder-settings";
import {
  loadStatementSettings,
  setCustomerStatementSchedule,
  setOrgStatementSchedule,
} from "../store/statements";
import { asOfOption, type CommandContext, orgOption } from "./context";

const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

function parseWeekday(text: string): number {
  const n = Number(text);
  if (Number.isInteger(n) && n >= 1 && n <= 7) return n;
  const i = WEEKDAYS.indexOf(text.trim().slice(0, 3).toLowerCase());
  if (i < 0)
    throw new UserError("invalid_weekday", `--weekly takes a weekday (mon ... sun, or 1-7), got ${text}`);
  return i + 1;
}

function parseMonthDay(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 31)
    throw new UserError("invalid_day", `--monthly takes a day of the month from 1 to 31, got ${text}`);
  return n;
}

export function describeSetting(s: StatementSetting | null | undefined): string {
  if (!s || s.every === "off") return "off";
  if (s.every === "month") return s.day === 31 ? "monthly, on the last day" : `monthly, on day ${s.day}`;
  return `weekly, on ${WEEKDAYS[s.weekday - 1]}`;
}

export function registerStatements(program: Command, ctx: CommandContext): void {
  program
    .command("statements")
    .description("Send the scheduled statements due now (inside each customer's sending window)")
    .requiredOption("--org <slug>", "organisation")
    .option("--as-of <date>", "run as at the opening of this date's sending window (YYYY-MM-DD)")
    .option("--dry-run", "work out what would go without sending or claiming anything")
    .option("--json", "print the result as JSON")
    .action(async (opts: { org: string; asOf?: string; dryRun?: boolean; json?: boolean }) => {
      const asOf = asOfOption(opts.asOf);
      const store = ctx.store();
      const org = await orgOption(store.db, opts.org);
      const config = ctx.config();
      const dryRun = Boolean(opts.dryRun);
      const notConfigured = () =>
        new UserError(
          "mail_not_configured",
          "set MAIL_FROM and SMTP_URL (or POSTMARK_SERVER_TOKEN) to send statements, or use --dry-run",
        );
      if (!dryRun && !transportConfigured(config)) throw notConfigured();
      const now = asOf
        ? openingInstant(asOf, (await loadReminderSettings(store.db, org)).window, org.timezone)
        : ctx.clock.now();
      const log = ctx.io.log ?? createLogger(config.LOG_LEVEL);
      const report = await runStatementsFor({ ...(await ctx.deps()), log }, org, { now, asOf, dryRun });
      if (!report) throw notConfigured();
      if (report.statements.some((s) => s.status === "failed")) ctx.fail(1);
      if (opts.json) {
        ctx.out(JSON.stringify(report, null, 2));
        return;
      }
      const count = (status: string) => report.statements.filter((s) => s.status === status).length;
      const went = dryRun ? `${count("would_send")} would be sent` : `${count("sent")} sent`;
      ctx.out(
        `${dryRun ? "Dry run: " : ""}${org.slug}: ${went}, ${count("failed")} failed, ${count("skipped")} skipped`,
      );
      for (const s of report.statements)
        ctx.out(
          `  ${s.status.padEnd(10)} ${s.customer_id} ${s.period ?? ""}${s.to ? ` -> ${s.to}` : ""}` +
            `${s.reason ? ` (${s.reason})` : ""}`,
        );
      if (report.flagged_for_review)
        ctx.err(
          `${report.flagged_for_review} statement(s) left by a stopped run need review (never resent).`,
        );
    });

  program
    .command("statement-schedule")
    .description("Show or set when statements go, for the organisation or one customer (off by default)")
    .requiredOption("--org <slug>", "organisation")
    .option("--customer <id>", "one customer (its id in the ledger) instead of the whole organisation")
    .option("--monthly <day>", "every month on this day (1-31; 31 = the last day)")
    .option("--weekly <weekday>", "every week on this day (mon ... sun)")
    .option("--off", "no statements")
    .option("--org-default", "this customer follows the organisation's schedule again")
    .option("--json", "print the settings as JSON")
    .action(
      async (opts: {
        org: string;
        customer?: string;
        monthly?: string;
        weekly?: string;
        off?: boolean;
        orgDefault?: boolean;
        json?: boolean;
      }) => {
        const chosen = [opts.monthly, opts.weekly, opts.off, opts.orgDefault].filter((x) => x !== undefined);
        if (chosen.length > 1)
          throw new UserError(
            "conflicting_options",
            "choose one of --monthly, --weekly, --off and --org-default",
          );
        if (opts.orgDefault && !opts.customer)
          throw new UserError("missing_customer", "--org-default needs --customer");
        const store = ctx.store();
        const org = await orgOption(store.db, opts.org);
        const now = ctx.clock.now();
        const contact = opts.customer
          ? await findContactByExternalId(store.db, org.id, opts.customer)
          : undefined;
        if (opts.customer && !contact)
          throw new UserError("not_found", `customer ${opts.customer} not found in ${org.slug}`);
        if (chosen.length === 1) {
          const setting: StatementSetting | null = opts.monthly
            ? { every: "month", day: parseMonthDay(opts.monthly) }
            : opts.weekly
              ? { every: "week", weekday: parseWeekday(opts.weekly) }
              : opts.off
                ? contact
                  ? { every: "off" }
                  : null
                : null;
          if (contact) await setCustomerStatementSchedule(store.db, org.id, contact.id, setting, now);
          else {
            await ensureReminderSetup(store.db, org, now);
            await setOrgStatementSchedule(store.db, org.id, setting, now);
          }
        }
        const settings = await loadStatementSettings(store.db, org.id);
        if (opts.json) {
          ctx.out(
            JSON.stringify(
              {
                org: org.slug,
                schedule: settings.schedule,
                ...(contact
                  ? { customer: opts.customer, customer_schedule: settings.customers.get(contact.id) ?? null }
                  : {}),
              },
              null,
              2,
            ),
          );
          return;
        }
        ctx.out(`${org.slug}: statements ${describeSetting(settings.schedule)}`);
        if (contact) {
          const own = settings.customers.get(contact.id);
          ctx.out(`  ${opts.customer}: ${own ? describeSetting(own) : "as the organisation"}`);
        }
      },
    );
}
