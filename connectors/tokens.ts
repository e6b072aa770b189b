/**
 * The token keeper: hands out a valid access token for a connection, refreshing ahead of expiry.
 * Refresh tokens are single-use on Xero and QuickBooks, so refreshes of one connection collapse into one
 * network call: within a process by sharing the in-flight promise, across processes by a lease in the store.
 * A rejected refresh (invalid_grant) marks the connection "needs reconnect" and fails only that connection.
 * The keeper never touches the store: token storage (sealed at rest, leases) reaches it through `TokenStorage`,
 * which src/store/connection-tokens.ts implements.
 */
import type { Clock } from "../src/clock";
import { ConnectorError, type ProviderTokenSet } from "./connector";
import { realSleep, type Sleep } from "./limits";

/** The token set a connection keeps (the shape lives in connector.ts so connectors can return it). */
export type TokenSet = ProviderTokenSet;

/** A connection as the keeper sees it: its status, where its tokens are kept, and those tokens (unsealed). */
export interface StoredTokens {
  id: string;
  status: "active" | "needs_reconnect" | "disconnected";
  /** Set when the tokens are kept on another connection (tenants connected under one consent share one set). */
  tokenConnectionId: string | null;
  /** Null when this connection keeps none (they are on `tokenConnectionId`, or were forgotten). */
  tokens: TokenSet | null;
}

/** Where the keeper reads and writes token sets and takes refresh leases (the store, on both runtimes). */
export interface TokenStorage {
  get(connectionId: string): Promise<StoredTokens | undefined>;
  save(holderId: string, tokens: TokenSet, now: number): Promise<void>;
  /** The provider refused the holder's tokens: mark every connection using them; returns the ids marked. */
  markNeedsReconnect(holderId: string, reason: string, now: number): Promise<string[]>;
  /** True when `owner` now holds the holder's refresh lease until `until`. */
  takeLease(holderId: string, owner: string, until: number, now: number): Promise<boolean>;
  releaseLease(holderId: string, owner: string): Promise<void>;
}

export interface TokenKeeperOptions {
  storage: TokenStorage;
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
  /**
   * A lock held elsewhere (on Workers: a Durable Object per token set): callers wait in its queue for their
   * turn instead of polling the store's lease. Unset = the store lease (Node, several processes).
   */
  lock?: RefreshLock;
}

export interface RefreshLock {
  /** Resolves when this caller holds the refresh lock of `holderId`; call the returned function to let go. */
  acquire(holderId: string): Promise<() => Promise<void>>;
}

export interface TokenKeeper {
  accessToken(connectionId: string): Promise<string>;
  /** Forces a refresh (e.g. after a 401 with a token we thought valid). */
  refreshNow(connectionId: string): Promise<string>;
}

export function createTokenKeeper(opts: TokenKeeperOptions): TokenKeeper {
  const ahead = opts.refreshAheadMs ?? 5 * 60_000;
  const leaseMs = opts.leaseMs ?? 30_000;
  const owner = opts.owner ?? `proc_${Math.random().toString(36).slice(2)}`;
  const sleep = opts.sleep ?? realSleep;
  const inFlight = new Map<string, Promise<string>>();
  const storage = opts.storage;

  /**
   * The connection's token set. Tenants connected under one consent share one token set kept on the "holder"
   * connection (tokenConnectionId), so leases and refreshes are taken on the holder.
   */
  async function load(connectionId: string) {
    const conn = await storage.get(connectionId);
    if (!conn) throw new ConnectorError("invalid_data", `connection ${connectionId} not found`);
    if (conn.status !== "active")
      throw new ConnectorError("auth_revoked", `connection ${connectionId} needs to be reconnected`);
    const holder = conn.tokenConnectionId ? await storage.get(conn.tokenConnectionId) : conn;
    if (!holder?.tokens || holder.status === "needs_reconnect")
      throw new ConnectorError("auth_revoked", `connection ${connectionId} needs to be reconnected`);
    return { conn, holderId: holder.id, tokens: holder.tokens };
  }

  async function refreshUnderLock(connectionId: string, holderId: string, force: boolean): Promise<string> {
    const seen = (await load(connectionId)).tokens.accessToken;
    const release = await opts.lock!.acquire(holderId);
    try {
      return await refreshHeld(connectionId, holderId, force, seen);
    } finally {
      await release();
    }
  }

  /** Under the lease or lock: re-read (another caller may have refreshed already), else refresh and save. */
  async function refreshHeld(connectionId: string, holderId: string, force: boolean, seen: string) {
    const { tokens } = await load(connectionId);
    const stillGood = tokens.expiresAt - opts.clock.now() > ahead;
    if (stillGood && (!force || tokens.accessToken !== seen)) return tokens.accessToken;
    let fresh: TokenSet;
    try {
      fresh = await opts.refresh(tokens.refreshToken);
    } catch (err) {
      if (err instanceof ConnectorError && err.kind === "auth_revoked") {
        const affected = await storage.markNeedsReconnect(holderId, err.message, opts.clock.now());
        for (const id of affected) await opts.onRevoked?.(id, err.message);
      }
      throw err;
    }
    await storage.save(holderId, fresh, opts.clock.now());
    return fresh.accessToken;
  }

  async function refreshUnderLease(connectionId: string, holderId: string, force: boolean): Promise<string> {
    if (opts.lock) return refreshUnderLock(connectionId, holderId, force);
    const seen = (await load(connectionId)).tokens.accessToken;
    for (let attempt = 0; attempt < 400; attempt++) {
      const now = opts.clock.now();
      if (await storage.takeLease(holderId, owner, now + leaseMs, now)) {
        try {
          return await refreshHeld(connectionId, holderId, force, seen);
        } finally {
          await storage.releaseLease(holderId, owner);
        }
      }
      // Someone else is refreshing: wait for their result.
      await sleep(50);
      const { tokens } = await load(connectionId);
      // Their refresh landed: a new token (or, when not forced, any token with time left).
      if (tokens.expiresAt - opts.clock.now() > ahead && (!force || tokens.accessToken !== seen))
        return tokens.accessToken;
    }
    throw new ConnectorError("transient", `timed out waiting for another process to refresh ${connectionId}`);
  }

  async function single(connectionId: string, force: boolean): Promise<string> {
    const { holderId } = await load(connectionId);
    const existing = inFlight.get(holderId);
    if (existing) return existing;
    const p = refreshUnderLease(connectionId, holderId, force).finally(() => inFlight.delete(holderId));
    inFlight.set(holderId, p);
    return p;
  }

  return {
    async accessToken(connectionId) {
      const { holderId, tokens } = await load(connectionId);
      const pending = inFlight.get(holderId);
      if (pending) return pending;
      if (tokens.expiresAt - opts.clock.now() > ahead) return tokens.accessToken;
      return single(connectionId, false);
    },
    refreshNow: (connectionId) => single(connectionId, true),
  };
}
