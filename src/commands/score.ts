import type { Command } from "commander";
import { formatMoney } from "../format";
import { runScoring } from "../scoring/run-scoring";
import { warmTodaysSummary } from "../store/dashboard-summary";
import { asOfOption, type CommandContext, orgOption } from "./context";

export function registerScoreCommand(program: Command, ctx: CommandContext) {
  program
    .command("score")
    .description("Score every customer's credit health: grade, late-payment probability, trend and reasons")
    .requiredOption("--org <slug>", "organisation")
    .option("--as-of <date>", "score the ledger as it stood on this date (YYYY-MM-DD); nothing is stored")
    .option("--json", "print one JSON object per customer, riskiest first")
    .action(async (opts: { org: string; asOf?: string; json?: boolean }) => {
      const asOf = asOfOption(opts.asOf);
      const store = ctx.store();
      const org = await orgOption(store.db, opts.org);
      // A back-dated run is a what-if: it neither writes history nor raises alerts.
      const now = ctx.clock.now();
      const r = await runScoring(store, org, { now, asOf, save: !asOf });
      if (!asOf) await warmTodaysSummary(store, org, now);
      if (opts.json) {
        ctx.out(
          JSON.stringify(
            r.results.map((s) => ({
              customer_id: s.customer_id,
              name: s.name,
              score: s.score,
              grade: s.grade,
              late_probability: s.late_probability,
              trend: s.trend,
              trend_change_days: s.trend_change_days,
              reasons: s.reasons,
              outstanding: s.outstanding,
              overdue: s.overdue,
              currency: s.currency,
            })),
            null,
            2,
          ),
        );
        return;
      }
      ctx.out(`${org.name}: ${r.results.length} customers scored as of ${r.asOf}, riskiest first`);
      for (const s of r.results) {
        const trend =
          s.trend === "deteriorating"
            ? "worse"
            : s.trend === "improving"
              ? "better"
              : s.trend === "stable"
                ? ""
                : "?";
        ctx.out(
          `${s.grade} ${String(s.score).padStart(3)}  ${`${Math.round(s.late_probability * 100)}%`.padStart(4)} late  ${trend.padEnd(6)} ${s.name}` +
            (s.overdue > 0
              ? `  (${formatMoney({ minor: s.overdue, currency: s.currency }, org.locale)} overdue)`
              : ""),
        );
        if (s.reasons[0]) ctx.out(`        ${s.reasons[0]}`);
      }
      if (r.newAlerts.length) ctx.out(`Newly deteriorating: ${r.newAlerts.map((a) => a.name).join(", ")}`);
    });
}
