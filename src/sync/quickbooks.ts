/**
 * QuickBooks wiring from Deps: the API client (one rate limiter per realm) and the OAuth client built from the
 * install's config, the connector (registered with the registry) reading deleted records' last known state
 * from the store, and its token keeper. One per Deps, so limits and CDC sharing are per process. The flows the
 * HTTP routes start live beside it: connect.ts (connect, disconnect) and webhook-events.ts (re-pulls).
 */
import type { Entity } from "../../connectors/connector";
import type { Sleep } from "../../connectors/limits";
import { realSleep } from "../../connectors/limits";
import { createQboApi, type QboApi } from "../../connectors/quickbooks/client";
import {
  createQuickbooksConnector,
  type KnownRecords,
  type QuickbooksConnector,
} from "../../connectors/quickbooks/index";
import { type QboOAuth, qboOAuthFor } from "../../connectors/quickbooks/oauth";
import { registerConnector } from "../../connectors/registry";
import type { TokenKeeper } from "../../connectors/tokens";
import type { Deps } from "../deps";
import type { Connection } from "../store/connections";
import { storedCanonicalRecords } from "../store/known-records";
import { runSync, type SyncOptions, type SyncReport } from "./run-sync";
import { configureTokenKeeper, keeperContext, tokenKeeperFor } from "./tokens";

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
  context(connection: Pick<Connection, "id" | "orgId" | "tenantId">): ReturnType<typeof keeperContext>;
  sync(connection: Connection, opts?: SyncOptions): Promise<SyncReport>;
}

const services = new WeakMap<Deps, QuickbooksService>();
const serviceOptions = new WeakMap<Deps, QuickbooksServiceOptions>();

/** Sets test hooks (fake fetch, sleeps) before the service is first built for these deps. */
export function configureQuickbooks(deps: Deps, opts: QuickbooksServiceOptions): void {
  serviceOptions.set(deps, opts);
  services.delete(deps);
  configureTokenKeeper(deps, "quickbooks", { owner: opts.owner, sleep: opts.sleep });
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

function createQuickbooksService(deps: Deps, opts: QuickbooksServiceOptions): QuickbooksService {
  const { config, clock, store, log } = deps;
  if (!config.QBO_CLIENT_ID || !config.QBO_CLIENT_SECRET) throw new Error("QuickBooks is not configured");
  const publicUrl = (config.PUBLIC_URL ?? `http://${config.HOST}:${config.PORT}`).replace(/\/+$/, "");
  const redirectUri = `${publicUrl}/connect/quickbooks/callback`;
  const oauth = qboOAuthFor(config, redirectUri, clock);
  const api = createQboApi({
    environment: config.QBO_ENVIRONMENT,
    ...(config.QBO_API_URL ? { baseUrl: config.QBO_API_URL } : {}),
    clock,
    minorVersion: config.QBO_MINOR_VERSION,
    timeoutMs: config.QBO_REQUEST_TIMEOUT_MS,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    ...(opts.sleep ? { sleep: opts.sleep } : {}),
    ...(opts.random ? { random: opts.random } : {}),
  });
  const known = ((orgId: string, entity: Entity, ids: string[]) =>
    storedCanonicalRecords(store.db, orgId, entity, ids)) as KnownRecords;
  const connector = createQuickbooksConnector({
    api,
    clock,
    pageSize: opts.pageSize,
    known,
    refreshTokens: (cfg, rt) => (cfg === config ? oauth : qboOAuthFor(cfg, redirectUri, clock)).refresh(rt),
  });
  const keeper = tokenKeeperFor(deps, connector);
  const context = (c: Pick<Connection, "id" | "orgId" | "tenantId">) => keeperContext(keeper, c);
  return {
    connector,
    api,
    oauth,
    keeper,
    redirectUri,
    sleep: opts.sleep ?? realSleep,
    context,
    sync: (connection, syncOpts) => runSync({ store, clock, log }, context(connection), connector, syncOpts),
  };
}
