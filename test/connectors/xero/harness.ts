/** Shared set-up for the Xero tests: fixed clock, fake sleeps, the fake Xero, a connector, a connected org. */
import type { Sleep } from "../../../connectors/limits";
import { registerConnector } from "../../../connectors/registry";
import { createXeroConnector, type XeroConnectorOptions } from "../../../connectors/xero/index";
import { fixedClock } from "../../../src/clock";
import type { Deps } from "../../../src/deps";
import { connectTenants } from "../../../src/sync/connect";
import { testDeps } from "../../support/deps";
import {
  CLIENT_ID,
  CLIENT_SECRET,
  contactRecord,
  createFakeXero,
  creditNoteRecord,
  type FakeXeroOptions,
  guid,
  invoiceRecord,
  overpaymentRecord,
  paymentRecord,
  WEBHOOK_KEY,
} from "./fake-xero";

export const XERO_ENV = {
  XERO_CLIENT_ID: CLIENT_ID,
  XERO_CLIENT_SECRET: CLIENT_SECRET,
  XERO_WEBHOOK_KEY: WEBHOOK_KEY,
  PUBLIC_URL: "https://creditpulse.example.com",
};

export async function xeroHarness(
  opts: { fake?: Omit<FakeXeroOptions, "clock">; connector?: XeroConnectorOptions; deps?: Deps } = {},
) {
  const clock = fixedClock("2026-11-20T10:00:00Z");
  const sleeps: number[] = [];
  // Fake sleep: moves the clock instead of waiting, and lets other promises run.
  const sleep: Sleep = async (ms) => {
    sleeps.push(ms);
    clock.advance(ms);
    await new Promise((r) => setImmediate(r));
  };
  const deps = opts.deps ?? (await testDeps({ clock, env: XERO_ENV }));
  const fake = await createFakeXero({ clock, ...opts.fake });
  const connector = createXeroConnector({
    clock,
    sleep,
    retry: { random: () => 0.5 },
    pageSize: 2,
    ...opts.connector,
  });
  registerConnector(connector);

  /** Connects the fake's tenants (as the OAuth flow would) with fresh tokens from the fake. */
  async function connect(tenantIndexes = [0]) {
    const grant = await fake.grant();
    const tokens = { ...grant, expiresAt: clock.now() + 30 * 60_000 };
    return connectTenants(
      deps,
      "xero",
      tokens,
      tenantIndexes.map((i) => ({
        tenantId: fake.tenants[i]!.id,
        tenantName: fake.tenants[i]!.name,
        providerConnectionId: fake.tenants[i]!.connectionId,
      })),
      (t) =>
        connector.organisation({
          orgId: "",
          connectionId: "",
          tenantId: t.tenantId,
          accessToken: async () => tokens.accessToken,
        }),
    );
  }

  return { clock, sleep, sleeps, deps, fake, connector, connect };
}

const T0 = Date.parse("2026-10-01T00:00:00Z");
const HOUR = 3_600_000;

