/**
 * The OAuth consent steps the connect routes start, per provider, each ending in connect.ts's one
 * `completeConnection`. Xero: the code exchange lists the tenants the sign-in reaches; the user chooses among
 * them on a form that carries the consent sealed, bound to their session, for 15 minutes. QuickBooks: the
 * callback names its one company (realm), connected at once.
 */
import type { ProviderTokenSet } from "../../connectors/connector";
import { exchangeCode, type XeroOAuthConfig, type XeroTenant } from "../../connectors/xero/oauth";
import type { Deps } from "../deps";
import { UserError } from "../errors";
import { type ConnectedTenant, completeConnection } from "./connect";
import { quickbooksFor } from "./quickbooks";

const PENDING_MS = 15 * 60_000;

/** A Xero consent waiting for the user to choose tenants: sealed into the form, bound to the session. */
interface PendingConsent {
  sid: string;
  exp: number;
  tokens: ProviderTokenSet;
  tenants: XeroTenant[];
}

/**
 * Exchanges the code of Xero's callback (`callbackUrl`, the full URL) and seals the consent for the choosing
 * form. Returns the tenants the sign-in reaches (none: nothing to choose) and the sealed consent.
 */
export async function beginXeroConsent(
  deps: Deps,
  cfg: XeroOAuthConfig,
  callbackUrl: string,
  state: string,
  sessionId: string,
): Promise<{ tenants: XeroTenant[]; pending: string }> {
  const consent = await exchangeCode(cfg, callbackUrl, state, deps.clock.now());
  const pending: PendingConsent = { sid: sessionId, exp: deps.clock.now() + PENDING_MS, ...consent };
  return { tenants: consent.tenants, pending: await deps.sealer.seal(JSON.stringify(pending)) };
}

/** Connects the tenants the user chose from a sealed consent (refused when stale or another session's). */
export async function finishXeroConsent(
  deps: Deps,
  sealedPending: string,
  sessionId: string | undefined,
  chosen: string[],
): Promise<ConnectedTenant[]> {
  let pending: PendingConsent;
  try {
    pending = JSON.parse(await deps.sealer.unseal(sealedPending)) as PendingConsent;
  } catch {
    throw new UserError("bad_request", "This form is not valid any more: start again from Connect Xero.");
  }
  if (!sessionId || sessionId !== pending.sid || pending.exp < deps.clock.now())
    throw new UserError("bad_request", "This form has expired or belongs to another browser: start again.");
  const tenants = pending.tenants.filter((t) => chosen.includes(t.tenantId));
  if (tenants.length === 0) throw new UserError("bad_request", "Choose at least one organisation.");
  return completeConnection(deps, "xero", {
    tokens: pending.tokens,
    tenants: tenants.map((t) => ({
      tenantId: t.tenantId,
      tenantName: t.tenantName,
      providerConnectionId: t.connectionId,
    })),
  });
}

/**
 * Finishes QuickBooks' callback (`search`: its query string): exchanges the code at our registered redirect URI,
 * whatever host the request came in on, and connects the company it names.
 */
export async function finishQuickbooksConsent(deps: Deps, search: string): Promise<ConnectedTenant> {
  const s = quickbooksFor(deps);
  if (!s)
    throw new UserError("quickbooks_not_configured", "QuickBooks is not configured on this install", 404);
  const { tokens, realmId } = await s.oauth.exchangeCode(`${s.redirectUri}${search}`);
  const [connected] = await completeConnection(deps, "quickbooks", {
    tokens,
    tenants: [{ tenantId: realmId }],
  });
  return connected!;
}
