import type { Command } from "commander";
import { formatMoney } from "../format";
import { dateInZone } from "../model";
import { forecastForOrg, forecastJson } from "../scoring/forecast";
import { asOfOption, type CommandContext, orgOption } from "./context";

export function registerForecastCommand(program: Command, ctx: CommandContext) {
  program
    .command("forecast")
    .description("Forecast when open invoices will be paid: per invoice, and per week for 13 weeks")
    .requiredOption("--org <slug>", "organisation")
    .option("--as-of <date>", "forecast from the ledger as it stood on this date (YYYY-MM-DD)")
    .option(
      "--json",
      "print { currency, weeks, invoices } (an array of them when there are several currencies)",
    )
    .action(async (opts: { org: string; asOf?: string; json?: boolean }) => {
      const given = asOfOption(opts.asOf);
      const store = ctx.store();
      const org = await orgOption(store.db, opts.org);
      const asOf = given ?? dateInZone(ctx.clock.now(), org.timezone);
      const forecasts = await forecastForOrg(store.db, org, asOf);
      if (opts.json) {
        const out = forecasts.map(forecastJson);
        ctx.out(JSON.stringify(out.length === 1 ? out[0] : out, null, 2));
        return;
      }
      const m = (minor: number, currency: string) => formatMoney({ minor, currency }, org.locale);
      for (const f of forecasts) {
        const due = f.invoices.reduce((a, i) => a + i.amountMinor, 0);
        ctx.out(
          `${org.name}: ${f.invoices.length} open invoices in ${f.currency}, ${m(due, f.currency)} due; expected collections per week from ${asOf} (10-90% range):`,
        );
        for (const w of f.weeks) {
          ctx.out(
            `  ${w.week_start}  ${m(w.expected, f.currency).padStart(14)}  (${m(w.p10, f.currency)} - ${m(w.p90, f.currency)})`,
          );
        }
      }
    });
}
