import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hashPassword } from "../../src/auth/password";
import { fixedClock } from "../../src/clock";
import type { Deps } from "../../src/deps";
import { createApp } from "../../src/http/app";
import { importCsv } from "../../src/import/csv-import";
import { createLogger } from "../../src/log";
import { ensureUser, grant } from "../../src/store/accounts";
import { findOrgBySlug } from "../../src/store/orgs";
import { signIn } from "../support/auth";
import { testDeps } from "../support/deps";
import { csv, tempFiles } from "../support/files";

let deps: Deps;
let clock: ReturnType<typeof fixedClock>;
beforeEach(async () => {
  clock = fixedClock("2026-11-20T10:00:00Z");
  deps = await testDeps({ clock });
  for (const org of ["acme", "other"]) await importOrg(org);
});
afterEach(async () => {
  await deps.store.close();
});

async function importOrg(slug: string) {
  const f = tempFiles({
    "invoices.csv": csv(
      "customer_id,customer_name,invoice_number,issue_date,due_date,currency,total",
      `C1,${slug} customer,${slug}-1,2026-09-01,2026-10-01,GBP,1000.00`,
    ),
  });
  const r = await importCsv(deps.store, {
    org: slug,
    invoices: f["invoices.csv"]!,
    currency: "GBP",
    now: clock.now(),
  });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
}

const form = (fields: Record<string, string>) => ({
  "content-type": "application/x-www-form-urlencoded",
  body: new URLSearchParams(fields).toString(),
});

describe("security: organisations are private to their members", () => {
  it("answers 404 for another organisation's pages and JSON, however the URL is changed", async () => {
    const app = createApp(deps);
    const s = await signIn(deps, { email: "bk@example.com", role: "bookkeeper", orgs: ["acme"] });
    for (const path of [
      "/orgs/acme",
      "/orgs/acme/customers/C1",
      "/api/orgs/acme",
      "/api/orgs/acme/customers/C1",
    ])
      expect((await app.request(path, { headers: s.headers() })).status, path).toBe(200);
    for (const path of [
      "/orgs/other",
      "/orgs/other/customers/C1",
      "/orgs/other/reminders",
      "/orgs/other/settings",
      "/orgs/other/settings/templates/preview?name=overdue&part=html",
      "/api/orgs/other",
      "/api/orgs/other/customers/C1",
      "/api/orgs/other/reminders",
      "/api/orgs/other/settings",
      "/orgs/acme/customers/nobody",
    ]) {
      const res = await app.request(path, { headers: s.headers() });
      expect(res.status, path).toBe(404);
      expect(await res.text()).not.toContain("other customer");
    }
    const list = (await (await app.request("/api/orgs", { headers: s.headers() })).json()) as {
      organisations: { slug: string }[];
    };
    expect(list.organisations.map((o) => o.slug)).toEqual(["acme"]);
    // Changing another organisation's customer is a 404 too, and changes nothing.
    const post = await app.request("/orgs/other/customers/C1/opt-out", {
      method: "POST",
      headers: s.headers(form({ opted_out: "1" })),
      body: form({ opted_out: "1" }).body,
    });
    expect(post.status).toBe(404);
    const disconnect = await app.request("/orgs/other/disconnect", { method: "POST", headers: s.headers() });
    expect(disconnect.status).toBe(404);
  });

  it("sends signed-out visitors to sign in, and answers 401 to signed-out API calls", async () => {
    const app = createApp(deps);
    const page = await app.request("/orgs/acme", { headers: { accept: "text/html" } });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/login?next=%2Forgs%2Facme");
    expect((await app.request("/api/orgs")).status).toBe(401);
    expect((await app.request("/healthz")).status).toBe(200);
  });

  it("lets viewers look but not change anything", async () => {
    const app = createApp(deps);
    const s = await signIn(deps, { email: "viewer@example.com", role: "viewer", orgs: ["acme"] });
    const html = await (await app.request("/orgs/acme/customers/C1", { headers: s.headers() })).text();
    expect(html).not.toContain("Pause chasing");
    const res = await app.request("/orgs/acme/customers/C1/chasing", {
      method: "POST",
      headers: s.headers({ "content-type": "application/x-www-form-urlencoded" }),
      body: "action=pause&until=2026-12-01",
    });
    expect(res.status).toBe(403);
  });
});

describe("security: CSRF", () => {
  it("refuses forms without the CSRF token, including the ledger disconnect", async () => {
    const app = createApp(deps);
    const s = await signIn(deps);
    const headers = { cookie: s.cookie, "content-type": "application/x-www-form-urlencoded" };
    for (const path of [
      "/orgs/acme/customers/C1/chasing",
      "/orgs/acme/disconnect",
      "/orgs/acme/quickbooks/disconnect",
      "/account/timezone",
      "/logout",
    ]) {
      const res = await app.request(path, { method: "POST", headers, body: "action=pause&until=2026-12-01" });
      expect(res.status, path).toBe(403);
      const wrong = await app.request(path, {
        method: "POST",
        headers,
        body: "_csrf=forged&action=pause&until=2026-12-01",
      });
      expect(wrong.status, path).toBe(403);
    }
    const org = await findOrgBySlug(deps.store.db, "acme");
    const ok = await app.request("/orgs/acme/customers/C1/chasing", {
      method: "POST",
      headers,
      body: `_csrf=${encodeURIComponent(s.csrf)}&action=pause&until=2026-12-01`,
    });
    expect(ok.status).toBe(303);
    expect(org).toBeTruthy();
  });

  it("puts the CSRF token into every POST form of a page", async () => {
    const app = createApp(deps);
    const s = await signIn(deps);
    const html = await (
      await app.request("/orgs/acme/customers/C1", { headers: { cookie: s.cookie } })
    ).text();
    const forms = html.match(/<form[^>]*method="post"[^>]*>/g) ?? [];
    expect(forms.length).toBeGreaterThan(3);
    expect(html.split(`name="_csrf" value="${s.csrf}"`).length - 1).toBe(forms.length);
  });
});

