/**
 * A Creditpulse server in its own process, so the body-limit test measures the server's memory and nothing
 * of the test's client. Prints {"url"} on stdout when listening; answers the IPC message "memory" with
 * process.memoryUsage() after a full garbage collection (run with --expose-gc).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { silentLogger } from "../../src/log";
import { startServer } from "../../src/node";

const dir = mkdtempSync(join(tmpdir(), "creditpulse-body-"));
const server = await startServer(
  loadConfig({
    CREDITPULSE_DB: join(dir, "creditpulse.db"),
    PORT: "0",
    CREDITPULSE_SCHEDULER: "0",
    CREDITPULSE_DEMO: "0",
    LOG_LEVEL: "silent",
    XERO_WEBHOOK_KEY: "webhook-key-0123456789",
  }),
  { log: silentLogger },
);
process.on("message", (m) => {
  if (m === "memory") {
    (globalThis as { gc?: () => void }).gc?.();
    process.send?.(process.memoryUsage());
  }
  if (m === "stop") void server.close().then(() => process.exit(0));
});
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
