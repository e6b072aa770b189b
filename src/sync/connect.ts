/**
 * Turns a completed OAuth consent into organisations and connections, for both providers (one flow), and
 * disconnects them again. One consent can cover several tenants (Xero); they share one token set (refresh
 * tokens are single-use), kept sealed on the first tenant's connection. A tenant connected before keeps its
 * organisation (a reconnect) and gets the new tokens. A new organisation takes its name, currency, timezone and
 * country from the connector's `organisation` read, and a free slug of its name.
 */
import type { ProviderOrganisation, ProviderTokenSet } from "../../connectors/connector";
import { disconnectTenant, revokeTokenSet } from "../../connectors/xero/oauth";
import type { Deps } from "../deps";
import { NotFoundError, UserError } from "../errors";
import { isCurrencyCode, isTimeZone } from "../model";
import { type AuditEntry, audit } from "../store/audit";
import { sealTokens, unsealTokens } from "../store/connection-tokens";
import {
  type Connection,
  clearTokens,
  connectionsSharingTokens,
  createConnection,
  findConnectionByTenant,
  findProviderConnection,
  getConnection,
  orgOfConnection,
  setConnectionStatus,
} from "../store/connections";
import { ensureOrg, findOrgBySlug, type Organisation } from "../store/orgs";
import { connectorForConnection } from "./context";
import { quickbooksFor } from "./quickbooks";
import { tokenKeeperFor } from "./tokens";
import { xeroOAuthConfig } from "./xero";

type LedgerProvider = "xero" | "quickbooks";

export interface TenantToConnect {
  tenantId: string;
  tenantName: string;
  providerConnectionId?: string | null;
}

/** What a tenant's new organisation is made from (the connector's `organisation` read). */
export type TenantDetails = ProviderOrganisation;

export interface ConnectedTenant {
  org: Organisation;
  connection: Connection;
  created: boolean;
}

/**
 * A completed consent: its tokens and the tenants to connect. A tenant without a name (QuickBooks: only the
 * realm id comes back) is named after its organisation, read first.
 */
export interface Consent {
  tokens: ProviderTokenSet;
  tenants: (Omit<TenantToConnect, "tenantName"> & { tenantName?: string })[];
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

export async function freeSlug(deps: Pick<Deps, "store">, name: string): Promise<string> {
  const base = slugify(name);
  for (let n = 1; n < 1000; n++) {
    const slug = n === 1 ? base : `${base}-${n}`;
    if (!(await findOrgBySlug(deps.store.db, slug))) return slug;
  }
  throw new Error(`no free slug for ${name}`);
}

/** The audit row of a connected tenant. */
function connectedAudit(
  provider: LedgerProvider,
  tenant: TenantToConnect,
  reconnect: boolean,
): Omit<AuditEntry, "orgId"> {
  // QuickBooks has always written its own action, Xero the generic ones: kept, so audit trails read on.
  if (provider === "quickbooks")
    return {
      actor: "owner",
      action: "quickbooks.connected",
      detail: { realmId: tenant.tenantId, company: tenant.tenantName },
    };
  return {
    actor: "user",
    action: reconnect ? "connection.reconnected" : "connection.created",
    detail: { provider, tenant: tenant.tenantName },
  };
}

/** Makes the organisation for a new tenant, under a slug no other organisation has. */
async function createOrgFor(
  deps: Deps,
  provider: LedgerProvider,
  d: TenantDetails,
  now: number,
): Promise<Organisation> {
  for (;;) {
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
    // Someone took the slug between the check and the insert: try the next free one.
    if (made.created) return made.org;
  }
}

/**
 * Connects each tenant once (organisation, connection, audit row), with `describe` reading a new tenant's
 * organisation. `completeConnection` is the flow the routes start; this is its core, which tests and the
 * benchmark call with their own `describe`.
 */
export async function connectTenants(
  deps: Deps,
  provider: LedgerProvider,
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
    // A reconnect keeps its organisation; a new tenant (or one whose organisation is gone) gets one made.
    const known = existing ? await orgOfConnection(deps.store.db, existing) : undefined;
    const details = known ? undefined : await describe(tenant);
    const result = await deps.store.atomically(async () => {
      const org = known ?? (await createOrgFor(deps, provider, details!, now));
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
      await audit(
        deps.store.db,
        { orgId: org.id, ...connectedAudit(provider, tenant, Boolean(existing)) },
        now,
      );
      return { org, connection, created: !known };
    });
    holder ??= result.connection;
    deps.log.info({ org: result.org.slug, provider, tenant: tenant.tenantId }, "ledger tenant connected");
    out.push(result);
  }
  return out;
}

