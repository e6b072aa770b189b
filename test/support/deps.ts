import { type Clock, fixedClock } from "../../src/clock";
import { type Config, loadConfig } from "../../src/config";
import type { Deps } from "../../src/deps";
import { type Logger, silentLogger } from "../../src/log";
import type { Store } from "../../src/store/db";
import { sealerFromSecret } from "../../src/store/secrets";
import { testStore } from "./db";

/** The one install secret tests use: signs links, cookies and OAuth state, and seals tokens. */
export const TEST_SECRET = "test-secret-0123456789abcdef0123456789abcdef";

/**
 * Deps for an in-process app or job: in-memory store, fixed clock, silent log, test settings, the test
 * secret. Pass `store`, `clock`, `log` or a whole `config` to use your own.
 */
export async function testDeps(
  opts: {
    env?: Record<string, string>;
    clock?: Clock;
    now?: string;
    store?: Store;
    config?: Config;
    log?: Logger;
  } = {},
): Promise<Deps> {
  return {
    store: opts.store ?? testStore(),
    clock: opts.clock ?? fixedClock(opts.now ?? "2026-11-20T10:00:00Z"),
    log: opts.log ?? silentLogger,
    config:
      opts.config ??
      loadConfig({
        CREDITPULSE_DB: ":memory:",
        LOG_LEVEL: "silent",
        CREDITPULSE_SCHEDULER: "0",
        ...opts.env,
      }),
    secret: TEST_SECRET,
    sealer: await sealerFromSecret(TEST_SECRET),
  };
}
