import { run } from "../../src/cli";
import type { Clock } from "../../src/clock";
import type { Store } from "../../src/store/db";

export interface RunCliOptions {
  /** The environment the CLI reads its settings from (default: a silent log and nothing else). */
  env?: Record<string, string | undefined>;
  /** What standard input holds (`user add --password-stdin`). */
  stdin?: string;
}

/** Runs the CLI in-process against `store`, capturing what it prints. */
export async function runCli(argv: string[], store: Store, clock?: Clock, opts: RunCliOptions = {}) {
  let stdout = "";
  let stderr = "";
  const { stdin } = opts;
  const code = await run(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: opts.env ?? { LOG_LEVEL: "silent" },
    store,
    clock,
    progress: false,
    stdin: stdin === undefined ? undefined : async () => stdin,
  });
  return { code, stdout, stderr };
}
