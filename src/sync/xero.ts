/**
 * Xero wiring from Deps: the install's OAuth settings (the connector itself is made by connectors/registry.ts
 * from config). The redirect URI is PUBLIC_URL's, or the origin the request came in on when it is unset.
 */
import type { XeroOAuthConfig } from "../../connectors/xero/oauth";
import type { Config } from "../config";
import { UserError } from "../errors";

export function xeroOAuthConfig(config: Config, requestOrigin: string): XeroOAuthConfig {
  if (!config.XERO_CLIENT_ID || !config.XERO_CLIENT_SECRET)
    throw new UserError(
      "xero_not_configured",
      "Xero is not set up on this install (XERO_CLIENT_ID / XERO_CLIENT_SECRET)",
      404,
    );
  const base = (config.PUBLIC_URL ?? requestOrigin).replace(/\/+$/, "");
  return {
    clientId: config.XERO_CLIENT_ID,
    clientSecret: config.XERO_CLIENT_SECRET,
    redirectUri: `${base}/connect/xero/callback`,
    scopes: config.XERO_SCOPES.split(/\s+/).filter(Boolean),
    timeoutMs: config.XERO_TIMEOUT_MS,
    identityUrl: config.XERO_IDENTITY_URL,
    apiUrl: config.XERO_API_URL,
  };
}
