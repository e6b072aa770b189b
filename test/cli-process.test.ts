import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_SECRET } from "./support/deps";
import { startInbox, type TestInbox } from "./support/smtp";

/** The real `creditpulse` process: what a user piping its output to another program relies on. */
const root = new URL("..", import.meta.url).pathname;
let dir: string;
let env: Record<string, string>;

function cli(args: string[], extra: Record<string, string> = {}, closeStdout = false) {
  const child = spawn(process.execPath, ["--import", "tsx", "src/bin.ts", ...args], {
    cwd: root,
    env: { ...process.env, ...env, ...extra },
  });
  let stdout = "";
  let stderr = "";
  if (closeStdout) child.stdout.destroy();
  else child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr })),
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cp-cli-"));
  env = {
    CREDITPULSE_DB: join(dir, "creditpulse.db"),
    CREDITPULSE_SECRET: TEST_SECRET,
    LOG_LEVEL: "info",
  };
  const seeded = await cli(["demo", "--org", "demo", "--customers", "8", "--seed", "3"]);
  expect(seeded.code, seeded.stderr).toBe(0);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A shell pipeline, as a user types it (`npx creditpulse ... | node -e ...`), run from the project root. */
function shell(script: string, extra: Record<string, string> = {}) {
  const child = spawn("bash", ["-c", script], { cwd: root, env: { ...process.env, ...env, ...extra } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr })),
  );
}

const PARSE = `node -e 'JSON.parse(require("fs").readFileSync(0))'`;
/** Parses standard input and prints how many emails failed (the JSON must be whole for this to work). */
const COUNT_FAILED = `node -e 'const r = JSON.parse(require("fs").readFileSync(0)); console.log(r.emails.filter((e) => e.status === "failed").length, r.emails.length)'`;

describe("the creditpulse process", () => {
  it("keeps --json output parseable when sends fail: logs go to standard error", async () => {
    // Nothing listens on port 1: every send fails and is logged.
    const r = await cli(["remind", "--org", "demo", "--as-of", "2026-12-07", "--json"], {
      SMTP_URL: "smtp://127.0.0.1:1",
      MAIL_FROM: "ar@acme.test",
    });
    const report = JSON.parse(r.stdout);
    expect(report.emails.length).toBeGreaterThan(0);
    expect(report.emails.some((e: { status: string }) => e.status === "failed")).toBe(true);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/"level":\d+/);
  }, 60_000);

  it("stops quietly when the reader closes the pipe (| head)", async () => {
    const r = await cli(["score", "--org", "demo", "--json"], {}, true);
    expect(r.stderr).not.toMatch(/EPIPE|Error/);
    expect(r.code).toBe(0);
  }, 60_000);

  describe("with a mail server that refuses every message", () => {
    let inbox: TestInbox;
    beforeAll(async () => {
      inbox = await startInbox();
      inbox.failWith(550, "rcpt", "Mailbox unavailable");
    });
    afterAll(() => inbox.close());

    it("`npx creditpulse remind --org demo --json | node -e JSON.parse(...)` succeeds, logs and all", async () => {
      const mail = { SMTP_URL: inbox.url, MAIL_FROM: "ar@acme.test", LOG_LEVEL: "debug" };
      // The command exactly as the issue writes it (no --as-of: whatever is due now).
      const exact = await shell(`npx creditpulse remind --org demo --json | ${PARSE}`, mail);
      expect(exact.code, exact.stderr).toBe(0);
      // On a day when reminders are due, every send is refused by the server: the JSON still parses.
      const due = await shell(
        `set -o pipefail; npx creditpulse remind --org demo --as-of 2026-12-14 --json | ${COUNT_FAILED}`,
        mail,
      );
      const [failed, total] = due.stdout.trim().split(" ").map(Number);
      expect(total, due.stderr).toBeGreaterThan(0);
      expect(failed).toBeGreaterThan(0);
      expect(due.code).toBe(1); // the CLI's own exit code says some sends failed
      expect(due.stderr).toMatch(/"level":\d+/); // the log lines went to standard error
      expect(inbox.messages).toHaveLength(0);
    }, 120_000);
  });

  it("every --json command prints only JSON on standard output, failures included", async () => {
    const runs = [
      ["score", "--org", "demo", "--json"],
      ["forecast", "--org", "demo", "--json"],
      ["holds", "--org", "demo", "--json"],
      ["statements", "--org", "demo", "--dry-run", "--json"],
      ["remind", "--org", "demo", "--dry-run", "--json"],
      ["score", "--org", "no-such-org", "--json"],
      ["remind", "--org", "demo", "--json"], // no mail settings: an error, as JSON
    ];
    const results = await Promise.all(runs.map((args) => cli(args, { LOG_LEVEL: "debug" })));
    results.forEach((r, i) => {
      const what = runs[i]!.join(" ");
      expect(
        () => JSON.parse(r.stdout),
        `${what}: ${r.stdout.slice(0, 200)} ${r.stderr.slice(0, 300)}`,
      ).not.toThrow();
      if (r.code !== 0) {
        const parsed = JSON.parse(r.stdout);
        if (parsed && typeof parsed === "object" && "error" in parsed)
          expect(parsed.error.message.length, what).toBeGreaterThan(0);
      }
    });
    const missing = JSON.parse(results[5]!.stdout);
    expect(missing).toEqual({
      ok: false,
      error: { code: "not_found", message: "organisation no-such-org not found" },
    });
    expect(results[5]!.code).toBe(2);
    expect(results[5]!.stderr).toContain("organisation no-such-org not found");
  }, 180_000);

  it("piped into a reader that stops early, it exits quietly with its own status", async () => {
    const r = await shell("set -o pipefail; npx creditpulse score --org demo --json | true; echo status=$?");
    expect(r.stdout.trim()).toBe("status=0");
    expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
    const head = await shell("set -o pipefail; npx creditpulse --help | head -1; echo status=$?");
    expect(head.stdout).toContain("Usage: creditpulse");
    expect(head.stdout).toContain("status=0");
    expect(head.stderr).toBe("");
  }, 120_000);
});
