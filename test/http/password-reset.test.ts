/**
 * "Forgot password?": the reset link arrives by email (a real SMTP inbox), works once and for an hour, only
 * its hash is stored, using it ends the user's other sessions; the answer never tells whether an account
 * exists; requests are limited like sign-in attempts; bad input comes back beside the field.
 */
import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { afterResponseIdle } from "../../src/after-response";
import { verifyPassword } from "../../src/auth/password";
import { type Clock, fixedClock } from "../../src/clock";
import type { Deps } from "../../src/deps";
import { createApp } from "../../src/http/app";
import { redactPath } from "../../src/log";
import { findUserByEmail, hashToken } from "../../src/store/accounts";
import { ensureOrg } from "../../src/store/orgs";
import { auditLog, passwordResets } from "../../src/store/schema";
import { signIn, type TestSession } from "../support/auth";
import { testDeps } from "../support/deps";
import { useInbox } from "../support/smtp";

const inbox = useInbox();
let deps: Deps;
let clock: ReturnType<typeof fixedClock>;
let owner: TestSession;

beforeEach(async () => {
  clock = fixedClock("2026-11-20T10:00:00Z");
  deps = await testDeps({
    clock: clock as Clock,
    env: { SMTP_URL: inbox.url, MAIL_FROM: "team@creditpulse.test", LOGIN_MAX_FAILURES: "3" },
  });
  await ensureOrg(
    deps.store.db,
    { slug: "acme", name: "Acme Ltd", baseCurrency: "GBP", timezone: "UTC", provider: "csv" },
    clock.now(),
  );
  owner = await signIn(deps, { email: "owner@acme.test", role: "owner", orgs: ["acme"] });
});
afterEach(async () => {
  await deps.store.close();
});

/** A browser before sign-in: keeps its cookies and picks the CSRF field from each page. */
function browser(ip = "203.0.113.7") {
  const app = createApp(deps);
  const jar = new Map<string, string>();
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const [k, v] = pair!.split("=");
      if (v) jar.set(k!, v);
      else jar.delete(k!);
    }
    return res;
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  let csrf = "";
  return {
    jar,
    async get(path: string) {
      const res = keep(await app.request(path, { headers: { cookie: cookie(), accept: "text/html" } }));
      const html = await res.text();
      csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? csrf;
      return { res, html };
    },
    async post(path: string, fields: Record<string, string>, withCsrf = true) {
      const body = new URLSearchParams(withCsrf ? { _csrf: csrf, ...fields } : fields);
      const res = keep(
        await app.request(
          path,
          {
            method: "POST",
            headers: {
              cookie: cookie(),
              "content-type": "application/x-www-form-urlencoded",
              accept: "text/html",
            },
            body: body.toString(),
          },
          { incoming: { socket: { remoteAddress: ip } } },
        ),
      );
      return { res, html: await res.text() };
    },
  };
}

