import { type Clock, fixedClock } from "../../src/clock";
import { loadConfig } from "../../src/config";
import type { Deps } from "../../src/deps";
import { silentLogger } from "../../src/log";
import { sealerFromSecret } from "../../src/store/secrets";
import { testStore } from "./db";

export const TEST_SECRET = "test-secret-0123456789abcdef0123456789abcdef";

/** Deps for an in-process app or job: in-memory store, fixed clock, silent log, test settings. */
export async function testDeps(
  opts: { env?: Record<string, string>; clock?: Clock; now?: string } = {},
): Promise<Deps> {
  return {
    store: testStore(),
    clock: opts.clock ?? fixedClock(opts.now ?? "2026-11-20T10:00:00Z"),
    log: silentLogger,
    config: loadConfig({
      CREDITPULSE_DB: ":memory:",
      LOG_LEVEL: "silent",
      CREDITPULSE_SCHEDULER: "0",
      ...opts.env,
    }),
    secret: TEST_SECRET,
    sealer: await sealerFromSecret(TEST_SECRET),
  };
}
