/**
 * The one interface every ledger connector implements. Connectors map provider data to the canonical model
 * and never touch the store; sync (src/sync) writes what they return and advances their cursors.
 */
import type { Config } from "../src/config";
import type {
  CanonicalContact,
  CanonicalCreditNote,
  CanonicalInvoice,
  CanonicalPayment,
  Provider,
  ProviderTokenSet,
} from "../src/model";

/** The token set connectors return (it lives in src/model.ts, where the store that seals it can see it). */
export type { ProviderTokenSet };

export const ENTITIES = ["contacts", "invoices", "payments", "credit_notes"] as const;
export type Entity = (typeof ENTITIES)[number];

export const CONNECTOR_ERROR_KINDS = ["auth_revoked", "rate_limited", "transient", "invalid_data"] as const;
export type ConnectorErrorKind = (typeof CONNECTOR_ERROR_KINDS)[number];

/**
 * Every connector failure. Sync uses `kind` to retry (transient, rate_limited), ask the owner to reconnect
 * (auth_revoked) or quarantine one record and go on (invalid_data).
 */
export class ConnectorError extends Error {
  constructor(
    readonly kind: ConnectorErrorKind,
    message: string,
    readonly details: {
      status?: number;
      retryAfterMs?: number;
      provider?: Provider;
      cause?: unknown;
      /** Which limit was hit (Xero's X-Rate-Limit-Problem: "minute", "day", "appminute", "concurrent"). */
      problem?: string;
    } = {},
  ) {
    super(message);
    this.name = "ConnectorError";
  }
}

/** A record the connector could not map, with why. The rest of the page goes on. */
export interface Quarantined {
  entity: Entity;
  externalId: string;
  reason: string;
  payload?: unknown;
}

/** One page of canonical records. Sync stores it, then stores `cursor`, then asks for the next page. */
export interface PullPage {
  entity: Entity;
  contacts?: CanonicalContact[];
  invoices?: CanonicalInvoice[];
  payments?: CanonicalPayment[];
  creditNotes?: CanonicalCreditNote[];
  quarantined?: Quarantined[];
  /** Opaque resume point, saved only after this page is written. */
  cursor: string;
  /**
   * Where sync keeps `cursor` (default: `entity`); null = keep no cursor (targeted re-pulls, sweeps whose
   * position is not worth keeping).
   */
  cursorKey?: string | null;
  /** How many records the provider says this stream holds in all (progress bars), when it says. */
  estimatedTotal?: number;
  /** No more pages for this entity in this run. */
  done: boolean;
}

/** What a connector knows of the connection it works for. Tokens come through `accessToken()`. */
export interface ConnectionContext {
  orgId: string;
  connectionId: string;
  tenantId: string;
  /** A valid access token (refreshed ahead of expiry, single-flight). */
  accessToken(): Promise<string>;
  /**
   * Refreshes now and returns the new access token: called once after a 401 on a data call (an access token
   * revoked or expired early at the provider). Throws ConnectorError("auth_revoked") only when the provider
   * refuses the refresh token.
   */
  refreshAccessToken?(): Promise<string>;
  signal?: AbortSignal;
}

/**
 * A change a provider's webhook reports, read from its delivery (connectors/<provider>/webhook.ts): sync records
 * it under its id and re-pulls the record it names.
 */
export interface ChangeEvent {
  provider: "xero" | "quickbooks";
  /** Stable id: the same change delivered twice has the same id. */
  eventId: string;
  tenantId: string;
  entity: Extract<Entity, "invoices" | "contacts">;
  externalId: string;
  payload: unknown;
}

export interface PullOptions {
  /** Ignore the cursor and pull everything (backfill). */
  full?: boolean;
}

export interface WriteBackResult {
  /** False when the ledger has nowhere to write it (the CSV ledger): the store alone records it. */
  written: boolean;
  detail?: string;
}

export interface HoldNote {
  contactExternalId: string;
  /** Plain words saying why and when; connectors trim to the provider's limit. */
  note: string;
}

/**
 * A late-payment charge written to the ledger as a new sales invoice that references the original. `reference`
 * is deterministic (made from the charge's id): the connector looks it up before creating, so a retry after a
 * crash between the write and its record finds the invoice instead of creating a second one.
 */
export interface ChargeInvoice {
  /** At most 21 characters (QuickBooks' DocNumber). */
  reference: string;
  contactExternalId: string;
  originalNumber: string;
  /** The line's description, naming the original invoice. */
  description: string;
  amountMinor: number;
  currency: string;
  date: string;
  dueDate: string;
  /** Xero: DRAFT or AUTHORISED. QuickBooks has no drafts (its invoices are always posted). */
  status: "DRAFT" | "AUTHORISED";
  /** Xero account code / QuickBooks item id for the line; null = the ledger's default. */
  account: string | null;
}

export interface ChargeInvoiceResult {
  ledgerId: string;
  number: string | null;
  /** True when the invoice already existed (found by its reference), so nothing was created. */
  found: boolean;
}

/** What a tenant tells us about itself when it is first connected: the organisation Creditpulse makes for it. */
export interface ProviderOrganisation {
  name: string;
  /** ISO currency code (checked by the connect flow, which falls back to USD). */
  baseCurrency: string;
  /** IANA timezone (checked by the connect flow, which falls back to UTC). */
  timezone: string;
  countryCode: string | null;
  isDemo?: boolean;
}

export interface Connector {
  readonly provider: Provider;
  /** Pages of one entity from `cursor` (null = from the beginning). */
  pull(
    ctx: ConnectionContext,
    entity: Entity,
    cursor: string | null,
    opts?: PullOptions,
  ): AsyncIterable<PullPage>;
  placeHold(ctx: ConnectionContext, hold: HoldNote): Promise<WriteBackResult>;
  releaseHold(ctx: ConnectionContext, hold: HoldNote): Promise<WriteBackResult>;
  /**
   * The invoice's payable online page (Xero's online invoice), or null when the provider has none for it (it
   * answered 400/404: a draft or an invoice that cannot be sent). Other failures throw ConnectorError. Providers
   * whose link comes with the invoice itself (QuickBooks' InvoiceLink) do not implement it.
   */
  onlineInvoiceUrl?(ctx: ConnectionContext, invoiceExternalId: string): Promise<string | null>;
  /** Writes a late-payment charge as a new sales invoice, unless one with its reference exists already. */
  writeChargeInvoice?(ctx: ConnectionContext, charge: ChargeInvoice): Promise<ChargeInvoiceResult>;
  /** Optionally record on the invoice in the ledger that a reminder was sent. */
  noteReminder?(ctx: ConnectionContext, invoiceExternalId: string, note: string): Promise<WriteBackResult>;
  /**
   * Exchanges a refresh token at the provider (used by the token keeper). Throw ConnectorError("auth_revoked")
   * when the provider answers invalid_grant.
   */
  refreshTokens?(config: Config, refreshToken: string): Promise<ProviderTokenSet>;
  /**
   * Re-reads records the provider changes without bumping their modified time (sync calls it now and then).
   * `openInvoiceIds` lists the invoices the store holds as open, read when the connector asks for it.
   */
  reconcile?(ctx: ConnectionContext, openInvoiceIds: () => Promise<string[]>): AsyncIterable<PullPage>;
  /** The tenant's name, base currency, timezone and country (read once, when it is connected). */
  organisation?(ctx: ConnectionContext): Promise<ProviderOrganisation>;
  /** Pages holding the current state of the named records (webhook-driven re-pulls). */
  fetchChanged?(ctx: ConnectionContext, entity: Entity, externalIds: string[]): AsyncIterable<PullPage>;
}
