/**
 * `creditpulse reconcile --org <slug> [--json]`: each customer's outstanding balance as Creditpulse computes it
 * against the ledger's own figure (Xero and QuickBooks: the balances read at the last sync; CSV: the import's
 * own totals). With --json it prints exactly `{ customers_checked, mismatched: [{ customer_id, ours, theirs,
 * currency }] }` (amounts in minor units of `currency`). Exit code 1 when any customer differs by more than a cent.
 */
import type { Command } from "commander";
import { formatMoney } from "../format";
import { createLogger } from "../log";
import { reconcileOrg } from "../sync/reconcile";
import { type CommandContext, orgOption } from "./context";

export function registerReconcile(program: Command, ctx: CommandContext) {
  program
    .command("reconcile")
    .description("Check every customer's balance against the ledger's own figures (exit 1 on any mismatch)")
    .requiredOption("--org <slug>", "organisation")
    .option("--json", "print { customers_checked, mismatched: [{ customer_id, ours, theirs, currency }] }")
    .action(async (opts: { org: string; json?: boolean }) => {
      const store = ctx.store();
      const org = await orgOption(store.db, opts.org);
      const config = ctx.config();
      const log = ctx.io.log ?? createLogger(config.LOG_LEVEL === "info" ? "error" : config.LOG_LEVEL);
      const r = await reconcileOrg({ store, clock: ctx.clock, log }, org);
      if (r.mismatched.length) ctx.fail(1);
      if (opts.json) {
        ctx.out(
          JSON.stringify(
            {
              customers_checked: r.customers_checked,
              mismatched: r.mismatched.map((m) => ({
                customer_id: m.customer_id,
                ours: m.ours,
                theirs: m.theirs,
                currency: m.currency,
              })),
            },
            null,
            2,
          ),
        );
        return;
      }
      const against = org.provider === "csv" ? "the import's own totals" : `${org.provider}'s own figures`;
      ctx.out(`${org.name}: ${r.customers_checked} customers checked against ${against}`);
      if (r.mismatched.length === 0) {
        ctx.out("Every balance matches (within a cent).");
        return;
      }
      ctx.out(`${r.mismatched.length} differ:`);
      for (const m of r.mismatched)
        ctx.out(
          `  ${m.customer_id}: Creditpulse ${formatMoney({ minor: m.ours, currency: m.currency })}, ledger ${formatMoney({ minor: m.theirs, currency: m.currency })}`,
        );
    });
}
