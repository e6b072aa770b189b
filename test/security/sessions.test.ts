/**
 * Session fixation, redirects and cookies, attacked over the network: a CSRF token learnt before sign-in is
 * worthless after it; `next` never leaves the site however it is disguised; cookies are Secure and
 * `__Host-` named whenever the browser is on https (PUBLIC_URL, or a trusted proxy says so), and only then.
 */
import { afterEach, describe, expect, it } from "vitest";
import { safeNext } from "../../src/http/auth";
import { addUser, Browser, type Running, runServer } from "./harness";

let run: Running;
afterEach(async () => {
  await run?.close();
});

describe("security: the browser id and its CSRF token are replaced at sign-in", () => {
  it("refuses a pre-sign-in (fixated) CSRF token once the browser is signed in", async () => {
    run = await runServer();
    await addUser(run.deps, "ann@example.com", "ann's passphrase");
    const ann = new Browser(run.url);
    const anonCsrf = await ann.csrfFrom("/login");
    const anonId = ann.jar.get("cp_sid");
    expect(anonId).toBeTruthy();
    // An attacker who planted this browser id (or read its form) knows `anonCsrf`.
    const signedIn = await ann.post("/login", {
      _csrf: anonCsrf,
      email: "ann@example.com",
      password: "ann's passphrase",
    });
    expect(signedIn.status).toBe(303);
    expect(ann.jar.get("cp_sid")).toBeTruthy();
    expect(ann.jar.get("cp_sid")).not.toBe(anonId);

    // The old token does not work with the new session, even with the old browser id cookie put back.
    const replayed = new Browser(run.url);
    replayed.jar = new Map(ann.jar);
    replayed.jar.set("cp_sid", anonId!);
    for (const b of [ann, replayed]) {
      const forged = await b.post("/account/timezone", { _csrf: anonCsrf, timezone: "Asia/Tokyo" });
      expect(forged.status).toBe(403);
    }
    // The session's own token works.
    const good = await ann.post("/account/timezone", {
      _csrf: await ann.csrfFrom("/account"),
      timezone: "Asia/Tokyo",
    });
    expect(good.status).toBe(303);
  });

  it("gives the browser a new id at sign-out too", async () => {
    run = await runServer();
    await addUser(run.deps, "ann@example.com", "ann's passphrase");
    const ann = new Browser(run.url);
    await ann.signIn("ann@example.com", "ann's passphrase");
    const id = ann.jar.get("cp_sid");
    expect((await ann.post("/logout", { _csrf: await ann.csrfFrom("/account") })).status).toBe(303);
    expect(ann.jar.get("cp_sid")).not.toBe(id);
    expect(ann.jar.has("cp_session")).toBe(false);
  });
});

/** Variants of "somewhere else", raw (as the browser would send them after decoding the query string). */
const OFF_SITE = [
  "//evil.test",
  "///evil.test",
  "/\\evil.test",
  "\\\\evil.test",
  "/\t/evil.test",
  "/\n/evil.test",
  "/\r\n/evil.test",
  "/ /evil.test",
  "\t//evil.test",
  " //evil.test",
  "/\\/evil.test",
  "/%2F/evil.test",
  "/%2f%2fevil.test",
  "/%5C%5Cevil.test",
  "/%09/evil.test",
  "/\u0000/evil.test",
  "/\u001f/evil.test",
  "/./\\evil.test",
  "/.//evil.test",
  "/../..//evil.test",
  "https://evil.test",
  "http:evil.test",
  "javascript:alert(1)",
  "/\u3000/evil.test",
  "evil.test",
  "",
];

describe("security: `next` stays on this site", () => {
  it("the parser-based check keeps every variant on site (unit table)", () => {
    const origin = "http://creditpulse.example";
    for (const v of OFF_SITE) {
      const out = safeNext(v);
      expect(out.startsWith("/"), JSON.stringify(v)).toBe(true);
      expect(new URL(out, origin).origin, JSON.stringify(v)).toBe(origin);
      // And nothing the server hands back can be read as a scheme-relative URL.
      expect(/^\/[/\\]/.test(out), JSON.stringify(v)).toBe(false);
    }
    // Ordinary paths survive, normalised.
    expect(safeNext("/orgs/acme?grade=D#x")).toBe("/orgs/acme?grade=D#x");
    expect(safeNext("/orgs/acme/../other")).toBe("/orgs/other");
    expect(safeNext("/orgs/a b")).toBe("/orgs/a%20b");
  });

  it("a signed-in browser is never redirected off site, from GET /login or after POST /login", async () => {
    run = await runServer();
    await addUser(run.deps, "ann@example.com", "ann's passphrase");
    const origin = new URL(run.url).origin;
    const ann = new Browser(run.url);
    // Sign in with a hostile `next` in the form.
    for (const v of ["/\t/evil.test", "/\\evil.test", "//evil.test"]) {
      const b = new Browser(run.url);
      const csrf = await b.csrfFrom("/login");
      const res = await b.post("/login", {
        _csrf: csrf,
        email: "ann@example.com",
        password: "ann's passphrase",
        next: v,
      });
      expect(res.status).toBe(303);
      expect(new URL(res.headers.get("location") ?? "", origin).origin, JSON.stringify(v)).toBe(origin);
    }
    await ann.signIn("ann@example.com", "ann's passphrase");
    for (const v of OFF_SITE) {
      const res = await ann.fetch(`/login?next=${encodeURIComponent(v)}`);
      expect(res.status, JSON.stringify(v)).toBe(303);
      const location = res.headers.get("location") ?? "";
      expect(new URL(location, origin).origin, `${JSON.stringify(v)} -> ${location}`).toBe(origin);
    }
    // The issue's exact case, as a browser sends it.
    const issue = await fetch(`${run.url}/login?next=%2F%09%2Fevil.test`, {
      redirect: "manual",
      headers: { cookie: ann.cookieHeader() },
    });
    expect(issue.headers.get("location")).toBe("/");
  });
});

