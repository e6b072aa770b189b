/**
 * `creditpulse holds --org <slug> [--json]` lists proposed, active and released credit holds;
 * `creditpulse holds approve|dismiss|place|release --org <slug> --customer <id> [--reason R] [--json]` acts on one.
 */
import type { Command } from "commander";
import { UserError } from "../errors";
import { formatDate, formatMoneyList } from "../format";
import { createLogger } from "../log";
import { transportFor } from "../mail/mailer-for";
import { dateInZone } from "../model";
import {
  actOnHold,
  HOLD_ACTIONS,
  holdActionDeps,
  holdEntryJson,
  type ManualHoldAction,
} from "../reminders/hold-actions";
import { contactForHold, listHolds } from "../store/holds";
import { type CommandContext, orgOption } from "./context";

export function registerHolds(program: Command, ctx: CommandContext): void {
  program
    .command("holds")
    .argument("[action]", `one of ${HOLD_ACTIONS.join(", ")} (none: list the holds)`)
    .description("List credit holds (proposed, active, released), or approve, dismiss, place or release one")
    .requiredOption("--org <slug>", "organisation")
    .option("--customer <id>", "the customer (CSV customer_id or the ledger's contact id)")
    .option("--reason <text>", "why (kept in the audit log and the ledger note)")
    .option("--json", "print the result as JSON")
    .action(
      async (
        action: string | undefined,
        opts: { org: string; customer?: string; reason?: string; json?: boolean },
      ) => {
        const store = ctx.store();
        const config = ctx.config();
        const org = await orgOption(store.db, opts.org);
        const now = ctx.clock.now();
        if (action === undefined) {
          const lists = await listHolds(store.db, org.id, dateInZone(now, org.timezone));
          if (opts.json) {
            ctx.out(
              JSON.stringify(
                {
                  proposed: lists.proposed.map(holdEntryJson),
                  active: lists.active.map(holdEntryJson),
                  released: lists.released.map(holdEntryJson),
                },
                null,
                2,
              ),
            );
            return;
          }
          for (const [title, list] of [
            ["Proposed (waiting for approval)", lists.proposed],
            ["On hold", lists.active],
            ["Released", lists.released],
          ] as const) {
            ctx.out(`${title}: ${list.length}`);
            for (const e of list)
              ctx.out(
                `  ${e.externalId}  ${e.name}  ${formatDate(dateInZone(e.at, org.timezone), org.locale)}  ` +
                  `overdue ${formatMoneyList(
                    e.overdue.map((o) => ({ minor: o.minor, currency: o.currency })),
                    org.locale,
                    "none",
                  )}  (${e.reason})`,
              );
          }
          return;
        }
        if (!(HOLD_ACTIONS as readonly string[]).includes(action))
          throw new UserError(
            "usage",
            `unknown holds action "${action}": use one of ${HOLD_ACTIONS.join(", ")}`,
          );
        if (!opts.customer) throw new UserError("usage", `holds ${action} needs --customer <id>`);
        const contact = await contactForHold(store.db, org.id, opts.customer);
        if (!contact) throw new UserError("not_found", `customer ${opts.customer} not found in ${org.slug}`);
        const mailer = (await transportFor(config)) ?? undefined;
        try {
          const deps = await ctx.deps();
          const log = ctx.io.log ?? createLogger(config.LOG_LEVEL);
          const r = await actOnHold(
            holdActionDeps({ ...deps, store, log }, org, mailer),
            org,
            contact,
            action as ManualHoldAction,
            { actor: "cli", who: "the command line", reason: opts.reason ?? null },
            now,
          );
          ctx.out(opts.json ? JSON.stringify(r, null, 2) : r.message);
        } finally {
          await mailer?.close();
        }
      },
    );
}
