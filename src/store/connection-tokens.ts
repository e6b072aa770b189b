/**
 * OAuth token sets at rest: sealed (AES-GCM, src/store/secrets.ts) on the connection that holds them, with the
 * refresh lease beside them. `connectionTokenStorage` is the storage the token keeper (connectors/tokens.ts)
 * receives, so the keeper never touches the store itself.
 */
import type { ProviderTokenSet } from "../model";
import {
  getConnection,
  markGrantNeedsReconnect,
  releaseRefreshLease,
  saveTokens,
  takeRefreshLease,
} from "./connections";
import type { Db } from "./db";
import type { Sealer } from "./secrets";

export async function sealTokens(sealer: Sealer, t: ProviderTokenSet): Promise<string> {
  return sealer.seal(JSON.stringify(t));
}

export async function unsealTokens(sealer: Sealer, sealed: string): Promise<ProviderTokenSet> {
  return JSON.parse(await sealer.unseal(sealed)) as ProviderTokenSet;
}

/** The token storage of connections in `db`, sealed with `sealer` (what the token keeper is given). */
export function connectionTokenStorage(db: Db, sealer: Sealer) {
  return {
    async get(connectionId: string) {
      const conn = await getConnection(db, connectionId);
      if (!conn) return undefined;
      return {
        id: conn.id,
        status: conn.status,
        tokenConnectionId: conn.tokenConnectionId,
        tokens: conn.sealedTokens ? await unsealTokens(sealer, conn.sealedTokens) : null,
      };
    },
    save: async (holderId: string, tokens: ProviderTokenSet, now: number) =>
      saveTokens(db, holderId, await sealTokens(sealer, tokens), tokens.expiresAt, now),
    markNeedsReconnect: (holderId: string, reason: string, now: number) =>
      markGrantNeedsReconnect(db, holderId, reason, now),
    takeLease: (holderId: string, owner: string, until: number, now: number) =>
      takeRefreshLease(db, holderId, owner, until, now),
    releaseLease: (holderId: string, owner: string) => releaseRefreshLease(db, holderId, owner),
  };
}
