/**
 * Late-payment charges in a CSV organisation's reminder runs: a fixed fee per level is proposed after each
 * level's email (never twice), approval records it without writing anything (a CSV ledger), and from then on
 * the reminder emails name the charge (the `late_charges` merge field in the default layout). Until a charge
 * applies, reminders say nothing about charges.
 */
import { describe, expect, it } from "vitest";
import { actOnCharge } from "../../src/reminders/charge-worker";
import { listCharges, saveChargeSettings } from "../../src/store/charges";
import { ensureReminderSetup, upsertPolicy } from "../../src/store/reminder-settings";
import { runCli } from "../support/cli";
import { useTestStore } from "../support/db";
import { useInbox } from "../support/smtp";
import { harness, makeCustomer, makeInvoice, makeOrg } from "./factories";

const inbox = useInbox();
const store = useTestStore();

describe("charges in reminders (CSV organisation)", () => {
  it("proposes a fee per level once, records an approved one without writing, and names it in later reminders", async () => {
    const h = harness(store, inbox, "2026-03-03T10:00:00Z");
    const org = await makeOrg(store);
    await ensureReminderSetup(store.db, org, 0);
    await upsertPolicy(
      store.db,
      org.id,
      "default",
      [
        { offsetDays: 1, template: "overdue", name: "Overdue" },
        { offsetDays: 7, template: "firm", name: "Second reminder" },
      ],
      0,
    );
    await saveChargeSettings(
      store,
      org.id,
      { rule: { kind: "fixed", currency: "GBP", feePerLevel: [1500, 2500] } },
      "test",
      0,
    );
    const c = await makeCustomer(store, org, { emails: ["ap@late.example"] });
    const inv = await makeInvoice(store, org, c.externalId, {
      issueDate: "2026-02-01",
      dueDate: "2026-03-02",
    });

    await h.run(org);
    expect(inbox.messages).toHaveLength(1);
    expect(inbox.messages[0]!.parsed.text).not.toMatch(/charge/i);
    const [fee] = await listCharges(store.db, org.id);
    expect(fee).toMatchObject({ kind: "fee", period: "level-1", amountMinor: 1500, status: "proposed" });
    h.clock.set(Date.parse("2026-03-04T10:00:00Z"));
    await h.run(org);
    expect(await listCharges(store.db, org.id)).toHaveLength(1);

    // The command line lists it and approves it (a CSV ledger: recorded, nothing written).
    const listed = await runCli(["charges", "--org", org.slug, "--json"], store, h.clock);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).proposed).toMatchObject([
      { id: fee!.id, invoice_number: inv.number, kind: "fee", amount: 1500, amount_formatted: "£15.00" },
    ]);
    const cli = await runCli(
      ["charges", "approve", "--org", org.slug, "--charge", fee!.id, "--json"],
      store,
      h.clock,
    );
    expect(cli.code).toBe(0);
    const done = JSON.parse(cli.stdout);
    expect(done).toMatchObject({ status: "recorded" });
    expect(done.message).toMatch(/CSV ledger: nothing is written/);
    await expect(actOnCharge(h.deps, org, fee!.id, "approve", "user:u1", h.clock.now())).rejects.toThrow(
      /already recorded/,
    );
    const bad = await runCli(["charges", "approve", "--org", org.slug], store, h.clock);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("charges approve needs --charge <id>");

    h.clock.set(Date.parse("2026-03-09T10:00:00Z"));
    await h.run(org);
    expect(inbox.messages).toHaveLength(2);
    const second = inbox.messages[1]!.parsed;
    expect(second.text).toContain(
      `Late-payment charges added under our terms of trade: £15.00 (£15.00 on invoice ${inv.number}), invoiced separately.`,
    );
    expect(second.html).toContain("<strong>£15.00</strong>");
    const all = await listCharges(store.db, org.id);
    expect(all.map((x) => [x.period, x.amountMinor, x.status])).toEqual([
      ["level-2", 2500, "proposed"],
      ["level-1", 1500, "recorded"],
    ]);
    await h.close();
  });
});
