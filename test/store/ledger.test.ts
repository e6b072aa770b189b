import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CanonicalCreditNote, CanonicalInvoice, CanonicalPayment } from "../../src/model";
import { upsertContacts } from "../../src/store/contacts";
import type { Store } from "../../src/store/db";
import {
  MissingReferenceError,
  upsertCreditNotes,
  upsertInvoices,
  upsertPayments,
} from "../../src/store/ledger";
import { ensureOrg } from "../../src/store/orgs";
import { contacts, creditNoteAllocations, paymentAllocations } from "../../src/store/schema";
import { testStore } from "../support/db";

let store: Store;
let orgId: string;
const T0 = 1_000;

beforeEach(async () => {
  store = testStore();
  orgId = (
    await ensureOrg(
      store.db,
      { slug: "o", name: "O", baseCurrency: "GBP", timezone: "UTC", provider: "csv" },
      T0,
    )
  ).org.id;
  await upsertContacts(store, orgId, [{ externalId: "C1", name: "Acme", emails: ["a@acme.example"] }], T0);
});
afterEach(async () => {
  await store.close();
});

const invoice = (over: Partial<CanonicalInvoice> = {}): CanonicalInvoice => ({
  externalId: "I1",
  contactExternalId: "C1",
  number: "INV-1",
  issueDate: "2026-01-01",
  dueDate: "2026-01-31",
  currency: "GBP",
  totalMinor: 10_000,
  amountPaidMinor: 0,
  amountCreditedMinor: 0,
  amountDueMinor: 10_000,
  status: "authorised",
  ...over,
});

describe("ledger upserts", () => {
  it("count created, updated and unchanged, and keep user-set contact fields on update", async () => {
    await store.db.update(contacts).set({ optedOut: true, chasingPausedUntil: "2026-12-01" });
    const again = await upsertContacts(
      store,
      orgId,
      [{ externalId: "C1", name: "Acme Ltd", emails: ["a@acme.example"] }],
      T0 + 1,
    );
    expect(again).toEqual({ created: 0, updated: 1, unchanged: 0 });
    const c = (await store.db.select().from(contacts))[0]!;
    expect(c).toMatchObject({
      name: "Acme Ltd",
      optedOut: true,
      chasingPausedUntil: "2026-12-01",
      updatedAt: T0 + 1,
    });
    expect(await upsertInvoices(store, orgId, [invoice()], T0)).toEqual({
      created: 1,
      updated: 0,
      unchanged: 0,
    });
    expect(await upsertInvoices(store, orgId, [invoice()], T0 + 2)).toEqual({
      created: 0,
      updated: 0,
      unchanged: 1,
    });
    expect(await upsertInvoices(store, orgId, [invoice({ dueDate: "2026-02-15" })], T0 + 3)).toEqual({
      created: 0,
      updated: 1,
      unchanged: 0,
    });
  });

  it("replaces a payment's allocations when they change, and a deleted payment pays nothing", async () => {
    await upsertInvoices(store, orgId, [invoice(), invoice({ externalId: "I2", number: "INV-2" })], T0);
    const pay = (over: Partial<CanonicalPayment> = {}): CanonicalPayment => ({
      externalId: "P1",
      contactExternalId: "C1",
      date: "2026-02-01",
      currency: "GBP",
      amountMinor: 6_000,
      allocations: [{ invoiceExternalId: "I1", amountMinor: 6_000, date: "2026-02-01" }],
      ...over,
    });
    expect(await upsertPayments(store, orgId, [pay()], T0)).toEqual({ created: 1, updated: 0, unchanged: 0 });
    expect(await upsertPayments(store, orgId, [pay()], T0 + 1)).toEqual({
      created: 0,
      updated: 0,
      unchanged: 1,
    });
    const moved = pay({
      allocations: [
        { invoiceExternalId: "I1", amountMinor: 4_000, date: "2026-02-01" },
        { invoiceExternalId: "I2", amountMinor: 2_000, date: "2026-02-01" },
      ],
    });
    expect(await upsertPayments(store, orgId, [moved], T0 + 2)).toEqual({
      created: 0,
      updated: 1,
      unchanged: 0,
    });
    const allocs = await store.db.select().from(paymentAllocations);
    expect(allocs.map((a) => a.amountMinor).sort()).toEqual([2_000, 4_000]);
    await upsertPayments(store, orgId, [pay({ deleted: true })], T0 + 3);
    expect(await store.db.select().from(paymentAllocations)).toEqual([]);
  });

  it("records credit-note allocations and drops them when the note is voided", async () => {
    await upsertInvoices(store, orgId, [invoice()], T0);
    const cn: CanonicalCreditNote = {
      externalId: "CN1",
      contactExternalId: "C1",
      number: "CN-1",
      issueDate: "2026-01-15",
      currency: "GBP",
      totalMinor: 1_000,
      remainingMinor: 0,
      status: "paid",
      allocations: [{ invoiceExternalId: "I1", amountMinor: 1_000, date: "2026-01-15" }],
    };
    await upsertCreditNotes(store, orgId, [cn], T0);
    expect(await store.db.select().from(creditNoteAllocations)).toHaveLength(1);
    await upsertCreditNotes(store, orgId, [{ ...cn, status: "void" }], T0 + 1);
    expect(await store.db.select().from(creditNoteAllocations)).toHaveLength(0);
  });

  it("refuses an invoice for an unknown contact, naming both", async () => {
    await expect(upsertInvoices(store, orgId, [invoice({ contactExternalId: "NOPE" })], T0)).rejects.toThrow(
      MissingReferenceError,
    );
    await expect(upsertInvoices(store, orgId, [invoice({ contactExternalId: "NOPE" })], T0)).rejects.toThrow(
      /invoice I1 refers to unknown contact NOPE/,
    );
    expect((await store.db.select().from(contacts).where(eq(contacts.externalId, "NOPE"))).length).toBe(0);
  });
});

describe("contact fields a ledger does not know", () => {
  it("keeps a credit limit set in Creditpulse when a sync brings contacts without one", async () => {
    await store.db.update(contacts).set({ creditLimitMinor: 500_000, timezone: "Pacific/Auckland" });
    const r = await upsertContacts(
      store,
      orgId,
      [{ externalId: "C1", name: "Acme", emails: ["new@acme.example"] }],
      T0 + 1,
    );
    expect(r).toEqual({ created: 0, updated: 1, unchanged: 0 });
    const c = (await store.db.select().from(contacts))[0]!;
    expect(c).toMatchObject({
      emails: ["new@acme.example"],
      creditLimitMinor: 500_000,
      timezone: "Pacific/Auckland",
    });
    await upsertContacts(
      store,
      orgId,
      [{ externalId: "C1", name: "Acme", emails: [], creditLimitMinor: null }],
      T0 + 2,
    );
    expect((await store.db.select().from(contacts))[0]!.creditLimitMinor).toBeNull();
  });
});