const resetLink = (text: string) => /http:\/\/[^\s"<]+(\/reset\/[A-Za-z0-9_-]+)/.exec(text)?.[1];

async function ask(email: string, b = browser()) {
  await b.get("/forgot");
  const r = await b.post("/forgot", { email });
  await afterResponseIdle(deps);
  return r;
}

describe("asking for a reset link", () => {
  it("the sign-in page links to it; the form carries the CSRF field", async () => {
    const b = browser();
    expect((await b.get("/login")).html).toContain('href="/forgot"');
    const { res, html } = await b.get("/forgot");
    expect(res.status).toBe(200);
    expect(html).toMatch(/name="_csrf" value="[^"]+"/);
  });

  it("emails a single-use link to a known address; only its hash is stored; the audit log has it", async () => {
    const { res, html } = await ask("Owner@Acme.test");
    expect(res.status).toBe(200);
    expect(html).toContain("Check your email");
    expect(inbox.messages).toHaveLength(1);
    const mail = inbox.messages[0]!;
    expect(mail.envelope.to).toEqual(["owner@acme.test"]);
    expect(mail.parsed.subject).toBe("Reset your Creditpulse password");
    const path = resetLink(mail.parsed.text ?? "")!;
    expect(path).toBeDefined();
    const token = path.split("/reset/")[1]!;
    const rows = await deps.store.db.select().from(passwordResets);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.tokenHash).toBe(hashToken(token));
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(
      await deps.store.db
        .select()
        .from(auditLog)
        .where(eq(auditLog.action, "account.password_reset_requested")),
    ).toHaveLength(1);
  });

  it("answers an unknown address exactly like a known one, and sends nothing", async () => {
    const known = await ask("owner@acme.test");
    const unknown = await ask("nobody@acme.test");
    expect(unknown.res.status).toBe(known.res.status);
    const strip = (h: string) =>
      h.replace(/owner@acme\.test|nobody@acme\.test/g, "EMAIL").replace(/value="[^"]+"/g, "");
    expect(strip(unknown.html)).toBe(strip(known.html));
    expect(inbox.messages.map((m) => m.envelope.to[0])).toEqual(["owner@acme.test"]);
  });

  it("a bad address comes back beside the field with the input kept; no CSRF token, no request", async () => {
    const b = browser();
    await b.get("/forgot");
    for (const bad of ["not-an-email", `${"x".repeat(300)}@example.com`, '"><script>alert(1)</script>']) {
      const { res, html } = await b.post("/forgot", { email: bad });
      expect(res.status).toBe(422);
      expect(html).toContain('aria-describedby="email-problem"');
      expect(html).toMatch(/id="email-problem"[^>]*>Enter the email address you sign in with/);
      expect(html).not.toContain("<script>alert(1)</script>");
    }
    const kept = await b.post("/forgot", { email: "not-an-email" });
    expect(kept.html).toContain('value="not-an-email"');
    const forged = await b.post("/forgot", { email: "owner@acme.test" }, false);
    expect(forged.res.status).toBe(403);
    await afterResponseIdle(deps);
    expect(inbox.messages).toHaveLength(0);
  });

  it("is limited like sign-in: per address (known or not) and per network", async () => {
    for (let i = 0; i < 3; i++) expect((await ask("owner@acme.test")).res.status).toBe(200);
    const limited = await ask("owner@acme.test");
    expect(limited.res.status).toBe(429);
    expect(limited.html).toContain("Too many requests");
    expect(inbox.messages).toHaveLength(3);
    // The same for an address without an account: the limit reveals nothing either.
    for (let i = 0; i < 3; i++) await ask("nobody@acme.test");
    expect((await ask("nobody@acme.test")).res.status).toBe(429);
    // The address's limit holds from another network too; after the window, the address may again.
    expect((await ask("owner@acme.test", browser("198.51.100.9"))).res.status).toBe(429);
    clock.advance(16 * 60_000);
    expect((await ask("owner@acme.test", browser("198.51.100.9"))).res.status).toBe(200);
    // One network asking for many addresses is stopped at four times the per-address limit.
    clock.advance(16 * 60_000);
    const statuses: number[] = [];
    for (let i = 0; i < 13; i++)
      statuses.push((await ask(`guess${i}@acme.test`, browser("192.0.2.1"))).res.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(12);
    expect(statuses.at(-1)).toBe(429);
  });
});

describe("using the link", () => {
  it("sets the new password, ends every other session, signs in, and works only once", async () => {
    await ask("owner@acme.test");
    const path = resetLink(inbox.messages[0]!.parsed.text ?? "")!;
    const b = browser();
    const form = await b.get(path);
    expect(form.res.status).toBe(200);
    expect(form.html).toContain("owner@acme.test");

    const short = await b.post(path, { password: "short" });
    expect(short.res.status).toBe(422);
    expect(short.html).toContain('aria-describedby="password-problem"');

    const done = await b.post(path, { password: "a brand new password" });
    expect(done.res.status).toBe(303);
    const user = await findUserByEmail(deps.store.db, "owner@acme.test");
    expect(await verifyPassword("a brand new password", user!.passwordHash)).toBe(true);
    expect(await verifyPassword("correct horse battery", user!.passwordHash)).toBe(false);
    // The session from before the reset is gone; the one the reset started works.
    const old = await createApp(deps).request("/team", {
      headers: { cookie: owner.cookie, accept: "text/html" },
    });
    expect(old.status).toBe(303);
    expect(old.headers.get("location")).toMatch(/^\/login/);
    expect((await b.get("/team")).res.status).toBe(200);
    expect(
      await deps.store.db.select().from(auditLog).where(eq(auditLog.action, "account.password_reset")),
    ).toHaveLength(1);

    const again = await browser().get(path);
    expect(again.res.status).toBe(404);
    expect(again.html).toContain("This password reset link is not valid");
    const replay = await b.post(path, { password: "yet another password" });
    expect(replay.res.status).toBe(404);
  });

  it("expires after an hour, and a newer request makes the older link useless", async () => {
    await ask("owner@acme.test");
    const first = resetLink(inbox.messages[0]!.parsed.text ?? "")!;
    clock.advance(30 * 60_000);
    await ask("owner@acme.test");
    const second = resetLink(inbox.messages[1]!.parsed.text ?? "")!;
    expect((await browser().get(first)).res.status).toBe(404);
    expect((await browser().get(second)).res.status).toBe(200);
    clock.advance(61 * 60_000);
    expect((await browser().get(second)).res.status).toBe(404);
    expect((await browser().get("/reset/not-a-real-token")).res.status).toBe(404);
  });
});

it("reset and invitation tokens never reach a log line", () => {
  expect(redactPath("POST /reset/abcDEF_123-x?y=1")).toBe("POST /reset/[redacted]?y=1");
  expect(redactPath("GET https://cp.example.com/invite/abcDEF_123")).toBe(
    "GET https://cp.example.com/invite/[redacted]",
  );
});
