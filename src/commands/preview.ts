/** `creditpulse preview --org <slug> --customer <id> [--level N]`: what that customer would receive. */

import { type Command, InvalidArgumentError } from "commander";
import { UserError } from "../errors";
import { createLogger } from "../log";
import { validAddresses } from "../mail/address";
import { evaluateContact, notChaseable } from "../reminders/plan";
import { createPlanCache } from "../reminders/plan-cache";
import { choosePolicy } from "../reminders/policy";
import { historyOf, loadRunContext, payFor, reminderFields } from "../reminders/run-context";
import { localMoment } from "../reminders/window";
import { findContactByExternalId } from "../store/contacts";
import { loadPlanRows } from "../store/plan-rows";
import { type CommandContext, orgOption } from "./context";

function level(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a level number (1, 2, ...)");
  return n;
}

export function registerPreview(program: Command, ctx: CommandContext): void {
  program
    .command("preview")
    .description("Render the reminder a customer would receive now (nothing is sent)")
    .requiredOption("--org <slug>", "organisation")
    .requiredOption("--customer <id>", "customer id in the ledger (external id)")
    .option(
      "--level <n>",
      "render this level of the customer's policy instead of the one it has reached",
      level,
    )
    .option("--html", "print the HTML part instead of the text part")
    .option("--json", "print subject, recipients and both parts as JSON")
    .action(
      async (opts: { org: string; customer: string; level?: number; html?: boolean; json?: boolean }) => {
        const store = ctx.store();
        const config = ctx.config();
        const org = await orgOption(store.db, opts.org);
        const found = await findContactByExternalId(store.db, org.id, opts.customer);
        if (!found) throw new UserError("not_found", `customer ${opts.customer} not found in ${org.slug}`);
        const now = ctx.clock.now();
        const at = { kind: "instant", at: now } as const;
        const deps = { store, config, log: ctx.io.log ?? createLogger(config.LOG_LEVEL) };
        const run = await loadRunContext(deps, org, at);
        const rows = await loadPlanRows(store.db, org, { asOf: run.latest, contactId: found.id });
        const contact = rows.contacts[0]!;
        const verdict = evaluateContact(
          contact,
          rows.invoices,
          {
            settings: run.planSettings,
            policies: run.policies,
            claimedOffset: new Map(),
            outstandingBase: rows.outstandingBase,
            sentOffsets: rows.sentOffsets,
            at,
          },
          createPlanCache(),
        );
        const policy = choosePolicy(
          {
            contactPolicyId: contact.policyId,
            grade: contact.grade,
            gradePolicies: run.planSettings.gradePolicies,
            defaultPolicyId: run.planSettings.defaultPolicyId,
          },
          run.policies,
        );
        const timeZone = contact.timezone ?? org.timezone;
        const local = localMoment(now, timeZone);
        let listed = verdict.listed;
        const top = listed.reduce((m, p) => Math.max(m, p.level.level), 0);
        const wanted = opts.level ?? top;
        if (wanted === 0) {
          ctx.out(
            `${contact.externalId} has no invoice that has reached a reminder level: nothing would be sent.`,
          );
          return;
        }
        const chosen = policy.levels[wanted - 1];
        if (!chosen)
          throw new UserError("invalid_level", `policy ${policy.name} has ${policy.levels.length} levels`);
        if (listed.length === 0) {
          // Show the open invoices the chosen level would speak about.
          const today = Date.parse(local.date);
          listed = rows.invoices
            .filter((i) => notChaseable(i, local.date, 0) === null)
            .map((invoice) => ({
              invoice,
              level: chosen,
              daysOverdue: Math.round((today - Date.parse(invoice.dueDate)) / 86_400_000),
              due: true,
            }));
        }
        const to = validAddresses(contact.emails);
        const history = await historyOf(store.db, contact.id, timeZone);
        const fields = reminderFields(
          deps,
          org,
          run.settings,
          { contact, to, level: chosen, invoices: listed, local },
          undefined,
          history,
          await payFor(run, listed),
        );
        const r = await run.renderer.render(chosen.template, fields);
        if (opts.json) {
          ctx.out(
            JSON.stringify({ customer_id: contact.externalId, to, level: chosen.level, ...r }, null, 2),
          );
          return;
        }
        ctx.out(`To: ${to.join(", ") || "(no valid address)"}`);
        ctx.out(`Subject: ${r.subject}`);
        ctx.out(`Level: ${chosen.level} (${chosen.name}, policy ${policy.name})`);
        if (verdict.skip) ctx.out(`Note: a run now would skip this customer: ${verdict.skip.reason}`);
        ctx.out("");
        ctx.out(opts.html ? r.html : r.text);
      },
    );
}
