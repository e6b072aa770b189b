/** A Xero-connected organisation on the test's D1, with the fake Xero answering for its tenant. */

import type { Deps } from "../src/deps";
import { sealTokens } from "../src/store/connection-tokens";
import { createConnection } from "../src/store/connections";
import { ensureOrg } from "../src/store/orgs";
import { contactRecord, type FakeXero, installFakeXero, invoiceRecord } from "./fake-xero";

export const XERO_TOKEN = "xero-access-token-workers";

export async function xeroOrg(deps: Deps, slug: string, tenantId: string, invoices = 30) {
  const now = Date.now();
  const { org } = await ensureOrg(
    deps.store.db,
    { slug, name: `${slug} Ltd`, baseCurrency: "GBP", timezone: "Europe/London", provider: "xero" },
    now,
  );
  const sealed = await sealTokens(deps.sealer, {
    accessToken: XERO_TOKEN,
    refreshToken: "refresh",
    expiresAt: now + 3_600_000,
  });
  const connection = await createConnection(
    deps.store.db,
    { orgId: org.id, provider: "xero", tenantId, tenantName: slug },
    sealed,
    now + 3_600_000,
    now,
  );
  const xero: FakeXero = installFakeXero(XERO_TOKEN);
  for (let c = 0; c < 3; c++)
    xero.data.Contacts!.push(contactRecord(`c-${c}`, `Buyer ${c}`, `ap${c}@buyer.test`, now - 86_400_000));
  for (let i = 0; i < invoices; i++)
    xero.data.Invoices!.push(
      invoiceRecord({
        id: `inv-${i}`,
        contactId: `c-${i % 3}`,
        number: `NW-${i}`,
        date: "2026-09-01",
        due: "2026-10-01",
        total: 100 + i,
        updated: now - 86_400_000 + i,
      }),
    );
  return { org, connection, xero };
}
