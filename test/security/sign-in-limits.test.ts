/**
 * Password guessing against a running server: the limit is reserved before any password is evaluated, so
 * concurrent guesses cannot slip past it; invite links are limited the same way; a stranger's guesses cannot
 * lock a real user out of a browser they already use; per-IP limits follow the client behind a trusted proxy.
 * "Evaluated" is counted at the scrypt check itself (verifyPassword), not inferred from status codes.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

const evaluated = vi.hoisted(() => ({ count: 0 }));
vi.mock("../../src/auth/password", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../src/auth/password")>();
  return {
    ...real,
    verifyPassword: async (password: string, stored: string | null) => {
      evaluated.count++;
      return real.verifyPassword(password, stored);
    },
  };
});

import { createInvite } from "../../src/store/accounts";
import { addUser, Browser, type Running, runServer } from "./harness";

const MAX = 5;
let run: Running;

afterEach(async () => {
  await run?.close();
});

describe("security: sign-in limits hold under concurrency", () => {
  beforeEach(async () => {
    run = await runServer({ LOGIN_MAX_FAILURES: String(MAX) });
    await addUser(run.deps, "victim@example.com", "the real passphrase");
    evaluated.count = 0;
  });

  it("40 concurrent wrong passwords for one account evaluate at most LOGIN_MAX_FAILURES of them", async () => {
    const attacker = new Browser(run.url);
    const csrf = await attacker.csrfFrom("/login");
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        attacker.post("/login", { _csrf: csrf, email: "victim@example.com", password: `guess number ${i}` }),
      ),
    );
    const statuses = answers.map((r) => r.status);
    expect(evaluated.count).toBeLessThanOrEqual(MAX);
    expect(evaluated.count).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 401).length).toBe(evaluated.count);
    expect(statuses.filter((s) => s === 429).length).toBe(40 - evaluated.count);
    // And the right password is refused too now (from a browser that never signed in here).
    const before = evaluated.count;
    expect((await attacker.signIn("victim@example.com", "the real passphrase")).status).toBe(429);
    expect(evaluated.count).toBe(before);
  });

  it("spoofed X-Forwarded-For does not buy more guesses when no proxy is trusted", async () => {
    const answers = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const b = new Browser(run.url, { "x-forwarded-for": `203.0.113.${i}` });
        const csrf = await b.csrfFrom("/login");
        return b.post("/login", { _csrf: csrf, email: `user${i}@example.com`, password: "wrong wrong" });
      }),
    );
    // One client address (the socket's): 4 x LOGIN_MAX_FAILURES across all addresses.
    expect(evaluated.count).toBeLessThanOrEqual(4 * MAX);
    expect(answers.filter((r) => r.status === 429).length).toBe(40 - evaluated.count);
  });

  it("an invite link for an existing account is limited like sign-in", async () => {
    const { org } = await addUser(run.deps, "member@example.com", "member's passphrase");
    const token = await createInvite(
      run.store.db,
      { email: "member@example.com", orgId: org.id, role: "viewer" },
      run.clock.now(),
    );
    const attacker = new Browser(run.url);
    const csrf = await attacker.csrfFrom(`/invite/${token}`);
    expect(csrf).not.toBe("");
    evaluated.count = 0;
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        attacker.post(`/invite/${token}`, { _csrf: csrf, password: `invite guess ${i}` }),
      ),
    );
    expect(evaluated.count).toBeLessThanOrEqual(MAX);
    expect(answers.filter((r) => r.status === 429).length).toBe(40 - evaluated.count);
    const right = await attacker.post(`/invite/${token}`, { _csrf: csrf, password: "member's passphrase" });
    expect(right.status).toBe(429);
    expect(await right.text()).toMatch(/Too many failed attempts/);
  });

  it("a stranger's guesses do not lock the real user out of a browser they already signed in from", async () => {
    const mine = new Browser(run.url);
    expect((await mine.signIn("victim@example.com", "the real passphrase")).status).toBe(303);
    await mine.post("/logout", { _csrf: await mine.csrfFrom("/account") });
    expect(mine.jar.has("cp_session")).toBe(false);
    expect(mine.jar.has("cp_device")).toBe(true);

    const attacker = new Browser(run.url);
    const csrf = await attacker.csrfFrom("/login");
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        attacker.post("/login", { _csrf: csrf, email: "victim@example.com", password: `guess ${i}` }),
      ),
    );
    // ...and uses up the shared IP address's allowance on other addresses.
    await Promise.all(
      Array.from({ length: 4 * MAX }, (_, i) =>
        attacker.post("/login", { _csrf: csrf, email: `other${i}@example.com`, password: "nope nope" }),
      ),
    );
    // The address is locked for browsers it has never been used in...
    expect((await new Browser(run.url).signIn("victim@example.com", "the real passphrase")).status).toBe(429);
    // ...but not in the victim's own browser, even from the same (shared) IP address.
    const back = await mine.signIn("victim@example.com", "the real passphrase");
    expect(back.status).toBe(303);
    expect((await mine.fetch("/account")).status).toBe(200);
    // The known-browser key has its own limit: a stolen device cookie still only buys LOGIN_MAX_FAILURES.
    evaluated.count = 0;
    mine.jar.delete("cp_session");
    const c2 = await mine.csrfFrom("/login");
    const guesses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        mine.post("/login", { _csrf: c2, email: "victim@example.com", password: `device guess ${i}` }),
      ),
    );
    expect(evaluated.count).toBeLessThanOrEqual(MAX);
    expect(guesses.filter((r) => r.status === 429).length).toBe(20 - evaluated.count);
  });

  it("the lock on an address ends when the window passes", async () => {
    const attacker = new Browser(run.url);
    for (let i = 0; i < MAX; i++) await attacker.signIn("victim@example.com", `guess ${i}`);
    expect((await new Browser(run.url).signIn("victim@example.com", "the real passphrase")).status).toBe(429);
    run.clock.advance(16 * 60_000);
    expect((await new Browser(run.url).signIn("victim@example.com", "the real passphrase")).status).toBe(303);
  });
});

describe("security: per-IP limits behind a trusted proxy", () => {
  it("counts each client behind the proxy separately, and ignores forged hops", async () => {
    run = await runServer({ LOGIN_MAX_FAILURES: String(MAX), TRUST_PROXY: "loopback" });
    await addUser(run.deps, "carol@example.com", "carol's passphrase");
    // The attacker (client 198.51.100.7 behind our proxy on 127.0.0.1) guesses 30 addresses; they also try
    // to look like many clients by sending their own X-Forwarded-For, which the proxy appends to.
    const answers = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const b = new Browser(run.url, { "x-forwarded-for": `10.${i}.0.1, 198.51.100.7` });
        return b.signIn(`nobody${i}@example.com`, "wrong wrong");
      }),
    );
    expect(answers.filter((r) => r.status === 429).length).toBe(30 - 4 * MAX);
    const fromAttacker = new Browser(run.url, { "x-forwarded-for": "198.51.100.7" });
    expect((await fromAttacker.signIn("carol@example.com", "carol's passphrase")).status).toBe(429);
    // Carol, another client behind the same proxy, is not affected.
    const carol = new Browser(run.url, { "x-forwarded-for": "192.0.2.44" });
    expect((await carol.signIn("carol@example.com", "carol's passphrase")).status).toBe(303);
  });
});
