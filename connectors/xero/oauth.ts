/**
 * Xero identity: consent URL, code exchange, /connections tenants, refresh, revoke and disconnect, as plain
 * OAuth 2.0 over fetch against the configurable XERO_IDENTITY_URL (OpenID discovery) and XERO_API_URL, so a
 * recording proxy or a local fake provider can stand in for Xero. (xero-node hard-codes both hosts.) Failures
 * become one ConnectorError through the client's `toConnectorError`.
 */
import { ConnectorError, type ProviderTokenSet } from "../connector";
import { toConnectorError, XERO_API_HOST } from "./client";

/** Xero's identity server (XERO_IDENTITY_URL): OpenID discovery, token and revocation endpoints. */
export const XERO_IDENTITY = "https://identity.xero.com";

export interface XeroOAuthConfig {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  scopes: string[];
  timeoutMs: number;
  /** Xero's identity server (OpenID discovery, token, revocation); default the real one. */
  identityUrl?: string;
  /** Xero's API host (GET/DELETE /connections); default the real one. */
  apiUrl?: string;
  fetch?: typeof fetch;
}

export interface XeroTenant {
  /** Xero's id for this tenant connection (used to disconnect one tenant). */
  connectionId: string;
  tenantId: string;
  tenantName: string;
  tenantType: string;
}

interface TokenJson {
  access_token?: string;
  refresh_token?: string;
  id_token?: string;
  scope?: string;
  expires_in?: number;
}

/** Converts a token endpoint answer, timing expiry on our clock. */
function fromTokenJson(t: TokenJson, now: number): ProviderTokenSet {
  if (!t.access_token || !t.refresh_token)
    throw new ConnectorError(
      "invalid_data",
      "Xero returned no refresh token (is offline_access among the scopes?)",
      {
        provider: "xero",
      },
    );
  const expiresIn =
    typeof t.expires_in === "number" && Number.isFinite(t.expires_in) && t.expires_in > 0
      ? t.expires_in
      : 1800;
  return {
    accessToken: t.access_token,
    refreshToken: t.refresh_token,
    expiresAt: now + expiresIn * 1000,
    scope: t.scope,
    idToken: t.id_token,
  };
}

const trimSlash = (u: string) => u.replace(/\/+$/, "");
const identityOf = (cfg: Pick<XeroOAuthConfig, "identityUrl">) => trimSlash(cfg.identityUrl ?? XERO_IDENTITY);
const apiHostOf = (cfg: Pick<XeroOAuthConfig, "apiUrl">) => trimSlash(cfg.apiUrl ?? XERO_API_HOST);

