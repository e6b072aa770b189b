import { eq } from "drizzle-orm";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../src/http/app";
import { unsealTokens } from "../../../src/store/connection-tokens";
import { listOrgs } from "../../../src/store/orgs";
import { auditLog, connections } from "../../../src/store/schema";
import { signIn } from "../../support/auth";
import { FakeQbo, QBO_ENV, qboDeps } from "./fake-qbo";

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

async function start() {
  const fake = new FakeQbo();
  server.use(...fake.handlers());
  const q = await qboDeps();
  const app = createApp(q.deps);
  const session = await signIn(q.deps);
  const res = await app.request("/connect/quickbooks", {
    headers: { cookie: session.cookie, "x-csrf-token": session.csrf },
  });
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0]!;
  const location = new URL(res.headers.get("location") ?? "");
  return {
    ...q,
    fake,
    app,
    res,
    session,
    cookie,
    location,
    state: location.searchParams.get("state") ?? "",
  };
}

describe("QuickBooks OAuth: happy path", () => {
  it("sends the owner to Intuit's consent page with our signed state and the accounting scope", async () => {
    const { res, location, cookie } = await start();
    expect(res.status).toBe(302);
    expect(location.origin + location.pathname).toBe("https://appcenter.intuit.com/connect/oauth2");
    expect(location.searchParams.get("client_id")).toBe(QBO_ENV.QBO_CLIENT_ID);
    expect(location.searchParams.get("scope")).toBe("com.intuit.quickbooks.accounting");
    expect(location.searchParams.get("redirect_uri")).toBe(
      "https://creditpulse.test/connect/quickbooks/callback",
    );
    expect(location.searchParams.get("response_type")).toBe("code");
    expect(cookie).toMatch(/^__Host-cp_sid=/); // PUBLIC_URL is https: Secure, __Host- named
  });

  it("stores the realm, seals the tokens and creates the organisation from CompanyInfo and Preferences", async () => {
    const { app, cookie, state, fake, deps } = await start();
    const res = await app.request(
      `/connect/quickbooks/callback?code=good-code&state=${encodeURIComponent(state)}&realmId=${fake.realmId}`,
      {
        headers: { cookie },
      },
    );
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/orgs/harbourside-joinery-ltd");
    const [org] = await listOrgs(deps.store.db);
    expect(org).toMatchObject({
      name: "Harbourside Joinery Ltd",
      baseCurrency: "GBP",
      country: "GB",
      timezone: "Europe/London",
      provider: "quickbooks",
    });
    const [conn] = await deps.store.db.select().from(connections);
    expect(conn).toMatchObject({
      orgId: org!.id,
      provider: "quickbooks",
      tenantId: fake.realmId,
      status: "active",
    });
    expect(conn!.sealedTokens).not.toContain("at-1");
    expect(conn!.sealedTokens).not.toContain("rt-1");
    const tokens = await unsealTokens(deps.sealer, conn!.sealedTokens!);
    expect(tokens).toMatchObject({
      accessToken: "at-1",
      refreshToken: "rt-1",
      expiresAt: deps.clock.now() + 3_600_000,
    });
    expect(fake.tokenCalls).toEqual([{ grant: "authorization_code" }]);
    expect(fake.calls.map((c) => c.path)).toEqual([`/companyinfo/${fake.realmId}`, "/preferences"]);
  });

  it("disconnecting revokes the refresh token at Intuit and forgets the tokens", async () => {
    const { app, session, cookie, state, fake, deps } = await start();
    // Signed in through the callback: whoever completes the connection becomes owner of the new organisation.
    await app.request(
      `/connect/quickbooks/callback?code=good-code&state=${encodeURIComponent(state)}&realmId=${fake.realmId}`,
      {
        headers: { cookie: `${session.cookie}; ${cookie}` },
      },
    );
    const res = await app.request("/orgs/harbourside-joinery-ltd/quickbooks/disconnect", {
      method: "POST",
      headers: session.headers(),
    });
    expect(res.status).toBe(303);
    expect(fake.revoked).toEqual(["rt-1"]);
    const [conn] = await deps.store.db.select().from(connections);
    expect(conn).toMatchObject({ status: "disconnected", sealedTokens: null });
    const actions = (await deps.store.db.select().from(auditLog)).map((a) => a.action);
    expect(actions).toEqual(["quickbooks.connected", "quickbooks.disconnected"]);
  });
});

describe("QuickBooks OAuth: security", () => {
  const refused = async (mutate: (s: Awaited<ReturnType<typeof start>>) => Response | Promise<Response>) => {
    const s = await start();
    const res = await mutate(s);
    // A browser route: the refusal is an HTML page saying why, with a way back (JSON is for /api/ only).
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("This connection attempt cannot be trusted");
    expect(await listOrgs(s.deps.store.db)).toEqual([]);
    expect(await s.deps.store.db.select().from(connections)).toEqual([]);
    expect(s.fake.tokenCalls).toEqual([]);
  };

  it("refuses a forged state and stores nothing", () =>
    refused(({ app, cookie, state, fake }) => {
      const forged = `${state.slice(0, -4)}AAAA`;
      return app.request(
        `/connect/quickbooks/callback?code=good-code&state=${forged}&realmId=${fake.realmId}`,
        { headers: { cookie } },
      );
    }));

  it("refuses a state minted for another browser session", () =>
    refused(({ app, state, fake }) =>
      app.request(
        `/connect/quickbooks/callback?code=good-code&state=${encodeURIComponent(state)}&realmId=${fake.realmId}`,
      ),
    ));

  it("refuses an expired state", () =>
    refused(({ app, cookie, state, fake, clock }) => {
      clock.advance(11 * 60_000);
      return app.request(
        `/connect/quickbooks/callback?code=good-code&state=${encodeURIComponent(state)}&realmId=${fake.realmId}`,
        {
          headers: { cookie },
        },
      );
    }));

  it("refuses a callback with no state at all", () =>
    refused(({ app, cookie, fake }) =>
      app.request(`/connect/quickbooks/callback?code=good-code&realmId=${fake.realmId}`, {
        headers: { cookie },
      }),
    ));

  it("shows how to register the app instead of connecting when QuickBooks is not configured", async () => {
    const { deps } = await qboDeps();
    const app = createApp({ ...deps, config: { ...deps.config, quickbooksConfigured: false } });
    const s = await signIn(deps);
    const start = await app.request("/connect/quickbooks", {
      headers: { cookie: s.cookie, "x-csrf-token": s.csrf },
    });
    expect(start.status).toBe(200);
    expect(await start.text()).toContain("QBO_CLIENT_ID=");
    // The callback of a provider that is not configured still answers 404.
    expect(
      (
        await app.request("/connect/quickbooks/callback?code=x&state=y&realmId=1", {
          headers: { cookie: s.cookie },
        })
      ).status,
    ).toBe(404);
    expect(
      await deps.store.db.select().from(connections).where(eq(connections.provider, "quickbooks")),
    ).toEqual([]);
  });
});
