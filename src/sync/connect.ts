/**
 * Turns a completed OAuth consent into organisations and connections. One consent can cover several tenants;
 * they share one token set (refresh tokens are single-use), kept sealed on the first tenant's connection.
 * A tenant connected before keeps its organisation (a reconnect) and gets the new tokens.
 */
import { eq } from "drizzle-orm";
import type { ProviderTokenSet } from "../../connectors/connector";
import { sealTokens } from "../../connectors/tokens";
import type { Deps } from "../deps";
import { isCurrencyCode, isTimeZone } from "../model";
import { audit } from "../store/audit";
import { type Connection, createConnection, findConnectionByTenant } from "../store/connections";
import { ensureOrg, findOrgBySlug, type Organisation } from "../store/orgs";
import { organisations } from "../store/schema";

export interface TenantToConnect {
  tenantId: string;
  tenantName: string;
  providerConnectionId?: string | null;
}

export interface TenantDetails {
  name: string;
  baseCurrency: string;
  timezone: string;
  countryCode: string | null;
  isDemo?: boolean;
}

export interface ConnectedTenant {
  org: Organisation;
  connection: Connection;
  created: boolean;
}

/** A url-safe slug for an organisation name. */
export function slugify(name: string): string {
  const s = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48)
    .replace(/-+$/g, "");
  return s || "org";
}

async function freeSlug(deps: Deps, name: string): Promise<string> {
  const base = slugify(name);
  for (let n = 1; n < 1000; n++) {
    const slug = n === 1 ? base : `${base}-${n}`;
    if (!(await findOrgBySlug(deps.store.db, slug))) return slug;
  }
  throw new Error(`no free slug for ${name}`);
}

export async function connectTenants(
  deps: Deps,
  provider: "xero" | "quickbooks",
  tokens: ProviderTokenSet,
  tenants: TenantToConnect[],
  describe: (tenant: TenantToConnect) => Promise<TenantDetails>,
): Promise<ConnectedTenant[]> {
  const out: ConnectedTenant[] = [];
  const sealed = await sealTokens(deps.sealer, tokens);
  let holder: Connection | undefined;
  // A tenant listed twice is connected once: a second pass would make its connection share its own tokens.
  const unique = tenants.filter((t, i) => tenants.findIndex((u) => u.tenantId === t.tenantId) === i);
  for (const tenant of unique) {
    const now = deps.clock.now();
    const existing = await findConnectionByTenant(deps.store.db, provider, tenant.tenantId);
    let org: Organisation;
    let created = false;
    if (existing) {
      const rows = await deps.store.db
        .select()
        .from(organisations)
        .where(eq(organisations.id, existing.orgId))
        .limit(1);
      org = rows[0]!;
    } else {
      const d = await describe(tenant);
      const made = await ensureOrg(
        deps.store.db,
        {
          slug: await freeSlug(deps, d.name),
          name: d.name,
          baseCurrency: isCurrencyCode(d.baseCurrency) ? d.baseCurrency : "USD",
          timezone: isTimeZone(d.timezone) ? d.timezone : "UTC",
          country: d.countryCode,
          provider,
          isDemo: false,
        },
        now,
      );
      org = made.org;
      created = made.created;
    }
    const connection = await createConnection(
      deps.store.db,
      {
        orgId: org.id,
        provider,
        tenantId: tenant.tenantId,
        tenantName: tenant.tenantName,
        tokenConnectionId: holder ? holder.id : null,
        providerConnectionId: tenant.providerConnectionId ?? null,
      },
      holder ? null : sealed,
      holder ? null : tokens.expiresAt,
      now,
    );
    holder ??= connection;
    await audit(
      deps.store.db,
      {
        orgId: org.id,
        actor: "user",
        action: existing ? "connection.reconnected" : "connection.created",
        detail: { provider, tenant: tenant.tenantName },
      },
      now,
    );
    out.push({ org, connection, created });
  }
  return out;
}
