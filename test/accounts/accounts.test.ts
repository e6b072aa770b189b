import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { verifyPassword } from "../../src/auth/password";
import { setupLink } from "../../src/auth/setup";
import type { Deps } from "../../src/deps";
import { createApp } from "../../src/http/app";
import { seedDemo } from "../../src/import/demo";
import { findUserByEmail, orgsOf } from "../../src/store/accounts";
import { runCli } from "../support/cli";
import { testDeps } from "../support/deps";

let deps: Deps;
beforeEach(async () => {
  deps = await testDeps();
  await seedDemo(deps.store, { customers: 8, seed: 1, now: deps.clock.now() });
});
afterEach(async () => {
  await deps.store.close();
});

const cli = (argv: string[], stdin?: string) =>
  runCli(argv, deps.store, deps.clock, {
    env: { LOG_LEVEL: "silent", CREDITPULSE_SECRET: deps.secret, PUBLIC_URL: "https://cp.example.com" },
    stdin,
  });

/** Fetches a page, then posts its form back with the CSRF field and browser cookie it set. */
async function submit(
  app: ReturnType<typeof createApp>,
  pagePath: string,
  postPath: string,
  fields: Record<string, string>,
) {
  const page = await app.request(pagePath);
  const cookie = (page.headers.get("set-cookie") ?? "").split(";")[0]!;
  const csrf = (await page.text()).match(/name="_csrf" value="([^"]+)"/)?.[1] ?? "";
  return app.request(postPath, {
    method: "POST",
    headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ _csrf: csrf, ...fields }).toString(),
  });
}

describe("accounts", () => {
  it("user add prints an invite link that creates the account with the role", async () => {
    const r = await cli(["user", "add", "--email", "Bea@Example.com", "--org", "demo", "--role", "viewer"]);
    expect(r.code).toBe(0);
    const link = r.stdout.match(/https:\/\/cp\.example\.com(\/invite\/\S+)/)?.[1];
    expect(link).toBeTruthy();
    const app = createApp(deps);
    const res = await submit(app, link!, link!, { password: "bea's long password" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/orgs/demo");
    const user = await findUserByEmail(deps.store.db, "bea@example.com");
    expect((await orgsOf(deps.store.db, user!.id)).map((o) => [o.org.slug, o.role])).toEqual([
      ["demo", "viewer"],
    ]);
    // The link works once.
    const again = await app.request(link!);
    expect(again.status).toBe(404);
  });

  it("user add --password-stdin sets the password directly; a short one is refused", async () => {
    expect(
      (
        await cli(
          ["user", "add", "--email", "c@example.com", "--org", "demo", "--role", "owner", "--password-stdin"],
          "short\n",
        )
      ).code,
    ).toBe(2);
    const r = await cli(
      ["user", "add", "--email", "c@example.com", "--org", "demo", "--role", "owner", "--password-stdin"],
      "a long enough one\n",
    );
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("a long enough one");
    const u = await findUserByEmail(deps.store.db, "c@example.com");
    expect(await verifyPassword("a long enough one", u!.passwordHash)).toBe(true);
    expect((await cli(["user", "add", "--email", "c@example.com", "--org", "nope"])).code).toBe(2);
  });

  it("the setup link creates the first owner of every organisation, once", async () => {
    const link = await setupLink(deps, "http://x");
    const path = link!.replace("http://x", "");
    const app = createApp(deps);
    const token = new URL(link!).searchParams.get("token")!;
    const res = await submit(app, path, "/setup", {
      token,
      email: "first@example.com",
      password: "first owner password",
      timezone: "Europe/London",
    });
    expect(res.status).toBe(303);
    const user = await findUserByEmail(deps.store.db, "first@example.com");
    expect((await orgsOf(deps.store.db, user!.id)).map((o) => [o.org.slug, o.role])).toEqual([
      ["demo", "owner"],
    ]);
    expect(await setupLink(deps)).toBeNull();
    expect((await app.request(path)).status).toBe(404);
    const forged = await app.request(`/setup?token=${token.slice(0, -3)}abc`);
    expect(forged.status).toBe(404);
  });
});
