/**
 * QuickBooks wiring from Deps: the OAuth client, the API client (one rate limiter per realm), the token keeper,
 * the connector (registered with the registry), and the flows the HTTP routes start: completing a connection,
 * disconnecting, and re-pulling after webhooks. One service per Deps, so limits and CDC sharing are per process.
 */
import { and, eq, inArray } from "drizzle-orm";
import type { Clock } from "../../src/clock";
import type { Config } from "../../src/config";
import type { Deps } from "../../src/deps";
import type {
  CanonicalContact,
  CanonicalCreditNote,
  CanonicalInvoice,
  CanonicalPayment,
} from "../../src/model";
import { isCurrencyCode, isTimeZone } from "../../src/model";
import { audit } from "../../src/store/audit";
import {
  type Connection,
  clearTokens,
  createConnection,
  findConnectionByTenant,
  getConnection,
  setConnectionStatus,
} from "../../src/store/connections";
import { ensureOrg, type Organisation } from "../../src/store/orgs";
import {
  connections,
  contacts,
  creditNotes,
  invoices,
  organisations,
  payments,
} from "../../src/store/schema";
import { runSync, type SyncOptions, type SyncReport } from "../../src/sync/run-sync";
import type { ConnectionContext, Entity } from "../connector";
import { realSleep, type Sleep } from "../limits";
import { registerConnector } from "../registry";
import { createTokenKeeper, sealTokens, type TokenKeeper, type TokenSet, unsealTokens } from "../tokens";
import { createQboApi, createQboOAuth, type QboApi, type QboOAuth } from "./client";
import { createQuickbooksConnector, type QuickbooksConnector } from "./index";
import type { KnownRecords } from "./pull";

export interface QuickbooksServiceOptions {
  fetch?: typeof fetch;
  sleep?: Sleep;
  random?: () => number;
  pageSize?: number;
  /** Token-refresh lease owner (tests simulate two processes with two owners). */
  owner?: string;
}

export interface QuickbooksService {
  connector: QuickbooksConnector;
  api: QboApi;
  oauth: QboOAuth;
  keeper: TokenKeeper;
  redirectUri: string;
  /** How this service waits (tests inject a fake clock's sleep). */
  sleep: Sleep;
  context(connection: Pick<Connection, "id" | "orgId" | "tenantId">): ConnectionContext;
  /** Finishes the OAuth callback: tokens, organisation from CompanyInfo/Preferences, connection. */
  completeConnection(callbackUrl: string): Promise<{ org: Organisation; connection: Connection }>;
  /** Revokes the tokens at Intuit and marks the connection disconnected. */
  disconnect(orgId: string): Promise<void>;
  connectionForRealm(realmId: string): Promise<Connection | undefined>;
  sync(connection: Connection, opts?: SyncOptions): Promise<SyncReport>;
}

const services = new WeakMap<Deps, QuickbooksService>();
const serviceOptions = new WeakMap<Deps, QuickbooksServiceOptions>();

/** Sets test hooks (fake fetch, sleeps) before the service is first built for these deps. */
export function configureQuickbooks(deps: Deps, opts: QuickbooksServiceOptions): void {
  serviceOptions.set(deps, opts);
  services.delete(deps);
}

/** The service for these deps, or null when QBO_CLIENT_ID / QBO_CLIENT_SECRET are not set. */
export function quickbooksFor(deps: Deps): QuickbooksService | null {
  if (!deps.config.quickbooksConfigured) return null;
  let s = services.get(deps);
  if (!s) {
    s = createQuickbooksService(deps, serviceOptions.get(deps) ?? {});
    services.set(deps, s);
    registerConnector(s.connector);
  }
  return s;
}

const COUNTRY_TZ: Record<string, string> = {
  US: "America/New_York",
  CA: "America/Toronto",
  GB: "Europe/London",
  UK: "Europe/London",
  IE: "Europe/Dublin",
  AU: "Australia/Sydney",
  NZ: "Pacific/Auckland",
  IN: "Asia/Kolkata",
  FR: "Europe/Paris",
  ZA: "Africa/Johannesburg",
};

function slugify(name: string): string {
  const s = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48);
  return s || "quickbooks";
}

