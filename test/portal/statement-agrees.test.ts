/**
 * The PDF statement and the customers' page show the same open items and the same total, from one ledger:
 * paid and void invoices on neither, a disputed invoice listed on both but owed on neither, two currencies kept
 * apart, amounts in the one money format.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatMoney } from "../../src/format";
import { issuePageToken } from "../../src/portal/token";
import { disputeInvoice, makeCustomer, makeInvoice, makeOrg } from "../reminders/factories";
import { compressedPdfText, SECRET, type World, world } from "./support";

let w: World;
beforeEach(async () => {
  w = await world(null, "2026-03-10T10:00:00Z");
});
afterEach(async () => {
  await w.close();
});

describe("statement and customers' page", () => {
  it("list the same open items with the same totals", async () => {
    const org = await makeOrg(w.store, { locale: "en-US" });
    const c = await makeCustomer(w.store, org, { name: "Bright Bakery Inc." });
    await makeInvoice(w.store, org, c.externalId, {
      number: "S-1",
      dueDate: "2026-02-01",
      totalMinor: 1234_56,
    });
    await makeInvoice(w.store, org, c.externalId, {
      number: "S-2",
      dueDate: "2026-03-20",
      totalMinor: 500_00,
      amountDueMinor: 200_00,
    });
    const disputed = await makeInvoice(w.store, org, c.externalId, {
      number: "S-3",
      dueDate: "2026-01-15",
      totalMinor: 1894_00,
    });
    await disputeInvoice(w.store, org, disputed.externalId, 1);
    await makeInvoice(w.store, org, c.externalId, {
      number: "S-4",
      dueDate: "2026-02-10",
      totalMinor: 80_00,
      currency: "EUR",
    });
    await makeInvoice(w.store, org, c.externalId, {
      number: "S-5",
      dueDate: "2026-02-01",
      amountDueMinor: 0,
    });
    await makeInvoice(w.store, org, c.externalId, { number: "S-6", dueDate: "2026-02-01", status: "void" });

    const token = await issuePageToken(
      w.store.db,
      SECRET,
      { orgId: org.id, contactId: c.id },
      w.clock.now(),
      45,
    );
    const page = await (await w.app.request(`/c/${token}`)).text();
    const pdf = compressedPdfText(
      Buffer.from(await (await w.app.request(`/c/${token}/statement.pdf`)).arrayBuffer()),
    );

    const gbp = formatMoney({ minor: 1234_56 + 200_00, currency: "GBP" }, "en-US");
    const eur = formatMoney({ minor: 80_00, currency: "EUR" }, "en-US");
    const disputedGbp = formatMoney({ minor: 1894_00, currency: "GBP" }, "en-US");
    for (const [name, text] of [
      ["page", page],
      ["pdf", pdf],
    ] as const) {
      for (const n of ["S-1", "S-2", "S-3", "S-4"]) expect(text, `${name} lists ${n}`).toContain(n);
      for (const n of ["S-5", "S-6"]) expect(text, `${name} leaves out ${n}`).not.toContain(n);
      expect(text, `${name} GBP total`).toContain(gbp);
      expect(text, `${name} EUR total`).toContain(eur);
      expect(text, `${name} disputed apart`).toContain(disputedGbp);
      expect(text).not.toContain(
        formatMoney({ minor: 1234_56 + 200_00 + 1894_00, currency: "GBP" }, "en-US"),
      );
    }
    expect(page).toContain(`data-testid="total-GBP">${gbp}<`);
  });
});
