import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConnectorError } from "../../connectors/connector";
import { unsealTokens } from "../../src/store/connection-tokens";
import { getConnection } from "../../src/store/connections";
import { createTokenKeeper, tokenKeeperFor } from "../../src/sync/tokens";
import { xeroHarness } from "./xero/harness";

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

async function expiredConnection() {
  const h = await xeroHarness();
  server.use(...h.fake.handlers);
  const [first] = await h.connect();
  h.clock.advance(29 * 60_000); // inside the 5-minute refresh-ahead window
  return { ...h, connection: first!.connection };
}

describe("token keeper", () => {
  it("collapses concurrent refreshes in one process into one token call (Xero refresh tokens are single-use)", async () => {
    const h = await expiredConnection();
    const keeper = tokenKeeperFor(h.deps, h.connector);
    const tokens = await Promise.all(Array.from({ length: 5 }, () => keeper.accessToken(h.connection.id)));
    expect(new Set(tokens).size).toBe(1);
    expect(h.fake.state.tokenCalls.map((t) => t.grant)).toEqual(["refresh_token"]);
    const stored = await unsealTokens(
      h.deps.sealer,
      (await getConnection(h.deps.store.db, h.connection.id))!.sealedTokens!,
    );
    expect(stored.accessToken).toBe(tokens[0]);
    expect(stored.expiresAt).toBe(h.clock.now() + 1800_000);
  });

  it("collapses refreshes across two processes sharing the store (the refresh lease)", async () => {
    const h = await expiredConnection();
    const refresh = (rt: string) => h.connector.refreshTokens!(h.deps.config, rt);
    const a = createTokenKeeper({
      db: h.deps.store.db,
      sealer: h.deps.sealer,
      clock: h.clock,
      refresh,
      owner: "proc-a",
      sleep: (ms) => new Promise((r) => setTimeout(r, ms / 10)),
    });
    const b = createTokenKeeper({
      db: h.deps.store.db,
      sealer: h.deps.sealer,
      clock: h.clock,
      refresh,
      owner: "proc-b",
      sleep: (ms) => new Promise((r) => setTimeout(r, ms / 10)),
    });
    const [ta, tb] = await Promise.all([a.accessToken(h.connection.id), b.accessToken(h.connection.id)]);
    expect(ta).toBe(tb);
    expect(h.fake.state.tokenCalls).toHaveLength(1);
  });

  it("marks a revoked grant needs_reconnect, tells the owner once, and leaves other connections alone", async () => {
    const h = await xeroHarness({
      fake: {
        tenants: [
          {
            id: "t-1",
            connectionId: "c-1",
            name: "One",
            organisation: { Name: "One", BaseCurrency: "NZD", Timezone: "NEWZEALANDSTANDARDTIME" },
          },
          {
            id: "t-2",
            connectionId: "c-2",
            name: "Two",
            organisation: { Name: "Two", BaseCurrency: "NZD", Timezone: "NEWZEALANDSTANDARDTIME" },
          },
        ],
      },
    });
    server.use(...h.fake.handlers);
    const [one] = await h.connect([0]);
    const [two] = await h.connect([1]);
    h.clock.advance(29 * 60_000);
    const oneRefresh = (
      await unsealTokens(
        h.deps.sealer,
        (await getConnection(h.deps.store.db, one!.connection.id))!.sealedTokens!,
      )
    ).refreshToken;
    h.fake.state.liveRefreshTokens.delete(oneRefresh);
    const revoked: string[] = [];
    const keeper = createTokenKeeper({
      db: h.deps.store.db,
      sealer: h.deps.sealer,
      clock: h.clock,
      refresh: (rt) => h.connector.refreshTokens!(h.deps.config, rt),
      onRevoked: (id) => {
        revoked.push(id);
      },
    });
    const err = await keeper.accessToken(one!.connection.id).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect((err as ConnectorError).kind).toBe("auth_revoked");
    expect(revoked).toEqual([one!.connection.id]);
    expect((await getConnection(h.deps.store.db, one!.connection.id))!.status).toBe("needs_reconnect");
    expect((await getConnection(h.deps.store.db, two!.connection.id))!.status).toBe("active");
    expect(await keeper.accessToken(two!.connection.id)).toMatch(/^access-/);
  });
});