/** The stored versions of records QBO reports deleted, read back as canonical records. */
function knownRecords(deps: Deps): KnownRecords {
  const db = deps.store.db;
  return (async (orgId: string, entity: Entity, ids: string[]) => {
    const out = new Map<string, unknown>();
    if (ids.length === 0) return out;
    const contactExt = async (idsIn: (string | null)[]) => {
      const wanted = [...new Set(idsIn.filter((x): x is string => Boolean(x)))];
      const rows = wanted.length
        ? await db
            .select({ id: contacts.id, externalId: contacts.externalId })
            .from(contacts)
            .where(inArray(contacts.id, wanted))
        : [];
      return new Map(rows.map((r) => [r.id, r.externalId]));
    };
    if (entity === "contacts") {
      const rows = await db
        .select()
        .from(contacts)
        .where(and(eq(contacts.orgId, orgId), inArray(contacts.externalId, ids)));
      for (const r of rows)
        out.set(r.externalId, {
          externalId: r.externalId,
          name: r.name,
          emails: r.emails,
          phone: r.phone,
          providerUpdatedAt: r.providerUpdatedAt,
        } satisfies CanonicalContact);
    } else if (entity === "invoices") {
      const rows = await db
        .select()
        .from(invoices)
        .where(and(eq(invoices.orgId, orgId), inArray(invoices.externalId, ids)));
      const ext = await contactExt(rows.map((r) => r.contactId));
      for (const r of rows)
        out.set(r.externalId, {
          externalId: r.externalId,
          contactExternalId: ext.get(r.contactId) ?? "",
          number: r.number,
          issueDate: r.issueDate,
          dueDate: r.dueDate,
          currency: r.currency,
          totalMinor: r.totalMinor,
          amountPaidMinor: r.amountPaidMinor,
          amountCreditedMinor: r.amountCreditedMinor,
          amountDueMinor: r.amountDueMinor,
          status: r.status,
          paidOn: r.paidOn,
          payUrl: r.payUrl,
          providerUpdatedAt: r.providerUpdatedAt,
        } satisfies CanonicalInvoice);
    } else if (entity === "payments") {
      const rows = await db
        .select()
        .from(payments)
        .where(and(eq(payments.orgId, orgId), inArray(payments.externalId, ids)));
      const ext = await contactExt(rows.map((r) => r.contactId));
      for (const r of rows)
        out.set(r.externalId, {
          externalId: r.externalId,
          contactExternalId: r.contactId ? (ext.get(r.contactId) ?? null) : null,
          date: r.date,
          currency: r.currency,
          amountMinor: r.amountMinor,
          allocations: [],
          providerUpdatedAt: r.providerUpdatedAt,
        } satisfies CanonicalPayment);
    } else {
      const rows = await db
        .select()
        .from(creditNotes)
        .where(and(eq(creditNotes.orgId, orgId), inArray(creditNotes.externalId, ids)));
      const ext = await contactExt(rows.map((r) => r.contactId));
      for (const r of rows)
        out.set(r.externalId, {
          externalId: r.externalId,
          contactExternalId: ext.get(r.contactId) ?? "",
          number: r.number,
          issueDate: r.issueDate,
          currency: r.currency,
          totalMinor: r.totalMinor,
          remainingMinor: r.remainingMinor,
          status: r.status,
          allocations: [],
          providerUpdatedAt: r.providerUpdatedAt,
        } satisfies CanonicalCreditNote);
    }
    return out;
  }) as KnownRecords;
}

function oauthFor(config: Config, redirectUri: string, clock: Clock, timeoutMs: number): QboOAuth {
  if (!config.QBO_CLIENT_ID || !config.QBO_CLIENT_SECRET) throw new Error("QuickBooks is not configured");
  return createQboOAuth({
    clientId: config.QBO_CLIENT_ID,
    clientSecret: config.QBO_CLIENT_SECRET,
    environment: config.QBO_ENVIRONMENT,
    redirectUri,
    clock,
    timeoutMs,
    oauthUrl: config.QBO_OAUTH_URL,
  });
}

