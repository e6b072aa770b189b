import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_SECRET } from "./support/deps";

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
});