/** One identity or /connections call with a timeout; non-2xx answers become ConnectorErrors. */
async function identityCall(
  cfg: Pick<XeroOAuthConfig, "timeoutMs" | "fetch">,
  url: string,
  init: RequestInit,
  what: string,
  now: number,
): Promise<unknown> {
  const doFetch = cfg.fetch ?? ((input, i) => fetch(input, i));
  let res: Response;
  try {
    res = await doFetch(url, { ...init, signal: AbortSignal.timeout(cfg.timeoutMs) });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    throw new ConnectorError(
      "transient",
      `${what} ${timedOut ? `timed out after ${cfg.timeoutMs} ms` : "failed: network error"}`,
      { provider: "xero", cause: err },
    );
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  if (!res.ok)
    throw toConnectorError(
      { response: { status: res.status, data: body, headers: Object.fromEntries(res.headers) } },
      now,
      what,
    );
  return body;
}

const discoveries = new Map<string, Promise<Record<string, string>>>();

/** The identity server's OpenID configuration (authorization, token and revocation endpoints), cached. */
async function discover(cfg: XeroOAuthConfig, now: number): Promise<Record<string, string>> {
  const base = identityOf(cfg);
  let d = discoveries.get(base);
  if (!d) {
    d = identityCall(cfg, `${base}/.well-known/openid-configuration`, {}, "Xero discovery", now).then(
      (b) => b as Record<string, string>,
    );
    d.catch(() => discoveries.delete(base));
    discoveries.set(base, d);
  }
  const conf = await d;
  if (!conf.authorization_endpoint || !conf.token_endpoint)
    throw new ConnectorError("transient", "Xero discovery returned no endpoints", { provider: "xero" });
  return conf;
}

const basicAuth = (cfg: Pick<XeroOAuthConfig, "clientId" | "clientSecret">) =>
  `Basic ${btoa(`${cfg.clientId}:${cfg.clientSecret}`)}`;

async function tokenRequest(
  cfg: XeroOAuthConfig,
  form: Record<string, string>,
  what: string,
  now: number,
): Promise<ProviderTokenSet> {
  const conf = await discover(cfg, now);
  const body = await identityCall(
    cfg,
    conf.token_endpoint!,
    {
      method: "POST",
      headers: {
        Authorization: basicAuth(cfg),
        "Content-Type": "application/x-www-form-urlencoded",
        Accept: "application/json",
      },
      body: new URLSearchParams(form).toString(),
    },
    what,
    now,
  );
  return fromTokenJson((body ?? {}) as TokenJson, now);
}

/** The Xero consent URL the user is sent to, carrying our signed `state`. */
export async function buildConsentUrl(cfg: XeroOAuthConfig, state: string, now: number): Promise<string> {
  const conf = await discover(cfg, now);
  const url = new URL(conf.authorization_endpoint!);
  url.searchParams.set("client_id", cfg.clientId);
  url.searchParams.set("scope", cfg.scopes.join(" "));
  url.searchParams.set("response_type", "code");
  url.searchParams.set("redirect_uri", cfg.redirectUri);
  url.searchParams.set("state", state);
  return url.toString();
}

/**
 * Exchanges the authorisation code in `callbackUrl` (the full URL Xero redirected to) for tokens, then reads
 * the tenants the consent covers from /connections (each tenant once).
 */
export async function exchangeCode(
  cfg: XeroOAuthConfig,
  callbackUrl: string,
  state: string,
  now: number,
): Promise<{ tokens: ProviderTokenSet; tenants: XeroTenant[] }> {
  const params = new URL(callbackUrl).searchParams;
  const code = params.get("code");
  if (!code)
    throw new ConnectorError("invalid_data", "Xero sent no authorisation code", { provider: "xero" });
  if (params.get("state") !== state)
    throw new ConnectorError("invalid_data", "Xero sign-in: the state does not match", { provider: "xero" });
  const tokens = await tokenRequest(
    cfg,
    { grant_type: "authorization_code", code, redirect_uri: cfg.redirectUri },
    "Xero sign-in",
    now,
  );
  const rows = await identityCall(
    cfg,
    `${apiHostOf(cfg)}/connections`,
    { headers: { Authorization: `Bearer ${tokens.accessToken}`, Accept: "application/json" } },
    "Xero /connections",
    now,
  );
  return {
    tokens,
    tenants: organisationTenants(Array.isArray(rows) ? (rows as Record<string, unknown>[]) : []),
  };
}

/**
 * The ORGANISATION tenants of a /connections answer, each tenant once: Xero may list one tenant twice (e.g.
 * connected by two auth events); the first entry is kept.
 */
export function organisationTenants(rows: Record<string, unknown>[]): XeroTenant[] {
  const seen = new Set<string>();
  const out: XeroTenant[] = [];
  for (const t of rows) {
    if ((t.tenantType ?? "ORGANISATION") !== "ORGANISATION" || !t.tenantId) continue;
    const tenantId = String(t.tenantId);
    if (seen.has(tenantId)) continue;
    seen.add(tenantId);
    out.push({
      connectionId: String(t.id),
      tenantId,
      tenantName: String(t.tenantName ?? "Xero organisation"),
      tenantType: String(t.tenantType ?? "ORGANISATION"),
    });
  }
  return out;
}

/** Exchanges a (single-use) refresh token. invalid_grant becomes ConnectorError("auth_revoked"). */
export async function refreshTokenSet(
  cfg: Pick<XeroOAuthConfig, "clientId" | "clientSecret" | "timeoutMs" | "identityUrl" | "fetch">,
  refreshToken: string,
  now: number,
): Promise<ProviderTokenSet> {
  return tokenRequest(
    { ...cfg, redirectUri: "", scopes: [] },
    { grant_type: "refresh_token", refresh_token: refreshToken },
    "Xero token refresh",
    now,
  );
}

/** Revokes the refresh token (and with it every tenant connection of that consent). */
export async function revokeTokenSet(
  cfg: XeroOAuthConfig,
  tokens: ProviderTokenSet,
  now: number,
): Promise<void> {
  const conf = await discover(cfg, now);
  const endpoint = conf.revocation_endpoint ?? `${identityOf(cfg)}/connect/revocation`;
  await identityCall(
    cfg,
    endpoint,
    {
      method: "POST",
      headers: { Authorization: basicAuth(cfg), "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: tokens.refreshToken, token_type_hint: "refresh_token" }).toString(),
    },
    "Xero token revocation",
    now,
  );
}

/** Removes one tenant connection (DELETE /connections/{id}), leaving the consent's other tenants connected. */
export async function disconnectTenant(
  cfg: XeroOAuthConfig,
  tokens: ProviderTokenSet,
  xeroConnectionId: string,
  now: number,
): Promise<void> {
  await identityCall(
    cfg,
    `${apiHostOf(cfg)}/connections/${encodeURIComponent(xeroConnectionId)}`,
    { method: "DELETE", headers: { Authorization: `Bearer ${tokens.accessToken}` } },
    "Xero disconnect",
    now,
  );
}