describe("security: sessions and sign-in", () => {
  // These requests come "through a proxy": the client address is the X-Forwarded-For the test sends.
  beforeEach(() => {
    deps.config = { ...deps.config, TRUST_PROXY: { hops: 1 } };
  });

  async function createUser(email: string, password: string) {
    const { user } = await ensureUser(deps.store.db, email, clock.now(), {
      passwordHash: await hashPassword(password),
    });
    const org = await findOrgBySlug(deps.store.db, "acme");
    await grant(deps.store.db, user.id, org!.id, "owner", clock.now());
  }

  async function login(app: ReturnType<typeof createApp>, email: string, password: string, ip = "10.0.0.1") {
    const page = await app.request("/login", { headers: { "x-forwarded-for": ip } });
    const cookie = (page.headers.get("set-cookie") ?? "").split(";")[0]!;
    const csrf = (await page.text()).match(/name="_csrf" value="([^"]+)"/)?.[1] ?? "";
    return app.request("/login", {
      method: "POST",
      headers: { cookie, "x-forwarded-for": ip, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: csrf, email, password, next: "/orgs/acme" }).toString(),
    });
  }

  it("signs in with the right password and sets a signed, httpOnly, SameSite cookie", async () => {
    await createUser("ann@example.com", "a long passphrase");
    const app = createApp(deps);
    const res = await login(app, "Ann@Example.com", "a long passphrase");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/orgs/acme");
    const setCookie = res.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/^cp_session=/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    const page = await app.request("/orgs/acme", { headers: { cookie: setCookie.split(";")[0]! } });
    expect(page.status).toBe(200);
  });

  it("ends sessions after the idle timeout and at their absolute expiry", async () => {
    const app = createApp(deps);
    const s = await signIn(deps);
    clock.advance(7 * 60 * 60_000); // 7 h: still within 8 h idle
    expect((await app.request("/api/orgs", { headers: s.headers() })).status).toBe(200);
    clock.advance(8 * 60 * 60_000 + 1); // idle for more than 8 h
    expect((await app.request("/api/orgs", { headers: s.headers() })).status).toBe(401);

    const t = await signIn(deps, { email: "busy@example.com" });
    for (let h = 0; h < 14 * 24; h += 4) {
      clock.advance(4 * 60 * 60_000);
      if ((await app.request("/api/orgs", { headers: t.headers() })).status !== 200) break;
    }
    expect((await app.request("/api/orgs", { headers: t.headers() })).status).toBe(401);
  });

  it("refuses sign-in after 5 failures for an address, even with the right password, across restarts", async () => {
    await createUser("bob@example.com", "the right password");
    let app = createApp(deps);
    for (let i = 0; i < 5; i++)
      expect((await login(app, "bob@example.com", `wrong ${i}`, `10.0.1.${i}`)).status).toBe(401);
    app = createApp(deps); // a restart: the failures are in the store
    const refused = await login(app, "bob@example.com", "the right password", "10.0.2.1");
    expect(refused.status).toBe(429);
    expect(await refused.text()).toMatch(/Too many failed attempts/);
    clock.advance(16 * 60_000);
    expect((await login(app, "bob@example.com", "the right password", "10.0.2.1")).status).toBe(303);
  });

  it("limits failures per IP address across many addresses", async () => {
    const app = createApp(deps);
    for (let i = 0; i < 20; i++) await login(app, `x${i}@example.com`, "nope nope nope", "10.9.9.9");
    await createUser("carol@example.com", "carol's password");
    expect((await login(app, "carol@example.com", "carol's password", "10.9.9.9")).status).toBe(429);
    expect((await login(app, "carol@example.com", "carol's password", "10.9.9.10")).status).toBe(303);
  });

  it("never writes a password to the log", async () => {
    let logged = "";
    const sink = new Writable({
      write(chunk, _enc, cb) {
        logged += chunk.toString();
        cb();
      },
    });
    deps.log = createLogger("trace", sink);
    const secretPassword = "Sup3r-secret-Passw0rd!";
    await createUser("dan@example.com", secretPassword);
    const app = createApp(deps);
    await login(app, "dan@example.com", "wrong-but-also-secret-9");
    await login(app, "dan@example.com", secretPassword);
    expect(logged).toContain("sign-in failed");
    expect(logged).toContain("signed in");
    expect(logged).not.toContain(secretPassword);
    expect(logged).not.toContain("wrong-but-also-secret-9");
  });
});
