/**
 * The QuickBooks Online connector: pulls Customer, Invoice, Payment and CreditMemo as canonical pages and
 * writes credit holds back into customers' Notes, and reads the company's settings when it is connected. It never
 * touches the store: deleted-record lookups come in through `known`, tokens through the ConnectionContext.
 * Wiring from Deps (config, store lookups) lives in src/sync/quickbooks.ts.
 */
import type { Clock } from "../../src/clock";
import type { Config } from "../../src/config";
import type { ConnectionContext, Connector, ProviderOrganisation, ProviderTokenSet } from "../connector";
import { writeQboChargeInvoice } from "./charges";
import type { QboApi } from "./client";
import { createHoldWriter } from "./holds";
import { mapCompany } from "./map";
import { createPuller, type KnownRecords } from "./pull";

export interface QuickbooksConnectorOptions {
  api: QboApi;
  clock: Clock;
  /** Query page size (MAXRESULTS); QBO allows up to 1000. */
  pageSize?: number;
  known?: KnownRecords;
  /** Token endpoint call for a token keeper (sync jobs build ConnectionContext.accessToken from it). */
  refreshTokens?(config: Config, refreshToken: string): Promise<ProviderTokenSet>;
}

export type QuickbooksConnector = Connector & {
  readonly provider: "quickbooks";
  readonly api: QboApi;
  /** Name, home currency, timezone and country of the company (CompanyInfo, then Preferences). */
  organisation(ctx: ConnectionContext): Promise<ProviderOrganisation>;
};

export function createQuickbooksConnector(opts: QuickbooksConnectorOptions): QuickbooksConnector {
  const puller = createPuller({
    api: opts.api,
    clock: opts.clock,
    pageSize: opts.pageSize,
    known: opts.known,
  });
  const holds = createHoldWriter({ api: opts.api, clock: opts.clock });
  return {
    provider: "quickbooks",
    api: opts.api,
    pull: (ctx, entity, cursor, pullOpts) => puller.pull(ctx, entity, cursor, pullOpts),
    fetchChanged: (ctx, entity, ids) => puller.byIds(ctx, entity, ids),
    placeHold: holds.placeHold,
    releaseHold: holds.releaseHold,
    writeChargeInvoice: (ctx, charge) => writeQboChargeInvoice(opts.api, ctx, charge),
    ...(opts.refreshTokens ? { refreshTokens: opts.refreshTokens } : {}),
    async organisation(ctx) {
      const info = (await opts.api.read<Record<string, unknown>>(ctx, "CompanyInfo", ctx.tenantId)) ?? {};
      const prefs = ((await opts.api.get(ctx, "preferences")).Preferences ?? {}) as Parameters<
        typeof mapCompany
      >[1];
      return mapCompany(info, prefs, ctx.tenantId);
    },
  };
}

export { type KnownRecords, parseCursor, type QboCursor } from "./pull";
