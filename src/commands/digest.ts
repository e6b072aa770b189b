/** `creditpulse digest [--as-of YYYY-MM-DD] [--dry-run] [--json]`: the weekly digest to every owner and bookkeeper. */
import type { Command } from "commander";
import { runDigest } from "../digest/send";
import { UserError } from "../errors";
import { asOfOption, type CommandContext } from "./context";

export function registerDigest(program: Command, ctx: CommandContext): void {
  program
    .command("digest")
    .description("Send the weekly risk digest to every owner and bookkeeper now (each at most once a week)")
    .option("--as-of <date>", "build the digest as of this date (YYYY-MM-DD) instead of each user's today")
    .option("--dry-run", "build it and print a summary; send and record nothing")
    .option("--json", "print the result as JSON (with --dry-run: the whole digest)")
    .action(async (opts: { asOf?: string; dryRun?: boolean; json?: boolean }) => {
      const asOf = asOfOption(opts.asOf);
      const deps = await ctx.deps();
      if (!opts.dryRun && !(deps.config.SMTP_URL && deps.config.MAIL_FROM))
        throw new UserError(
          "not_configured",
          "set SMTP_URL and MAIL_FROM to send the digest (or use --dry-run)",
        );
      const results = await runDigest(deps, { now: ctx.clock.now(), asOf, dryRun: opts.dryRun });
      if (results.some((r) => r.status === "failed")) ctx.fail(1);
      if (opts.json) {
        ctx.out(JSON.stringify({ digests: results }, null, 2));
        return;
      }
      if (results.length === 0) ctx.out("No owners or bookkeepers to send a digest to.");
      for (const r of results) {
        ctx.out(
          `${r.email}: ${r.status}${r.reason ? ` (${r.reason})` : ""}, ${r.organisations} organisation(s), ${r.quiet} with nothing to report, week ${r.week}`,
        );
        if (r.digest)
          for (const o of r.digest.orgs)
            ctx.out(
              `  ${o.name}: ${o.quiet ? "nothing to report" : `${o.newlyDeteriorating.length} newly deteriorating, ${o.scoreDrops.length} score drops, ${o.holdsPlaced.length} new holds, ${o.holdsReleased.length} released, ${o.limitBreaches.length} over limit, ${o.reminders.sent} reminders sent`}`,
            );
      }
    });
}
