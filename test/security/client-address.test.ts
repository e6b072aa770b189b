/**
 * TRUST_PROXY: the client address used by per-IP limits (sign-in and the customers' page) and the https
 * signal, believed from X-Forwarded-* only when the socket peer is a trusted proxy. Checked over a real socket.
 */
import { type ServerType, serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config";
import { clientAddress, requestIsSecure } from "../../src/http/client";
import { issuePageToken } from "../../src/portal/token";
import { parseTrustProxy, type TrustProxy } from "../../src/trust-proxy";
import { csrfIn, fromIp, invoiceIdIn, SECRET, type World, world } from "../portal/support";
import { makeCustomer, makeInvoice, makeOrg } from "../reminders/factories";

describe("security: TRUST_PROXY is validated at start", () => {
  it("accepts a hop count or a list of addresses and ranges, and names the setting when it is wrong", () => {
    expect(loadConfig({ TRUST_PROXY: "1" }).TRUST_PROXY).toEqual({ hops: 1 });
    expect(loadConfig({ TRUST_PROXY: "loopback, 10.0.0.0/8, 2001:db8::1" }).TRUST_PROXY).toEqual({
      proxies: ["loopback", "10.0.0.0/8", "2001:db8::1"],
    });
    expect(loadConfig({}).TRUST_PROXY).toBeUndefined();
    for (const bad of ["yes", "true", "10.0.0.0/33", "300.1.1.1", "11", "10.0.0.1/8/2", "::g"]) {
      try {
        loadConfig({ TRUST_PROXY: bad });
        expect.unreachable(`TRUST_PROXY=${bad} was accepted`);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as Error).message).toMatch(/TRUST_PROXY/);
      }
    }
  });
});

describe("security: the client address over a real socket", () => {
  let server: ServerType;
  let base = "";
  let trust: TrustProxy | undefined;
  beforeAll(async () => {
    const app = new Hono();
    app.get("/who", (c) =>
      c.json({
        ip: clientAddress(c, trust),
        secure: requestIsSecure(c, { TRUST_PROXY: trust }),
      }),
    );
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => {
        base = `http://127.0.0.1:${info.port}`;
        resolve();
      });
    });
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  const who = async (setting: string | undefined, headers: Record<string, string> = {}) => {
    trust = setting === undefined ? undefined : (parseTrustProxy(setting) as TrustProxy);
    return (await (await fetch(`${base}/who`, { headers })).json()) as { ip: string; secure: boolean };
  };

  it("believes no header when no proxy is trusted", async () => {
    expect(await who(undefined, { "x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https" })).toEqual({
      ip: "127.0.0.1",
      secure: false,
    });
  });

  it("hop counts: the address that many places from the right of the chain", async () => {
    const xff = { "x-forwarded-for": "198.51.100.1, 203.0.113.9, 10.0.0.2" };
    expect((await who("0", xff)).ip).toBe("127.0.0.1");
    expect((await who("1", xff)).ip).toBe("10.0.0.2");
    expect((await who("2", xff)).ip).toBe("203.0.113.9");
    expect((await who("9", xff)).ip).toBe("198.51.100.1");
    expect((await who("1", { "x-forwarded-proto": "https" })).secure).toBe(true);
  });

  it("proxy lists: the first address from the right that is not a listed proxy, forged entries left of it ignored", async () => {
    const xff = { "x-forwarded-for": "1.2.3.4, 203.0.113.9, 10.0.0.2", "x-forwarded-proto": "https" };
    expect(await who("loopback, 10.0.0.0/8", xff)).toEqual({ ip: "203.0.113.9", secure: true });
    expect((await who("loopback", xff)).ip).toBe("10.0.0.2");
    // The socket peer is not a listed proxy: nothing it says is believed.
    expect(await who("10.0.0.0/8", xff)).toEqual({ ip: "127.0.0.1", secure: false });
  });
});

describe("security: the customers' page per-IP limit uses the real client address", () => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  async function actions(env: Record<string, string>, clientFor: (i: number) => string) {
    w = await world(null, "2026-03-10T10:00:00Z", { CUSTOMER_ACTIONS_PER_HOUR: "2", ...env });
    const org = await makeOrg(w.store);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const cu = await makeCustomer(w.store, org);
      await makeInvoice(w.store, org, cu.externalId, { number: `INV-P${i}`, dueDate: "2026-03-05" });
      const t = await issuePageToken(
        w.store.db,
        SECRET,
        { orgId: org.id, contactId: cu.id },
        w.clock.now(),
        45,
      );
      const page = await (await w.app.request(`/c/${t}`)).text();
      for (let k = 0; k < 2; k++) {
        const r = await w.app.request(
          `/c/${t}/promise`,
          {
            method: "POST",
            headers: {
              "content-type": "application/x-www-form-urlencoded",
              "x-forwarded-for": clientFor(i),
            },
            body: new URLSearchParams({
              csrf: csrfIn(page),
              invoice: invoiceIdIn(page, `INV-P${i}`),
              pay_by: "2026-03-20",
            }).toString(),
          },
          fromIp("127.0.0.1"), // every request arrives from the proxy
        );
        statuses.push(r.status);
      }
    }
    return statuses;
  }

  it("customers behind a trusted proxy do not share one allowance", async () => {
    expect(await actions({ TRUST_PROXY: "loopback" }, (i) => `203.0.113.${i + 1}`)).toEqual(
      Array(8).fill(303),
    );
  });

  it("one client behind the proxy is still limited (3x per customer), whatever it claims further left", async () => {
    expect(await actions({ TRUST_PROXY: "loopback" }, (i) => `192.0.2.${i + 1}, 203.0.113.50`)).toEqual([
      303, 303, 303, 303, 303, 303, 429, 429,
    ]);
  });
});
