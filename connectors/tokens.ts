/**
 * The token keeper: hands out a valid access token for a connection, refreshing ahead of expiry.
 * Refresh tokens are single-use on Xero and QuickBooks, so refreshes of one connection collapse into one
 * network call: within a process by sharing the in-flight promise, across processes by a lease in the store.
 * A rejected refresh (invalid_grant) marks the connection "needs reconnect" and fails only that connection.
 */
import type { Clock } from "../src/clock";
import type { Db } from "../src/store/db";
import {
  getConnection,
  releaseRefreshLease,
  saveTokens,
  setConnectionStatus,
  takeRefreshLease,
} from "../src/store/connections";
import type { Sealer } from "../src/store/secrets";
import { ConnectorError } from "./connector";
import { realSleep, type Sleep } from "./limits";

export interface TokenSet {
  accessToken: string;
  refreshToken: string;
  /** Epoch ms when the access token expires. */
  expiresAt: number;
  /** Epoch ms when the refresh token expires, when the provider says. */
  refreshExpiresAt?: number;
  scope?: string;
  idToken?: string;
}

export interface TokenKeeperOptions {
  db: Db;
  sealer: Sealer;
  clock: Clock;
  /** Calls the provider's token endpoint. Throw ConnectorError("auth_revoked") for invalid_grant. */
  refresh(refreshToken: string): Promise<TokenSet>;
  /** Called once when a connection is found revoked (tell the owner). */
  onRevoked?(connectionId: string, reason: string): Promise<void> | void;
  /** Refresh when the token has less than this left (default 5 minutes). */
  refreshAheadMs?: number;
  /** How long a refresh lease lasts (default 30 s). */
  leaseMs?: number;
  /** This process's lease owner id. */
  owner?: string;
  sleep?: Sleep;
}

export interface TokenKeeper {
  accessToken(connectionId: string): Promise<string>;
  /** Forces a refresh (e.g. after a 401 with a token we thought valid). */
  refreshNow(connectionId: string): Promise<string>;
}

export async function sealTokens(sealer: Sealer, t: TokenSet): Promise<string> {
  return sealer.seal(JSON.stringify(t));
}

export async function unsealTokens(sealer: Sealer, sealed: string): Promise<TokenSet> {
  return JSON.parse(await sealer.unseal(sealed)) as TokenSet;
}

export function createTokenKeeper(opts: TokenKeeperOptions): TokenKeeper {
  const ahead = opts.refreshAheadMs ?? 5 * 60_000;
  const leaseMs = opts.leaseMs ?? 30_000;
  const owner = opts.owner ?? `proc_${Math.random().toString(36).slice(2)}`;
  const sleep = opts.sleep ?? realSleep;
  const inFlight = new Map<string, Promise<string>>();

  async function load(connectionId: string) {
    const conn = await getConnection(opts.db, connectionId);
    if (!conn) throw new ConnectorError("invalid_data", `connection ${connectionId} not found`);
    if (conn.status !== "active" || !conn.sealedTokens)
      throw new ConnectorError("auth_revoked", `connection ${connectionId} needs to be reconnected`);
    return { conn, tokens: await unsealTokens(opts.sealer, conn.sealedTokens) };
  }

  async function refreshUnderLease(connectionId: string, force: boolean): Promise<string> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const now = opts.clock.now();
      if (await takeRefreshLease(opts.db, connectionId, owner, now + leaseMs, now)) {
        try {
          // Re-read under the lease: another process may have refreshed already.
          const { tokens } = await load(connectionId);
          if (!force && tokens.expiresAt - opts.clock.now() > ahead) return tokens.accessToken;
          let fresh: TokenSet;
          try {
            fresh = await opts.refresh(tokens.refreshToken);
          } catch (err) {
            if (err instanceof ConnectorError && err.kind === "auth_revoked") {
              await setConnectionStatus(opts.db, connectionId, "needs_reconnect", err.message, opts.clock.now());
              await opts.onRevoked?.(connectionId, err.message);
            }
            throw err;
          }
          await saveTokens(
            opts.db,
            connectionId,
            await sealTokens(opts.sealer, fresh),
            fresh.expiresAt,
            opts.clock.now(),
          );
          return fresh.accessToken;
        } finally {
          await releaseRefreshLease(opts.db, connectionId, owner);
        }
      }
      // Someone else is refreshing: wait for their result.
      await sleep(100);
      const { tokens } = await load(connectionId);
      if (tokens.expiresAt - opts.clock.now() > ahead) return tokens.accessToken;
    }
    throw new ConnectorError("transient", `timed out waiting for another process to refresh ${connectionId}`);
  }

  function single(connectionId: string, force: boolean): Promise<string> {
    const existing = inFlight.get(connectionId);
    if (existing) return existing;
    const p = refreshUnderLease(connectionId, force).finally(() => inFlight.delete(connectionId));
    inFlight.set(connectionId, p);
    return p;
  }

  return {
    async accessToken(connectionId) {
      const pending = inFlight.get(connectionId);
      if (pending) return pending;
      const { tokens } = await load(connectionId);
      if (tokens.expiresAt - opts.clock.now() > ahead) return tokens.accessToken;
      return single(connectionId, false);
    },
    refreshNow: (connectionId) => single(connectionId, true),
  };
}
