/**
 * Late-payment charges end to end against the fake Xero and QuickBooks (msw, recorded shapes): a run proposes
 * them (never twice), a person approves, and the approved charge is written to the ledger as a new sales
 * invoice referencing the original exactly once, across two runs and across a crash between the write and its
 * record (the next run finds the invoice by its reference instead of creating a second one). A disputed invoice
 * or one under a standing promise is not charged. CSV organisations record approved charges without writing.
 */
import { and, eq } from "drizzle-orm";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/deps";
import {
  actOnCharge,
  CHARGE_WRITE_LEASE_MS,
  type ChargeDeps,
  proposeDueCharges,
  writeApprovedCharges,
} from "../../src/reminders/charge-worker";
import { writeBackFor } from "../../src/reminders/write-back";
import { claimChargeWrite, decideCharge, listCharges, saveChargeSettings } from "../../src/store/charges";
import type { Organisation } from "../../src/store/orgs";
import { addPause } from "../../src/store/pauses";
import { charges, invoices } from "../../src/store/schema";
import { syncConnection } from "../../src/sync/sync-connections";
import { connectedOrg, FakeQbo, qboDeps } from "../connectors/quickbooks/fake-qbo";
import { seedLedger, xeroHarness } from "../connectors/xero/harness";

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const chargeDeps = (deps: Deps, org: Organisation): ChargeDeps => ({
  store: deps.store,
  log: deps.log,
  ...writeBackFor(deps, org),
});

async function invoiceId(deps: Deps, orgId: string, number: string) {
  const [row] = await deps.store.db
    .select()
    .from(invoices)
    .where(and(eq(invoices.orgId, orgId), eq(invoices.number, number)));
  return row!;
}

