/**
 * Xero online invoice links for the reminder run: when a reminder is about to list an approved invoice whose
 * link was never fetched, ask the connector (`onlineInvoiceUrl`, through the Xero client's rate limiters) and
 * cache the answer in the store (invoice_online_links), so each invoice is asked about once. "Xero has none"
 * (a 400/404) is cached too and asked again only after NO_LINK_RETRY_MS. Links are a convenience, never a reason
 * to hold a reminder back: a run asks at most ONLINE_LINK_FETCHES_PER_RUN times, before claiming anything, and
 * stops asking (for this run) at the first failure; invoices left without a link get the organisation's pay-URL
 * template or bank details instead, and their link is fetched by a later run.
 */
import { connectorFor } from "../../connectors/registry";
import { errorText } from "../mail/mailer";
import type { Organisation } from "../store/orgs";
import { cachedOnlineLinks, onlineLinkStates, recordOnlineLink } from "../store/payment";
import { ledgerContext } from "./ledger-context";
import type { ReminderDeps } from "./run-types";

/** Online-invoice calls one reminder run may make (Xero allows 60 a minute per organisation). */
export const ONLINE_LINK_FETCHES_PER_RUN = 50;
/** How long "Xero has no online invoice for it" is believed before asking again. */
export const NO_LINK_RETRY_MS = 7 * 86_400_000;

export interface OnlineLinks {
  /**
   * Fetches and caches the links these invoices do not have yet, stamped `now` (Xero organisations, and only
   * when the run can talk to the ledger; a no-op otherwise).
   */
  fetchMissing(invoiceIds: readonly string[], now: number): Promise<void>;
  /** The cached links of these invoices (invoice id -> URL). */
  cached(invoiceIds: readonly string[]): Promise<Map<string, string>>;
}

export function onlineLinksFor(
  deps: Pick<ReminderDeps, "store"> & Partial<Pick<ReminderDeps, "log" | "connectorFor" | "tokens">>,
  org: Organisation,
  limit = ONLINE_LINK_FETCHES_PER_RUN,
): OnlineLinks {
  const { db } = deps.store;
  const log = deps.log;
  const connector =
    org.provider === "xero" && log && deps.tokens
      ? (deps.connectorFor ?? connectorFor)(org.provider)
      : undefined;
  const fetchUrl = connector?.onlineInvoiceUrl?.bind(connector);
  let left = limit;
  let stopped = false;

  return {
    async fetchMissing(invoiceIds, now) {
      if (!fetchUrl || !log || stopped || left <= 0 || invoiceIds.length === 0) return;
      const need = (await onlineLinkStates(db, org.id, invoiceIds)).filter(
        (s) =>
          s.status === "authorised" &&
          (s.url === undefined || (s.url === null && now - (s.fetchedAt ?? 0) >= NO_LINK_RETRY_MS)),
      );
      if (need.length === 0) return;
      try {
        const ctx = await ledgerContext(deps, org);
        for (const s of need) {
          if (left <= 0) return;
          left--;
          await recordOnlineLink(db, org.id, s.invoiceId, await fetchUrl(ctx, s.externalId), now);
        }
      } catch (err) {
        stopped = true;
        log.warn(
          { org: org.slug, error: errorText(err) },
          "online invoice links not fetched; reminders go without them this run",
        );
      }
    },
    async cached(invoiceIds) {
      if (org.provider !== "xero" || invoiceIds.length === 0) return new Map();
      return cachedOnlineLinks(db, org.id, invoiceIds);
    },
  };
}
