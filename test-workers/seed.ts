/** A small ledger written through the store's own sync path (writePage), on the test's D1. */
import type { Deps } from "../src/deps";
import type { CanonicalContact, CanonicalInvoice } from "../src/model";
import { ensureOrg, type Organisation } from "../src/store/orgs";
import { writePage } from "../src/sync/run-sync";

export async function seedOrg(
  deps: Deps,
  slug: string,
  opts: { customers?: number; provider?: "csv" | "xero"; email?: string } = {},
): Promise<Organisation> {
  const now = deps.clock.now();
  const { org } = await ensureOrg(
    deps.store.db,
    {
      slug,
      name: `${slug[0]!.toUpperCase()}${slug.slice(1)} Ltd`,
      baseCurrency: "GBP",
      timezone: "Europe/London",
      country: "GB",
      locale: "en-GB",
      provider: opts.provider ?? "csv",
    },
    now,
  );
  const n = opts.customers ?? 3;
  const contacts: CanonicalContact[] = [];
  const invoices: CanonicalInvoice[] = [];
  for (let i = 0; i < n; i++) {
    contacts.push({
      externalId: `C${i}`,
      name: `Customer ${i}`,
      emails: [opts.email ? opts.email.replace("@", `+${i}@`) : `ap${i}@customer.test`],
    });
    for (const [k, days] of [
      [0, 70],
      [1, 20],
    ] as const) {
      const issued = new Date(now - (days + 30) * 86_400_000).toISOString().slice(0, 10);
      const due = new Date(now - days * 86_400_000).toISOString().slice(0, 10);
      invoices.push({
        externalId: `I${i}-${k}`,
        contactExternalId: `C${i}`,
        number: `INV-${i}-${k}`,
        issueDate: issued,
        dueDate: due,
        currency: "GBP",
        totalMinor: 10_000 + i * 100 + k,
        amountPaidMinor: 0,
        amountCreditedMinor: 0,
        amountDueMinor: 10_000 + i * 100 + k,
        status: "authorised",
      });
    }
  }
  // Pages of 500 contacts, like a connector's.
  for (let i = 0; i < contacts.length; i += 500)
    await writePage(
      deps.store,
      org.id,
      {
        entity: "contacts",
        contacts: contacts.slice(i, i + 500),
        cursor: null,
        cursorKey: null,
        done: false,
      } as never,
      now,
    );
  for (let i = 0; i < invoices.length; i += 500)
    await writePage(
      deps.store,
      org.id,
      {
        entity: "invoices",
        invoices: invoices.slice(i, i + 500),
        cursor: null,
        cursorKey: null,
        done: false,
      } as never,
      now,
    );
  return org;
}
