/** Seeds the demo organisation from the seeded generator, through the same ledger writes every source uses. */
import { generateDemoLedger } from "../demo/generate";
import { dateInZone } from "../model";
import { audit } from "../store/audit";
import { contactIds, upsertContacts } from "../store/contacts";
import type { Store } from "../store/db";
import { upsertDemoProfile } from "../store/import-demo";
import { type LedgerCounts, upsertCreditNotes, upsertInvoices, upsertPayments } from "../store/ledger";
import { ensureOrg, findOrgBySlug } from "../store/orgs";

export interface DemoOptions {
  slug?: string;
  customers?: number;
  seed?: number | string;
  now: number;
}

export interface DemoResult {
  organisation: { slug: string; name: string; created: boolean };
  asOf: string;
  counts: LedgerCounts;
}

export const DEMO_TIMEZONE = "Europe/London";

/** Creates (or refreshes, idempotently) the demo organisation with a two-year ledger ending today. */
export async function seedDemo(store: Store, opts: DemoOptions): Promise<DemoResult> {
  const slug = opts.slug ?? "demo";
  const existing = await findOrgBySlug(store.db, slug);
  if (existing && !existing.isDemo)
    throw new Error(`organisation ${slug} exists and is not a demo organisation`);
  const asOf = dateInZone(opts.now, DEMO_TIMEZONE);
  const ledger = generateDemoLedger({ customers: opts.customers, seed: opts.seed, asOf });
  return store.atomically(async () => {
    const { org, created } = await ensureOrg(
      store.db,
      {
        slug,
        name: ledger.organisation.name,
        baseCurrency: ledger.organisation.baseCurrency,
        timezone: ledger.organisation.timezone,
        country: ledger.organisation.country,
        provider: "csv",
        isDemo: true,
      },
      opts.now,
    );
    const counts: LedgerCounts = {
      contacts: await upsertContacts(store, org.id, ledger.contacts, opts.now),
      invoices: await upsertInvoices(store, org.id, ledger.invoices, opts.now),
      payments: await upsertPayments(store, org.id, ledger.payments, opts.now),
      creditNotes: await upsertCreditNotes(store, org.id, ledger.creditNotes, opts.now),
    };
    const ids = await contactIds(
      store,
      org.id,
      ledger.truth.map((t) => t.contactExternalId),
    );
    for (const t of ledger.truth) {
      const contactId = ids.get(t.contactExternalId);
      if (!contactId) continue;
      await upsertDemoProfile(store.db, {
        contactId,
        orgId: org.id,
        profile: t.profile,
        changesOn: t.changesOn,
      });
    }
    if (created)
      await audit(
        store.db,
        { orgId: org.id, actor: "demo", action: "demo.seeded", detail: { asOf } },
        opts.now,
      );
    return { organisation: { slug: org.slug, name: org.name, created }, asOf, counts };
  });
}
