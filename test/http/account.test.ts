/**
 * "Your account": a signed-in user sets the timezone their weekly digest is timed in. The value must be an
 * IANA timezone (the error names the bad value); empty clears it; the form needs a session and the CSRF token.
 */
import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Deps } from "../../src/deps";
import { userTimezone } from "../../src/digest/send";
import { createApp } from "../../src/http/app";
import { ensureOrg } from "../../src/store/orgs";
import { users } from "../../src/store/schema";
import { signIn, type TestSession } from "../support/auth";
import { testDeps } from "../support/deps";

let deps: Deps;
let s: TestSession;
beforeEach(async () => {
  deps = await testDeps({ now: "2026-11-20T10:00:00Z" });
  await ensureOrg(
    deps.store.db,
    { slug: "acme", name: "Acme", baseCurrency: "GBP", timezone: "Europe/London", provider: "csv" },
    deps.clock.now(),
  );
  s = await signIn(deps);
});
afterEach(async () => {
  await deps.store.close();
});

const form = { "content-type": "application/x-www-form-urlencoded" };
const post = (timezone: string, session = s) =>
  createApp(deps).request("/account/timezone", {
    method: "POST",
    headers: session.headers(form),
    body: new URLSearchParams({ timezone }).toString(),
  });
const stored = async () =>
  (await deps.store.db.select().from(users).where(eq(users.id, s.userId)))[0]!.timezone;

describe("your account", () => {
  it("is linked from every signed-in page and shows the form with the CSRF token", async () => {
    const app = createApp(deps);
    const home = await (await app.request("/", { headers: { cookie: s.cookie } })).text();
    expect(home).toContain('href="/account"');
    const res = await app.request("/account", { headers: { cookie: s.cookie } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('action="/account/timezone"');
    expect(html).toContain(`name="_csrf" value="${s.csrf}"`);
    expect(html).toContain("Europe/London, the timezone of Acme"); // what an empty value means
  });

  it("saves a valid IANA timezone, which the digest then uses", async () => {
    const res = await post(" America/New_York ");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toMatch(/^\/account\?done=/);
    expect(await stored()).toBe("America/New_York");
    const [user] = await deps.store.db.select().from(users).where(eq(users.id, s.userId));
    expect(userTimezone(user!, [])).toBe("America/New_York");
    const page = await (
      await createApp(deps).request(res.headers.get("location")!, { headers: { cookie: s.cookie } })
    ).text();
    expect(page).toContain("Digest timezone saved.");
    expect(page).toContain('value="America/New_York"');
  });

  it("refuses an unknown timezone with an error naming it, and keeps the old value", async () => {
    await post("Asia/Tokyo");
    const res = await post("Mars/<Olympus>");
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain("&quot;Mars/&lt;Olympus&gt;&quot; is not a timezone we know");
    expect(html).not.toContain("<Olympus>");
    expect(html).toContain('aria-invalid="true"');
    expect(await stored()).toBe("Asia/Tokyo");
  });

  it("clears the timezone when left empty", async () => {
    await post("Asia/Tokyo");
    expect((await post("")).status).toBe(303);
    expect(await stored()).toBeNull();
  });

  it("needs a session and the CSRF token", async () => {
    const app = createApp(deps);
    const anon = await app.request("/account", { headers: { accept: "text/html" } });
    expect(anon.status).toBe(303);
    expect(anon.headers.get("location")).toBe("/login?next=%2Faccount");
    const noCsrf = await app.request("/account/timezone", {
      method: "POST",
      headers: { cookie: s.cookie, ...form },
      body: "timezone=Asia%2FTokyo",
    });
    expect(noCsrf.status).toBe(403);
    expect(await stored()).toBeNull();
  });

  it("changes only the signed-in user's own timezone", async () => {
    const other = await signIn(deps, { email: "other@example.com" });
    await post("Asia/Tokyo", other);
    expect(await stored()).toBeNull();
  });
});
