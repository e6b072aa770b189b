/**
 * Token keepers over the store: connectors/tokens.ts's keeper given the store's token storage (sealed at rest,
 * refresh leases), one per deps and provider so concurrent callers in this process share in-flight refreshes.
 * A refused refresh token is told to the owner (a log line and an audit row) once per connection.
 */
import type { ConnectionContext, Connector } from "../../connectors/connector";
import type { Sleep } from "../../connectors/limits";
import { limiterProvider } from "../../connectors/remote-limiter";
import {
  createTokenKeeper as createKeeper,
  type TokenKeeper,
  type TokenKeeperOptions,
} from "../../connectors/tokens";
import type { Deps } from "../deps";
import type { Provider } from "../model";
import { type AuditEntry, audit } from "../store/audit";
import { connectionTokenStorage } from "../store/connection-tokens";
import { type Connection, getConnection } from "../store/connections";
import type { Db } from "../store/db";
import type { Sealer } from "../store/secrets";

/** A token keeper whose token sets are the connections in `db`, sealed with `sealer`. */
export function createTokenKeeper(
  opts: Omit<TokenKeeperOptions, "storage"> & { db: Db; sealer: Sealer },
): TokenKeeper {
  const { db, sealer, ...rest } = opts;
  return createKeeper({ ...rest, storage: connectionTokenStorage(db, sealer) });
}

/** Test hooks for one provider's keeper: its lease owner id (two "processes") and how it waits. */
export interface KeeperHooks {
  owner?: string;
  sleep?: Sleep;
}

/** The audit row written when a provider refuses a connection's tokens. */
function revokedAudit(provider: Provider, reason: string): Omit<AuditEntry, "orgId"> {
  // QuickBooks has always written its own action, the others the generic one: kept, so audit trails read on.
  return provider === "quickbooks"
    ? { actor: "system", action: "quickbooks.needs_reconnect", detail: { reason } }
    : { actor: "sync", action: "connection.needs_reconnect", detail: { provider, reason } };
}

const keepers = new WeakMap<Deps, Map<Provider, TokenKeeper>>();
const hooksOf = new WeakMap<Deps, Map<Provider, KeeperHooks>>();

/** Sets a provider's keeper hooks for these deps (the keeper is rebuilt with them on next use). */
export function configureTokenKeeper(deps: Deps, provider: Provider, hooks: KeeperHooks): void {
  let byProvider = hooksOf.get(deps);
  if (!byProvider) {
    byProvider = new Map();
    hooksOf.set(deps, byProvider);
  }
  byProvider.set(provider, hooks);
  keepers.get(deps)?.delete(provider);
}

/** One token keeper per deps and provider, refreshing through the connector's `refreshTokens`. */
export function tokenKeeperFor(deps: Deps, connector: Connector): TokenKeeper {
  let byProvider = keepers.get(deps);
  if (!byProvider) {
    byProvider = new Map();
    keepers.set(deps, byProvider);
  }
  let keeper = byProvider.get(connector.provider);
  if (!keeper) {
    const hooks = hooksOf.get(deps)?.get(connector.provider) ?? {};
    keeper = createTokenKeeper({
      // Workers: the refresh lock is a Durable Object per token set; Node: the store's lease.
      lock: limiterProvider()?.tokenLock?.(connector.provider),
      db: deps.store.db,
      sealer: deps.sealer,
      clock: deps.clock,
      ...(hooks.owner ? { owner: hooks.owner } : {}),
      ...(hooks.sleep ? { sleep: hooks.sleep } : {}),
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
              ...revokedAudit(connector.provider, reason),
            },
            deps.clock.now(),
          );
      },
    });
    byProvider.set(connector.provider, keeper);
  }
  return keeper;
}

/** The context a connector works with for a connection: its ids and tokens from `keeper`. */
export function keeperContext(
  keeper: TokenKeeper,
  conn: Pick<Connection, "id" | "orgId" | "tenantId">,
  signal?: AbortSignal,
): ConnectionContext {
  return {
    orgId: conn.orgId,
    connectionId: conn.id,
    tenantId: conn.tenantId,
    accessToken: () => keeper.accessToken(conn.id),
    refreshAccessToken: () => keeper.refreshNow(conn.id),
    signal,
  };
}
