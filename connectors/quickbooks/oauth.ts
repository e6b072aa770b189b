/**
 * QuickBooks Online OAuth 2.0: the consent URL, the code exchange (the realmId arrives only with the callback),
 * refresh (Intuit rotates the refresh token on every call) and revoke, through intuit-oauth's OAuthClient (loaded
 * by ./client.ts, the SDK's only importer), one client per call because OAuthClient keeps the last token set on
 * the instance. Each call has a timeout; failures become one ConnectorError.
 */
import type { Clock } from "../../src/clock";
import type { Config } from "../../src/config";
import { ConnectorError, type ProviderTokenSet as TokenSet } from "../connector";
import { errorKindForStatus } from "../limits";
import { loadOAuthClient, type QboEnvironment } from "./client";

export const QBO_SCOPE = "com.intuit.quickbooks.accounting";

/** Intuit's OAuth endpoints; QBO_OAUTH_URL other than the token host moves all three under it. */
export const QBO_OAUTH_HOST = "https://oauth.platform.intuit.com";

export function qboOAuthEndpoints(oauthUrl: string = QBO_OAUTH_HOST) {
  const base = oauthUrl.replace(/\/+$/, "");
  if (base === QBO_OAUTH_HOST)
    return {
      authorizeEndpoint: "https://appcenter.intuit.com/connect/oauth2",
      tokenEndpoint: `${QBO_OAUTH_HOST}/oauth2/v1/tokens/bearer`,
      revokeEndpoint: "https://developer.api.intuit.com/v2/oauth2/tokens/revoke",
    };
  return {
    authorizeEndpoint: `${base}/connect/oauth2`,
    tokenEndpoint: `${base}/oauth2/v1/tokens/bearer`,
    revokeEndpoint: `${base}/v2/oauth2/tokens/revoke`,
  };
}

export interface QboOAuthOptions {
  /** QBO_OAUTH_URL (default Intuit's). */
  oauthUrl?: string;
  clientId: string;
  clientSecret: string;
  environment: QboEnvironment;
  redirectUri: string;
  clock: Clock;
  timeoutMs?: number;
}

export interface QboOAuth {
  authorizeUrl(state: string): Promise<string>;
  /** Exchanges the code in the callback URL; the realmId arrives only there. */
  exchangeCode(callbackUrl: string): Promise<{ tokens: TokenSet; realmId: string }>;
  /** Refreshes; Intuit rotates the refresh token on every call, so keep the one returned. */
  refresh(refreshToken: string): Promise<TokenSet>;
  revoke(token: string): Promise<void>;
}

interface IntuitTokenJson {
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  x_refresh_token_expires_in?: number;
  id_token?: string;
  scope?: string;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectorError("transient", `${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Maps an intuit-oauth failure to one ConnectorError. */
function oauthError(err: unknown, what: string): ConnectorError {
  if (err instanceof ConnectorError) return err;
  const e = err as {
    error?: string;
    error_description?: string;
    message?: string;
    authResponse?: { response?: { status?: number; headers?: Record<string, string> } };
    response?: { status?: number };
  };
  const status = e.authResponse?.response?.status ?? e.response?.status;
  const code = e.error ?? "";
  if (code === "invalid_grant" || code === "invalid_client")
    return new ConnectorError(
      "auth_revoked",
      `${what}: QuickBooks refused the grant (${code}${e.error_description ? `: ${e.error_description}` : ""})`,
      { status, provider: "quickbooks" },
    );
  const kind = status ? errorKindForStatus(status) : "transient";
  return new ConnectorError(
    kind === "auth_revoked" ? "auth_revoked" : kind,
    `${what} failed: ${code || e.message || "error"}`,
    {
      status,
      provider: "quickbooks",
    },
  );
}

export function createQboOAuth(opts: QboOAuthOptions): QboOAuth {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const endpoints = qboOAuthEndpoints(opts.oauthUrl);
  const client = async () => {
    const cls = await loadOAuthClient();
    const statics = cls as unknown as Record<string, string>;
    const c = new cls({
      clientId: opts.clientId,
      clientSecret: opts.clientSecret,
      environment: opts.environment,
      redirectUri: opts.redirectUri,
    });
    // intuit-oauth keeps its endpoints on the class: set them for this install's settings before every use.
    (c as unknown as { setAuthorizeURLs(p: Record<string, string>): void }).setAuthorizeURLs({
      ...endpoints,
      userInfoEndpoint:
        statics[
          opts.environment === "sandbox" ? "userinfo_endpoint_sandbox" : "userinfo_endpoint_production"
        ] ?? "",
    });
    return c;
  };
  const toTokens = (json: IntuitTokenJson | undefined, what: string): TokenSet => {
    if (!json?.access_token || !json.refresh_token)
      throw new ConnectorError("transient", `${what}: the token response had no tokens`, {
        provider: "quickbooks",
      });
    const now = opts.clock.now();
    return {
      accessToken: json.access_token,
      refreshToken: json.refresh_token,
      expiresAt: now + (json.expires_in ?? 3600) * 1000,
      ...(json.x_refresh_token_expires_in
        ? { refreshExpiresAt: now + json.x_refresh_token_expires_in * 1000 }
        : {}),
      ...(json.scope ? { scope: json.scope } : {}),
      ...(json.id_token ? { idToken: json.id_token } : {}),
    };
  };
  return {
    async authorizeUrl(state) {
      return (await client()).authorizeUri({ scope: [QBO_SCOPE], state });
    },
    async exchangeCode(callbackUrl) {
      const realmId = new URL(callbackUrl).searchParams.get("realmId");
      if (!realmId)
        throw new ConnectorError("invalid_data", "the callback carried no realmId", {
          provider: "quickbooks",
        });
      try {
        const res = await withTimeout(
          (await client()).createToken(callbackUrl),
          timeoutMs,
          "QuickBooks code exchange",
        );
        return { tokens: toTokens(res.json as IntuitTokenJson, "code exchange"), realmId };
      } catch (err) {
        throw oauthError(err, "QuickBooks code exchange");
      }
    },
    async refresh(refreshToken) {
      try {
        const res = await withTimeout(
          (await client()).refreshUsingToken(refreshToken),
          timeoutMs,
          "QuickBooks token refresh",
        );
        return toTokens(res.json as IntuitTokenJson, "token refresh");
      } catch (err) {
        throw oauthError(err, "QuickBooks token refresh");
      }
    },
    async revoke(token) {
      try {
        await withTimeout((await client()).revoke({ refresh_token: token }), timeoutMs, "QuickBooks revoke");
      } catch (err) {
        throw oauthError(err, "QuickBooks revoke");
      }
    },
  };
}

/** The OAuth client for an install's settings, or an error naming what is missing. */
export function qboOAuthFor(config: Config, redirectUri: string, clock: Clock): QboOAuth {
  if (!config.QBO_CLIENT_ID || !config.QBO_CLIENT_SECRET) throw new Error("QuickBooks is not configured");
  return createQboOAuth({
    clientId: config.QBO_CLIENT_ID,
    clientSecret: config.QBO_CLIENT_SECRET,
    environment: config.QBO_ENVIRONMENT,
    redirectUri,
    clock,
    timeoutMs: config.QBO_REQUEST_TIMEOUT_MS,
    oauthUrl: config.QBO_OAUTH_URL,
  });
}
