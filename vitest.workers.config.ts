/**
 * The Workers suite (`npm run test:workers`): tests under test-workers/ run inside workerd (miniflare) against
 * local D1, Queues and Durable Objects, with the Worker from src/worker.ts as the `main` module.
 */
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "drizzle"));
  return {
    plugins: [
      cloudflareTest({
        main: "./.worker-build/worker.js",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            CREDITPULSE_SECRET: "workers-test-secret-0123456789abcdef",
            PUBLIC_URL: "http://creditpulse.test",
            XERO_CLIENT_ID: "TESTCLIENTID0000000000000000000",
            XERO_CLIENT_SECRET: "test-client-secret-0000000000000000000000000",
            XERO_WEBHOOK_KEY: "test-webhook-key-0123456789abcdefghijklmnopqrstuv",
            CREDITPULSE_DEMO: "0",
            MAIL_FROM: "Credit Control <credit@creditpulse.test>",
            // The HTTP mail provider, answered by the suite's fake (test-workers/fake-postmark.ts).
            POSTMARK_SERVER_TOKEN: "postmark-test-token",
            POSTMARK_API_URL: "http://postmark.fake",
            LOG_LEVEL: "warn",
          },
        },
      }),
    ],
    test: {
      include: ["test-workers/**/*.test.ts"],
      setupFiles: ["test-workers/apply-migrations.ts"],
      // Runs in Node: the real SMTP server test-workers/mail.test.ts sends to from inside workerd.
      globalSetup: ["test-workers/smtp-global.ts"],
      testTimeout: 60_000,
      hookTimeout: 60_000,
    },
  };
});
