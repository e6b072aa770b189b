import { run } from "../../src/cli";
import type { Clock } from "../../src/clock";
import type { Store } from "../../src/store/db";

/** Runs the CLI in-process against `store`, capturing what it prints. */
export async function runCli(argv: string[], store: Store, clock?: Clock) {
  let stdout = "";
  let stderr = "";
  const code = await run(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: { LOG_LEVEL: "silent" },
    store,
    clock,
    progress: false,
  });
  return { code, stdout, stderr };
}
