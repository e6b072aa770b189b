/**
 * Links people are sent (invitations, password resets, the first owner's setup link) name the address the
 * server really listens on when PUBLIC_URL is not set: a server started on port 0 puts its real port in them,
 * never 3000. `creditpulse user add` builds its link from PUBLIC_URL (else HOST:PORT) and is audited.
 */
import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { afterResponseIdle } from "../../src/after-response";
import { loadConfig } from "../../src/config";
import type { Deps } from "../../src/deps";
import { startServer } from "../../src/node";
import { ensureOrg } from "../../src/store/orgs";
import { auditLog } from "../../src/store/schema";
import { signIn } from "../support/auth";
import { runCli } from "../support/cli";
import { TEST_SECRET, testDeps } from "../support/deps";
import { useInbox } from "../support/smtp";

const inbox = useInbox();
let deps: Deps;

beforeEach(async () => {
  deps = await testDeps();
  await ensureOrg(
    deps.store.db,
    { slug: "acme", name: "Acme Ltd", baseCurrency: "GBP", timezone: "UTC", provider: "csv" },
    deps.clock.now(),
  );
});
afterEach(async () => {
  await deps.store.close();
});

const serverConfig = (extra: Record<string, string> = {}) =>
  loadConfig({
    CREDITPULSE_DB: ":memory:",
    LOG_LEVEL: "silent",
    CREDITPULSE_SCHEDULER: "0",
    CREDITPULSE_DEMO: "0",
    CREDITPULSE_SECRET: TEST_SECRET,
    PORT: "0",
    SMTP_URL: inbox.url,
    MAIL_FROM: "team@creditpulse.test",
    ...extra,
  });

describe("links from a running server", () => {
  it("a server on port 0 puts its real port in the setup link, invitations and password resets", async () => {
    const server = await startServer(serverConfig(), {
      store: deps.store,
      clock: deps.clock,
      log: deps.log,
      secret: TEST_SECRET,
    });
    try {
      const port = new URL(server.url).port;
      expect(port).not.toBe("0");
      expect(port).not.toBe("3000");
      expect(server.setupUrl?.startsWith(`${server.url}/setup?token=`)).toBe(true);

      const owner = await signIn(deps, { email: "owner@acme.test", role: "owner", orgs: ["acme"] });
      const res = await fetch(`${server.url}/team/invite`, {
        method: "POST",
        headers: owner.headers({ "content-type": "application/x-www-form-urlencoded" }),
        body: new URLSearchParams({ email: "new@acme.test", role: "viewer", orgs: "acme" }).toString(),
      });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain(`value="${server.url}/invite/`);
      expect(inbox.messages[0]!.parsed.text).toContain(`${server.url}/invite/`);

      // A password reset asked for over the wire: the email names the same address (never the Host header).
      const form = await fetch(`${server.url}/forgot`, { headers: { host: "evil.example" } });
      const cookie = form.headers
        .getSetCookie()
        .map((c) => c.split(";")[0])
        .join("; ");
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
      const asked = await fetch(`${server.url}/forgot`, {
        method: "POST",
        headers: { cookie, host: "evil.example", "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ _csrf: csrf, email: "owner@acme.test" }).toString(),
      });
      expect(asked.status).toBe(200);
      await afterResponseIdle(deps);
    } finally {
      await server.close();
    }
    const reset = inbox.messages.find((m) => m.parsed.subject?.includes("Reset"));
    expect(reset?.parsed.text).toMatch(
      new RegExp(`${server.url.replace(/\./g, "\\.")}/reset/[A-Za-z0-9_-]+`),
    );
    expect(reset?.parsed.text).not.toContain("evil.example");
  });

  it("PUBLIC_URL wins over the listening address", async () => {
    const server = await startServer(serverConfig({ PUBLIC_URL: "https://credit.example.com" }), {
      store: deps.store,
      clock: deps.clock,
      log: deps.log,
      secret: TEST_SECRET,
    });
    try {
      expect(server.setupUrl?.startsWith("https://credit.example.com/setup?token=")).toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe("creditpulse user add", () => {
  it("prints a link from PUBLIC_URL (else HOST:PORT), emails it, and audits the invitation as the command line", async () => {
    const env = {
      LOG_LEVEL: "silent",
      PORT: "8123",
      SMTP_URL: inbox.url,
      MAIL_FROM: "team@creditpulse.test",
    };
    const r = await runCli(
      ["user", "add", "--email", "Ann@Example.com", "--org", "acme"],
      deps.store,
      deps.clock,
      {
        env,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^http:\/\/127\.0\.0\.1:8123\/invite\/\S+$/m);
    expect(r.stdout).toContain("Emailed the invite to ann@example.com.");
    expect(r.stderr).toContain("set PUBLIC_URL");
    expect(inbox.messages[0]!.parsed.text).toContain(
      "The owner of this install has given you the bookkeeper role",
    );
    const [row] = await deps.store.db.select().from(auditLog).where(eq(auditLog.action, "team.invited"));
    expect(row).toMatchObject({ actor: "cli" });

    const withUrl = await runCli(
      ["user", "add", "--email", "bo@example.com", "--org", "acme", "--role", "viewer"],
      deps.store,
      deps.clock,
      { env: { LOG_LEVEL: "silent", PUBLIC_URL: "https://credit.example.com" } },
    );
    expect(withUrl.stdout).toMatch(/^https:\/\/credit\.example\.com\/invite\/\S+$/m);
    expect(withUrl.stderr).not.toContain("PUBLIC_URL");
  });

  it("--password-stdin is audited, and never demotes an organisation's only owner", async () => {
    const env = { env: { LOG_LEVEL: "silent" }, stdin: "a long password here\n" };
    const args = ["user", "add", "--email", "o@example.com", "--org", "acme", "--password-stdin"];
    expect((await runCli([...args, "--role", "owner"], deps.store, deps.clock, env)).code).toBe(0);
    const demote = await runCli([...args, "--role", "viewer"], deps.store, deps.clock, env);
    expect(demote.code).toBe(2);
    expect(demote.stderr).toContain("only owner of acme");
    const rows = await deps.store.db.select().from(auditLog).where(eq(auditLog.action, "team.member_added"));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor: "cli", detail: { email: "o@example.com", role: "owner" } });
  });
});
