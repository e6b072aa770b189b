/**
 * Builds the ConnectionContext a connector works with: the connection's ids and a token keeper that refreshes
 * ahead of expiry through the connector's `refreshTokens`, single-flight per process and across processes.
 * The sync job, the CLI, webhooks and the reminder engine's write-back all get their context here:
 *
 *   const { connector, ctx } = await contextForOrg(deps, org.id);
 *   await connector.placeHold(ctx, { contactExternalId, note });
 */
import type { ConnectionContext, Connector } from "../../connectors/connector";
import { quickbooksFor } from "../../connectors/quickbooks/service";
import { configureConnectors, connectorFor } from "../../connectors/registry";
import { limiterProvider } from "../../connectors/remote-limiter";
import { createTokenKeeper, type TokenKeeper } from "../../connectors/tokens";
import type { Deps } from "../deps";
import type { Provider } from "../model";
import { audit } from "../store/audit";
import { type Connection, connectionForOrg, getConnection } from "../store/connections";

const keepers = new WeakMap<Deps, Map<Provider, TokenKeeper>>();

/** One token keeper per deps and provider, so concurrent callers in this process share in-flight refreshes. */
export function tokenKeeperFor(deps: Deps, connector: Connector): TokenKeeper {
  let byProvider = keepers.get(deps);
  if (!byProvider) {
    byProvider = new Map();
    keepers.set(deps, byProvider);
  }
  let keeper = byProvider.get(connector.provider);
  if (!keeper) {
    keeper = createTokenKeeper({
      // Workers: the refresh lock is a Durable Object per token set; Node: the store's lease.
      lock: limiterProvider()?.tokenLock?.(connector.provider),
      db: deps.store.db,
      sealer: deps.sealer,
      clock: deps.clock,
      refresh: (refreshToken) => {
        if (!connector.refreshTokens)
          throw new Error(`${connector.provider} connections cannot refresh tokens`);
        return connector.refreshTokens(deps.config, refreshToken);
      },
      onRevoked: async (connectionId, reason) => {
        const conn = await getConnection(deps.store.db, connectionId);
        deps.log.warn(
          { connection: connectionId, org: conn?.orgId, provider: connector.provider },
          `${connector.provider} refused the connection's tokens: it needs to be reconnected (${reason})`,
        );
        if (conn)
          await audit(
            deps.store.db,
            {
              orgId: conn.orgId,
              actor: "sync",
              action: "connection.needs_reconnect",
              detail: { provider: connector.provider, reason },
            },
            deps.clock.now(),
          );
      },
    });
    byProvider.set(connector.provider, keeper);
  }
  return keeper;
}

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
  const keeper = tokenKeeperFor(deps, connector);
  return {
    orgId: conn.orgId,
    connectionId: conn.id,
    tenantId: conn.tenantId,
    accessToken: () => keeper.accessToken(conn.id),
    refreshAccessToken: () => keeper.refreshNow(conn.id),
    signal,
  };
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