describe("charges written to Xero", () => {
  async function setup() {
    const h = await xeroHarness();
    server.use(...h.fake.handlers);
    seedLedger(h.fake.data());
    const [first] = await h.connect();
    const org = first!.org;
    expect((await syncConnection(h.deps, first!.connection)).status).toBe("ok");
    // 12% a year after a 7-day grace period (the ledger is in NZD).
    await saveChargeSettings(
      h.deps.store,
      org.id,
      { rule: { kind: "percent", ratePerAnnumBp: 1200, graceDays: 7 } },
      "test",
      h.clock.now(),
    );
    return { ...h, org, cd: chargeDeps(h.deps, org) };
  }

  it("proposes once, writes an approved charge as one ACCREC invoice naming the original, even across runs and a crash", async () => {
    const h = await setup();
    const { org, cd, fake, clock } = h;
    const proposed = await proposeDueCharges(cd, org, "2026-11-20", clock.now());
    // INV-0003: 2,500.00 open since 2026-10-10, 41 days: 2,500 × 41 × 12% / 365 = 33.70
    const inv3 = await invoiceId(h.deps, org.id, "INV-0003");
    const charge = proposed.find((c) => c.invoiceId === inv3.id)!;
    expect(charge).toMatchObject({ kind: "interest", period: "2026-11", amountMinor: 3370, currency: "NZD" });
    // A second run the same day (or month) proposes nothing new.
    expect(await proposeDueCharges(cd, org, "2026-11-21", clock.now())).toEqual([]);
    expect(fake.state.invoicesCreated).toBe(0); // nothing reaches the ledger before approval

    const done = await actOnCharge(cd, org, charge.id, "approve", "user:u1", clock.now());
    expect(done.status).toBe("written");
    expect(fake.state.invoicesCreated).toBe(1);
    const made = fake.data().Invoices.filter((i) => i.Reference === charge.reference);
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({ Type: "ACCREC", Status: "DRAFT", Total: 33.7, CurrencyCode: "NZD" });
    expect(made[0]!.Contact.ContactID).toBe(
      fake.data().Invoices.find((i) => i.InvoiceNumber === "INV-0003")!.Contact.ContactID,
    );
    expect(made[0]!.LineItems[0].Description).toContain("invoice INV-0003");

    // Two more runs: nothing is written again.
    await writeApprovedCharges(cd, org, clock.now());
    await writeApprovedCharges(cd, org, clock.now() + 60_000);
    await expect(actOnCharge(cd, org, charge.id, "approve", "user:u1", clock.now())).rejects.toThrow(
      /already written/,
    );
    expect(fake.state.invoicesCreated).toBe(1);

    // A crash between the write and its record: a writer claims, Xero creates the invoice, the process dies.
    const other = (await listCharges(h.deps.store.db, org.id, ["proposed"]))[0]!;
    await decideCharge(h.deps.store, org.id, other.id, "approved", "user:u1", clock.now());
    const claimed = (await claimChargeWrite(h.deps.store.db, other.id, clock.now(), 0))!;
    await h.connector.writeChargeInvoice!(
      {
        orgId: org.id,
        connectionId: "",
        tenantId: fake.tenants[0]!.id,
        accessToken: async () => (await fake.grant()).accessToken,
      },
      {
        reference: claimed.reference,
        contactExternalId: fake.data().Contacts[0]!.ContactID,
        originalNumber: other.invoiceNumber,
        description: "written by the writer that died",
        amountMinor: claimed.amountMinor,
        currency: claimed.currency,
        date: "2026-11-20",
        dueDate: "2026-11-20",
        status: "DRAFT",
        account: null,
      },
    );
    expect(fake.state.invoicesCreated).toBe(2);
    // A run soon after leaves the claim alone (that writer may still be at work) ...
    expect(await writeApprovedCharges(cd, org, clock.now() + 60_000)).toEqual([]);
    // ... and once the lease is over, takes it over and finds the invoice by its reference: none is created.
    const later = await writeApprovedCharges(cd, org, clock.now() + CHARGE_WRITE_LEASE_MS + 1);
    expect(later.map((c) => [c.id, c.status])).toEqual([[other.id, "written"]]);
    expect(fake.state.invoicesCreated).toBe(2);
    expect(fake.data().Invoices.filter((i) => i.Reference === claimed.reference)).toHaveLength(1);
    const [row] = await h.deps.store.db.select().from(charges).where(eq(charges.id, other.id));
    expect(row!.ledgerId).toBe(
      fake.data().Invoices.find((i) => i.Reference === claimed.reference)!.InvoiceID,
    );

    // The charge invoices come back with the next sync, and are never charged themselves.
    clock.advance(60 * 60_000);
    const [conn] = await h.deps.store.db.select().from((await import("../../src/store/schema")).connections);
    await syncConnection(h.deps, conn!);
    const again = await proposeDueCharges(cd, org, "2026-12-31", clock.now());
    const chargeInvoiceIds = fake
      .data()
      .Invoices.filter((i) => i.Reference?.startsWith("CP-"))
      .map((i) => i.InvoiceID);
    const chargedLedgerIds = [];
    for (const c of again) {
      const [inv] = await h.deps.store.db.select().from(invoices).where(eq(invoices.id, c.invoiceId));
      chargedLedgerIds.push(inv!.externalId);
    }
    expect(chargedLedgerIds.some((id) => chargeInvoiceIds.includes(id))).toBe(false);
  });

  it("writes AUTHORISED when the organisation chose it, and retries a failed write on the next run", async () => {
    const h = await setup();
    const { org, cd, fake, clock } = h;
    await saveChargeSettings(
      h.deps.store,
      org.id,
      { ledgerStatus: "AUTHORISED", ledgerAccount: "260" },
      "t",
      0,
    );
    const [first] = await proposeDueCharges(cd, org, "2026-11-20", clock.now());
    fake.state.faults.push({
      status: 400,
      path: "/Invoices",
      body: { Message: "A validation exception occurred" },
    });
    const res = await actOnCharge(cd, org, first!.id, "approve", "user:u1", clock.now());
    expect(res.status).toBe("failed");
    expect(res.message).toMatch(/retries on the next run/);
    const [written] = await writeApprovedCharges(cd, org, clock.now() + 1);
    expect(written!.status).toBe("written");
    const made = fake.data().Invoices.filter((i) => i.Reference === first!.reference);
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({ Status: "AUTHORISED" });
    expect(made[0]!.LineItems[0].AccountCode).toBe("260");
  });
});