export function createQuickbooksService(deps: Deps, opts: QuickbooksServiceOptions = {}): QuickbooksService {
  const { config, clock, store, log, sealer } = deps;
  if (!config.QBO_CLIENT_ID || !config.QBO_CLIENT_SECRET) throw new Error("QuickBooks is not configured");
  const publicUrl = (config.PUBLIC_URL ?? `http://${config.HOST}:${config.PORT}`).replace(/\/+$/, "");
  const redirectUri = `${publicUrl}/connect/quickbooks/callback`;
  const timeoutMs = config.QBO_REQUEST_TIMEOUT_MS;
  const oauth = oauthFor(config, redirectUri, clock, timeoutMs);
  const api = createQboApi({
    environment: config.QBO_ENVIRONMENT,
    ...(config.QBO_API_URL ? { baseUrl: config.QBO_API_URL } : {}),
    clock,
    minorVersion: config.QBO_MINOR_VERSION,
    timeoutMs,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    ...(opts.sleep ? { sleep: opts.sleep } : {}),
    ...(opts.random ? { random: opts.random } : {}),
  });
  const keeper = createTokenKeeper({
    db: store.db,
    sealer,
    clock,
    refresh: (rt) => oauth.refresh(rt),
    ...(opts.sleep ? { sleep: opts.sleep } : {}),
    ...(opts.owner ? { owner: opts.owner } : {}),
    async onRevoked(connectionId, reason) {
      const conn = await getConnection(store.db, connectionId);
      log.warn(
        { connection: connectionId, org: conn?.orgId, provider: "quickbooks" },
        "QuickBooks connection needs to be reconnected: tell the owner",
      );
      if (conn)
        await audit(
          store.db,
          { orgId: conn.orgId, actor: "system", action: "quickbooks.needs_reconnect", detail: { reason } },
          clock.now(),
        );
    },
  });
  const connector = createQuickbooksConnector({
    api,
    clock,
    pageSize: opts.pageSize,
    known: knownRecords(deps),
    refreshTokens: (cfg, rt) =>
      (cfg === config ? oauth : oauthFor(cfg, redirectUri, clock, timeoutMs)).refresh(rt),
  });

  const context = (c: Pick<Connection, "id" | "orgId" | "tenantId">): ConnectionContext => ({
    orgId: c.orgId,
    connectionId: c.id,
    tenantId: c.tenantId,
    accessToken: () => keeper.accessToken(c.id),
    refreshAccessToken: () => keeper.refreshNow(c.id),
  });

  const connectionForRealm = (realmId: string) => findConnectionByTenant(store.db, "quickbooks", realmId);

  async function completeConnection(callbackUrl: string) {
    const { tokens, realmId } = await oauth.exchangeCode(callbackUrl);
    const tmp = { tenantId: realmId, accessToken: async () => tokens.accessToken };
    const info = (await api.read<Record<string, unknown>>(tmp, "CompanyInfo", realmId)) ?? {};
    const prefs = ((await api.get(tmp, "preferences")).Preferences ?? {}) as {
      CurrencyPrefs?: { HomeCurrency?: { value?: string } };
    };
    const name = String(info.CompanyName ?? info.LegalName ?? `QuickBooks company ${realmId}`);
    const country = String(
      info.Country ?? (info.CompanyAddr as { Country?: string } | undefined)?.Country ?? "",
    )
      .toUpperCase()
      .slice(0, 2);
    const home = prefs.CurrencyPrefs?.HomeCurrency?.value;
    const currency = home && isCurrencyCode(home) ? home : "USD";
    const tzField = typeof info.DefaultTimeZone === "string" ? info.DefaultTimeZone : undefined;
    const timezone = tzField && isTimeZone(tzField) ? tzField : (COUNTRY_TZ[country] ?? "UTC");
    const now = clock.now();

    const existing = await connectionForRealm(realmId);
    let org: Organisation | undefined;
    if (existing)
      org = (
        await store.db.select().from(organisations).where(eq(organisations.id, existing.orgId)).limit(1)
      )[0];
    if (!org) {
      let slug = slugify(name);
      for (let i = 0; !org; i++) {
        const res = await ensureOrg(
          store.db,
          { slug, name, baseCurrency: currency, timezone, country: country || null, provider: "quickbooks" },
          now,
        );
        if (res.created) org = res.org;
        else slug = `${slugify(name).slice(0, 40)}-${realmId.slice(-6)}${i ? `-${i}` : ""}`;
      }
    }
    const connection = await createConnection(
      store.db,
      { orgId: org.id, provider: "quickbooks", tenantId: realmId, tenantName: name },
      await sealTokens(sealer, tokens),
      tokens.expiresAt,
      now,
    );
    await audit(
      store.db,
      { orgId: org.id, actor: "owner", action: "quickbooks.connected", detail: { realmId, company: name } },
      now,
    );
    log.info({ org: org.slug, realm: realmId }, "QuickBooks company connected");
    return { org, connection };
  }

  async function disconnect(orgId: string) {
    const conn = (
      await store.db
        .select()
        .from(connections)
        .where(and(eq(connections.orgId, orgId), eq(connections.provider, "quickbooks")))
        .limit(1)
    )[0];
    if (!conn) return;
    if (conn.sealedTokens) {
      const tokens: TokenSet = await unsealTokens(sealer, conn.sealedTokens);
      try {
        await oauth.revoke(tokens.refreshToken);
      } catch (err) {
        // Already revoked at Intuit, or Intuit down: we forget the tokens either way.
        log.warn({ org: orgId, err: (err as Error).message }, "QuickBooks revoke failed");
      }
    }
    await clearTokens(store.db, conn.id, clock.now());
    await setConnectionStatus(store.db, conn.id, "disconnected", null, clock.now());
    await audit(store.db, { orgId, actor: "owner", action: "quickbooks.disconnected" }, clock.now());
  }

  return {
    connector,
    api,
    oauth,
    keeper,
    redirectUri,
    sleep: opts.sleep ?? realSleep,
    context,
    completeConnection,
    disconnect,
    connectionForRealm,
    sync: (connection, syncOpts) => runSync({ store, clock, log }, context(connection), connector, syncOpts),
  };
}