/** A small ledger in the fake: 5 customers, 7 receivable invoices (and a bill), payments, credits. */
export function seedLedger(data: ReturnType<Awaited<ReturnType<typeof xeroHarness>>["fake"]["data"]>) {
  const c = (n: number) => guid(1, n);
  const inv = (n: number) => guid(2, n);
  data.Contacts.push(
    contactRecord({ id: c(1), name: "Boom FM", email: "ap@boomfm.example", updated: T0 + 1 * HOUR }),
    contactRecord({
      id: c(2),
      name: "City Agency",
      email: "accounts@city.example",
      persons: [
        { email: "jo@city.example", include: true },
        { email: "ceo@city.example", include: false },
      ],
      updated: T0 + 2 * HOUR,
    }),
    contactRecord({ id: c(3), name: "Marine Systems", updated: T0 + 3 * HOUR }),
    contactRecord({
      id: c(4),
      name: "Ridgeway University",
      email: "finance@ridgeway.example",
      updated: T0 + 4 * HOUR,
    }),
    contactRecord({ id: c(5), name: "Old Customer", status: "ARCHIVED", updated: T0 + 5 * HOUR }),
  );
  data.Invoices.push(
    invoiceRecord({
      id: inv(1),
      contactId: c(1),
      number: "INV-0001",
      date: "2026-09-01",
      due: "2026-09-30",
      total: 541.25,
      paid: 541.25,
      updated: T0 + 10 * HOUR,
    }),
    invoiceRecord({
      id: inv(2),
      contactId: c(1),
      number: "INV-0002",
      date: "2026-09-05",
      due: "2026-10-05",
      total: 100,
      paid: 40,
      updated: T0 + 11 * HOUR,
    }),
    invoiceRecord({
      id: inv(3),
      contactId: c(2),
      number: "INV-0003",
      date: "2026-09-10",
      due: "2026-10-10",
      total: 2500,
      updated: T0 + 12 * HOUR,
    }),
    invoiceRecord({
      id: inv(4),
      contactId: c(2),
      number: "INV-0004",
      date: "2026-09-12",
      due: "2026-10-12",
      total: 80,
      credited: 30,
      updated: T0 + 13 * HOUR,
    }),
    invoiceRecord({
      id: inv(5),
      contactId: c(3),
      number: "INV-0005",
      date: "2026-09-15",
      due: "2026-10-15",
      total: 99.99,
      status: "VOIDED",
      updated: T0 + 14 * HOUR,
    }),
    invoiceRecord({
      id: inv(6),
      contactId: c(4),
      number: "INV-0006",
      date: "2026-10-01",
      due: "2026-10-31",
      total: 1200,
      updated: T0 + 15 * HOUR,
    }),
    invoiceRecord({
      id: inv(7),
      contactId: c(5),
      number: "INV-0007",
      date: "2026-08-01",
      due: "2026-08-31",
      total: 60,
      updated: T0 + 16 * HOUR,
    }),
    invoiceRecord({
      id: inv(8),
      contactId: c(3),
      number: "BILL-1",
      date: "2026-09-01",
      due: "2026-09-30",
      total: 31.39,
      type: "ACCPAY",
      updated: T0 + 17 * HOUR,
    }),
  );
  data.Payments.push(
    paymentRecord({
      id: guid(3, 1),
      invoiceId: inv(1),
      contactId: c(1),
      amount: 541.25,
      date: "2026-09-28",
      updated: T0 + 20 * HOUR,
    }),
    paymentRecord({
      id: guid(3, 2),
      invoiceId: inv(2),
      contactId: c(1),
      amount: 40,
      date: "2026-10-01",
      updated: T0 + 21 * HOUR,
    }),
    paymentRecord({
      id: guid(3, 3),
      invoiceId: inv(3),
      contactId: c(2),
      amount: 10,
      date: "2026-10-02",
      status: "DELETED",
      updated: T0 + 22 * HOUR,
    }),
  );
  data.CreditNotes.push(
    creditNoteRecord({
      id: guid(4, 1),
      contactId: c(2),
      number: "CN-0001",
      date: "2026-09-20",
      total: 30,
      allocations: [{ invoiceId: inv(4), amount: 30, date: "2026-09-20" }],
      updated: T0 + 30 * HOUR,
    }),
  );
  data.Overpayments.push(
    overpaymentRecord({
      id: guid(5, 1),
      contactId: c(4),
      date: "2026-10-03",
      total: 20,
      remaining: 20,
      updated: T0 + 31 * HOUR,
    }),
  );
  data.Prepayments.push(
    overpaymentRecord({
      id: guid(6, 1),
      contactId: c(4),
      date: "2026-10-04",
      total: 300,
      remaining: 300,
      updated: T0 + 32 * HOUR,
      kind: "Prepayments",
    }),
  );
  return { c, inv, T0, HOUR };
}
