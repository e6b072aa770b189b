/**
 * `creditpulse charges --org <slug> [--json]` lists proposed and decided late-payment charges;
 * `creditpulse charges approve|reject --org <slug> --charge <id> [--json]` decides one (an approved charge is
 * written to the ledger as a new sales invoice, exactly once; a CSV ledger's is recorded only).
 */
import type { Command } from "commander";
import { chargeAction, chargesView } from "../dashboard/charges";
import { UserError } from "../errors";
import { createLogger } from "../log";
import { type CommandContext, orgOption } from "./context";

const ACTIONS = ["approve", "reject"] as const;

export function registerCharges(program: Command, ctx: CommandContext): void {
  program
    .command("charges")
    .argument("[action]", `one of ${ACTIONS.join(", ")} (none: list the charges)`)
    .description("List late-payment charges (proposed, decided), or approve or reject one")
    .requiredOption("--org <slug>", "organisation")
    .option("--charge <id>", "the charge (its id, chg_...)")
    .option("--json", "print the result as JSON")
    .action(async (action: string | undefined, opts: { org: string; charge?: string; json?: boolean }) => {
      const store = ctx.store();
      const config = ctx.config();
      const org = await orgOption(store.db, opts.org);
      const deps = { ...(await ctx.deps()), store, log: ctx.io.log ?? createLogger(config.LOG_LEVEL) };
      if (action === undefined) {
        const v = await chargesView(deps, org);
        if (opts.json) {
          ctx.out(JSON.stringify({ proposed: v.proposed, decided: v.decided }, null, 2));
          return;
        }
        ctx.out(`Charges are ${v.enabled ? "on" : "off"} for ${org.slug}.`);
        for (const [title, list] of [
          ["Proposed (waiting for approval)", v.proposed],
          ["Decided", v.decided],
        ] as const) {
          ctx.out(`${title}: ${list.length}`);
          for (const c of list)
            ctx.out(
              `  ${c.id}  ${c.customer_id}  ${c.invoice_number}  ${c.kind}  ${c.amount_formatted}  ${c.status}  (${c.detail})`,
            );
        }
        return;
      }
      if (!(ACTIONS as readonly string[]).includes(action))
        throw new UserError("usage", `unknown charges action "${action}": use one of ${ACTIONS.join(", ")}`);
      if (!opts.charge) throw new UserError("usage", `charges ${action} needs --charge <id>`);
      const r = await chargeAction(deps, org, opts.charge, action as (typeof ACTIONS)[number], "cli");
      ctx.out(opts.json ? JSON.stringify(r, null, 2) : r.message);
    });
}
