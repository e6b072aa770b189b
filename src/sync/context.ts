/**
 * Builds the ConnectionContext a connector works with: the connection's ids and a token keeper that refreshes
 * ahead of expiry through the connector's `refreshTokens`, single-flight per process and across processes
 * (./tokens.ts). The sync job, the CLI, webhooks and the reminder engine's write-back all get their context here:
 *
 *   const { connector, ctx } = await contextForOrg(deps, org.id);
 *   await connector.placeHold(ctx, { contactExternalId, note });
 */
import type { ConnectionContext, Connector } from "../../connectors/connector";
import { configureConnectors, connectorFor } from "../../connectors/registry";
import type { Deps } from "../deps";
import { type Connection, connectionForOrg } from "../store/connections";
import { quickbooksFor } from "./quickbooks";
import { keeperContext, tokenKeeperFor } from "./tokens";

/** The connector registered for a connection's provider, with the install's settings applied. */
export function connectorForConnection(deps: Deps, conn: Pick<Connection, "provider">): Connector {
  configureConnectors(deps.config, deps.clock);
  // The QuickBooks connector needs the install's deps; building its service registers it.
  if (conn.provider === "quickbooks") quickbooksFor(deps);
  return connectorFor(conn.provider);
}

export function connectionContext(
  deps: Deps,
  conn: Connection,
  connector: Connector = connectorForConnection(deps, conn),
  signal?: AbortSignal,
): ConnectionContext {
  return keeperContext(tokenKeeperFor(deps, connector), conn, signal);
}

/** The connector and context for an organisation's ledger connection; undefined when it has none. */
export async function contextForOrg(
  deps: Deps,
  orgId: string,
): Promise<{ connection: Connection; connector: Connector; ctx: ConnectionContext } | undefined> {
  const connection = await connectionForOrg(deps.store.db, orgId);
  if (!connection) return undefined;
  const connector = connectorForConnection(deps, connection);
  return { connection, connector, ctx: connectionContext(deps, connection, connector) };
}