/** Finishes a consent for either provider: each tenant's organisation (new or reconnected) and connection. */
export async function completeConnection(
  deps: Deps,
  provider: LedgerProvider,
  consent: Consent,
): Promise<ConnectedTenant[]> {
  const connector = connectorForConnection(deps, { provider });
  const read = (tenantId: string) => {
    if (!connector.organisation) throw new Error(`${provider} cannot read a tenant's organisation`);
    return connector.organisation({
      orgId: "",
      connectionId: "",
      tenantId,
      accessToken: async () => consent.tokens.accessToken,
    });
  };
  const described = new Map<string, TenantDetails>();
  const tenants: TenantToConnect[] = [];
  for (const t of consent.tenants) {
    if (t.tenantName !== undefined) {
      tenants.push({ ...t, tenantName: t.tenantName });
      continue;
    }
    const d = await read(t.tenantId);
    described.set(t.tenantId, d);
    tenants.push({ ...t, tenantName: d.name });
  }
  return connectTenants(
    deps,
    provider,
    consent.tokens,
    tenants,
    async (t) => described.get(t.tenantId) ?? read(t.tenantId),
  );
}

/**
 * Tells the provider a connection is going: Xero revokes the grant, or removes just this tenant when other
 * connections still use the grant; QuickBooks revokes the refresh token.
 */
async function tellProvider(
  deps: Deps,
  conn: Connection,
  holderId: string,
  shared: boolean,
  requestOrigin: string,
): Promise<void> {
  if (conn.provider === "quickbooks") {
    const s = quickbooksFor(deps);
    if (!s || !conn.sealedTokens) return;
    try {
      await s.oauth.revoke((await unsealTokens(deps.sealer, conn.sealedTokens)).refreshToken);
    } catch (err) {
      // Already revoked at Intuit, or Intuit down: we forget the tokens either way.
      deps.log.warn({ org: conn.orgId, err: (err as Error).message }, "QuickBooks revoke failed");
    }
    return;
  }
  const cfg = xeroOAuthConfig(deps.config, requestOrigin);
  const holder = await getConnection(deps.store.db, holderId);
  try {
    if (holder?.sealedTokens && conn.status === "active") {
      const accessToken = await tokenKeeperFor(deps, connectorForConnection(deps, conn)).accessToken(conn.id);
      const tokens = {
        ...(await unsealTokens(deps.sealer, (await getConnection(deps.store.db, holderId))!.sealedTokens!)),
        accessToken,
      };
      if (shared && conn.providerConnectionId)
        await disconnectTenant(cfg, tokens, conn.providerConnectionId, deps.clock.now());
      else await revokeTokenSet(cfg, tokens, deps.clock.now());
    }
  } catch (err) {
    // The user wants out: stop syncing here whatever Xero said (a revoked token is already gone).
    deps.log.warn({ err, org: conn.orgId }, "Xero disconnect call failed; disconnecting locally");
  }
}

/**
 * Disconnects an organisation's ledger connection: tells the provider, then stops syncing here whatever it
 * said, and forgets the tokens when no other connection uses them. Returns the organisation.
 */
export async function disconnectLedger(
  deps: Deps,
  provider: LedgerProvider,
  orgSlug: string,
  requestOrigin: string,
): Promise<Organisation> {
  const org = await findOrgBySlug(deps.store.db, orgSlug);
  if (!org) throw new NotFoundError("organisation");
  const conn = await findProviderConnection(deps.store.db, org.id, provider);
  if (!conn) {
    if (provider === "quickbooks") return org;
    throw new UserError("not_connected", "This organisation has no Xero connection.");
  }
  const holderId = conn.tokenConnectionId ?? conn.id;
  const others = (await connectionsSharingTokens(deps.store.db, holderId)).filter(
    (o) => o.id !== conn.id && o.status === "active",
  );
  await tellProvider(deps, conn, holderId, others.length > 0, requestOrigin);
  const now = deps.clock.now();
  await deps.store.atomically(async () => {
    await setConnectionStatus(deps.store.db, conn.id, "disconnected", null, now);
    if (others.length === 0) await clearTokens(deps.store.db, holderId, now);
    // QuickBooks has always recorded its disconnects (Xero's flow never did).
    if (provider === "quickbooks")
      await audit(deps.store.db, { orgId: org.id, actor: "owner", action: "quickbooks.disconnected" }, now);
  });
  return org;
}