describe("security: Secure and __Host- cookies", () => {
  const cookieLines = (res: Response) => res.headers.getSetCookie();

  it("plain http: cp_session without Secure (as documented), and X-Forwarded-Proto from anyone is ignored", async () => {
    run = await runServer();
    await addUser(run.deps, "ann@example.com", "ann's passphrase");
    const b = new Browser(run.url, { "x-forwarded-proto": "https" });
    const res = await b.signIn("ann@example.com", "ann's passphrase");
    const session = cookieLines(res).find((l) => l.startsWith("cp_session="));
    expect(session).toBeTruthy();
    expect(session).not.toMatch(/;\s*Secure/i);
    expect(cookieLines(res).some((l) => l.startsWith("__Host-"))).toBe(false);
    expect((await b.fetch("/account")).status).toBe(200);
  });

  it("PUBLIC_URL https: every cookie is Secure, __Host- named, Path=/ and has no Domain", async () => {
    run = await runServer({ PUBLIC_URL: "https://credit.example.com" });
    await addUser(run.deps, "ann@example.com", "ann's passphrase");
    const b = new Browser(run.url);
    const login = await b.fetch("/login");
    expect(cookieLines(login).every((l) => l.startsWith("__Host-cp_sid="))).toBe(true);
    const res = await b.signIn("ann@example.com", "ann's passphrase");
    expect(res.status).toBe(303);
    const lines = cookieLines(res);
    expect(lines.map((l) => l.split("=")[0]).sort()).toEqual([
      "__Host-cp_device",
      "__Host-cp_session",
      "__Host-cp_sid",
    ]);
    for (const l of lines) {
      expect(l).toMatch(/;\s*Secure/i);
      expect(l).toMatch(/;\s*HttpOnly/i);
      expect(l).toMatch(/;\s*Path=\/(;|$)/);
      expect(l).not.toMatch(/Domain=/i);
    }
    expect((await b.fetch("/account")).status).toBe(200);
    // The unprefixed name (which any http page or sibling domain could plant) is not read over https.
    const planted = new Browser(run.url);
    planted.jar.set("cp_session", b.jar.get("__Host-cp_session")!);
    const res2 = await planted.fetch("/account", { headers: { accept: "text/html" } });
    expect(res2.status).toBe(303);
  });

  it("behind a trusted proxy, X-Forwarded-Proto: https makes cookies Secure", async () => {
    run = await runServer({ TRUST_PROXY: "1" });
    await addUser(run.deps, "ann@example.com", "ann's passphrase");
    const viaTls = new Browser(run.url, { "x-forwarded-proto": "https", "x-forwarded-for": "192.0.2.9" });
    const res = await viaTls.signIn("ann@example.com", "ann's passphrase");
    expect(cookieLines(res).find((l) => l.startsWith("__Host-cp_session="))).toMatch(/;\s*Secure/i);
    expect((await viaTls.fetch("/account")).status).toBe(200);
    // The same proxy forwarding plain http: plain cookies.
    const viaHttp = new Browser(run.url, { "x-forwarded-proto": "http", "x-forwarded-for": "192.0.2.9" });
    const res2 = await viaHttp.signIn("ann@example.com", "ann's passphrase");
    expect(cookieLines(res2).find((l) => l.startsWith("cp_session="))).not.toMatch(/;\s*Secure/i);
  });

  it("a proxy list: X-Forwarded-Proto counts only when the socket peer is a listed proxy", async () => {
    run = await runServer({ TRUST_PROXY: "10.0.0.0/8" }); // our test client (127.0.0.1) is not a listed proxy
    await addUser(run.deps, "ann@example.com", "ann's passphrase");
    const spoof = new Browser(run.url, { "x-forwarded-proto": "https" });
    const res = await spoof.signIn("ann@example.com", "ann's passphrase");
    expect(cookieLines(res).some((l) => l.startsWith("cp_session="))).toBe(true);
    expect(cookieLines(res).some((l) => /Secure/i.test(l))).toBe(false);
  });
});