describe("charges written to QuickBooks", () => {
  it("writes an approved statutory charge as one Invoice (DocNumber = its reference), once across runs and a crash", async () => {
    const fake = new FakeQbo();
    server.use(...fake.handlers());
    const { deps, service, clock } = await qboDeps();
    const { org, connection } = await connectedOrg(deps, fake);
    expect((await service.sync(connection)).status).toBe("ok");
    await saveChargeSettings(deps.store, org.id, { rule: { kind: "uk-statutory", baseRateBp: 400 } }, "t", 0);
    const cd = chargeDeps(deps, org);
    const proposed = await proposeDueCharges(cd, org, "2026-11-20", clock.now());
    expect(proposed.length).toBeGreaterThan(0);
    const comp = proposed.find((c) => c.kind === "compensation")!;
    expect(comp.amountMinor).toBeOneOf([4_000, 7_000, 10_000]);
    expect(await proposeDueCharges(cd, org, "2026-11-25", clock.now())).toEqual([]);

    const res = await actOnCharge(cd, org, comp.id, "approve", "user:u1", clock.now());
    expect(res.status).toBe("written");
    const created = fake.apiCalls("/invoice").filter((c) => c.method === "POST");
    expect(created).toHaveLength(1);
    const body = created[0]!.body as { DocNumber: string; Line: { Description: string; Amount: number }[] };
    const original = await deps.store.db.select().from(invoices).where(eq(invoices.id, comp.invoiceId));
    expect(body).toMatchObject({ DocNumber: comp.reference, CustomerRef: { value: expect.any(String) } });
    expect(body.Line[0]!.Description).toContain(`invoice ${original[0]!.number}`);
    expect(body.Line[0]!.Amount).toBe(comp.amountMinor / 100);

    // Crash between write and record: the invoice exists in QuickBooks, the charge is still claimed.
    const interest = proposed.find((c) => c.kind === "interest")!;
    await decideCharge(deps.store, org.id, interest.id, "approved", "user:u1", clock.now());
    const claimed = (await claimChargeWrite(deps.store.db, interest.id, clock.now(), 0))!;
    await service.connector.writeChargeInvoice!(service.context(connection), {
      reference: claimed.reference,
      contactExternalId: "1",
      originalNumber: "x",
      description: "written by the writer that died",
      amountMinor: claimed.amountMinor,
      currency: "GBP",
      date: "2026-11-20",
      dueDate: "2026-11-20",
      status: "DRAFT",
      account: null,
    });
    expect(fake.invoicesCreated).toBe(2);
    await writeApprovedCharges(cd, org, clock.now() + 1);
    await writeApprovedCharges(cd, org, clock.now() + CHARGE_WRITE_LEASE_MS + 1);
    await writeApprovedCharges(cd, org, clock.now() + 2 * CHARGE_WRITE_LEASE_MS);
    expect(fake.invoicesCreated).toBe(2);
    const rows = await listCharges(deps.store.db, org.id, ["written"]);
    expect(rows.map((r) => r.id).sort()).toEqual([comp.id, interest.id].sort());
  });
});

describe("charges stop while a dispute or a promise stands", () => {
  it("proposes nothing on a disputed invoice or one promised for later, and charges once the promise is broken", async () => {
    const h = await xeroHarness();
    server.use(...h.fake.handlers);
    seedLedger(h.fake.data());
    const [first] = await h.connect();
    const org = first!.org;
    await syncConnection(h.deps, first!.connection);
    await saveChargeSettings(
      h.deps.store,
      org.id,
      { rule: { kind: "percent", ratePerAnnumBp: 1200, graceDays: 0 } },
      "t",
      0,
    );
    const cd = chargeDeps(h.deps, org);
    const inv3 = await invoiceId(h.deps, org.id, "INV-0003");
    // Another open, overdue invoice (the promised one).
    const open = await h.deps.store.db.select().from(invoices).where(eq(invoices.orgId, org.id));
    const inv5 = open.find(
      (i) =>
        i.id !== inv3.id && i.status === "authorised" && i.amountDueMinor > 0 && i.dueDate < "2026-11-20",
    )!;
    await h.deps.store.db.update(invoices).set({ disputedAt: 1 }).where(eq(invoices.id, inv3.id));
    await addPause(
      h.deps.store.db,
      { orgId: org.id, contactId: inv5.contactId, invoiceId: inv5.id, kind: "promise", until: "2026-11-30" },
      0,
    );
    const now = await proposeDueCharges(cd, org, "2026-11-20", h.clock.now());
    expect(now.map((c) => c.invoiceId)).not.toContain(inv3.id);
    expect(now.map((c) => c.invoiceId)).not.toContain(inv5.id);
    // The promise date passes unpaid: the invoice is charged from its due date.
    const later = await proposeDueCharges(cd, org, "2026-12-01", h.clock.now());
    expect(later.map((c) => c.invoiceId)).toContain(inv5.id);
    expect(later.map((c) => c.invoiceId)).not.toContain(inv3.id);
  });
});
