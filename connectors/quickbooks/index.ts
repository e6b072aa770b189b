/**
 * The QuickBooks Online connector: pulls Customer, Invoice, Payment and CreditMemo as canonical pages and
 * writes credit holds back into customers' Notes. It never touches the store: deleted-record lookups come in
 * through `known`, tokens through the ConnectionContext. Wiring from Deps lives in ./service.ts.
 */
import type { Clock } from "../../src/clock";
import type { Config } from "../../src/config";
import type { Connector, ProviderTokenSet } from "../connector";
import type { QboApi } from "./client";
import { createHoldWriter } from "./holds";
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
    ...(opts.refreshTokens ? { refreshTokens: opts.refreshTokens } : {}),
  };
}

export { type KnownRecords, parseCursor, type QboCursor } from "./pull";
