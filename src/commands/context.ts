/**
 * What the command line hands its command modules (src/commands/*): the process's input and output, and the
 * context a command runs in. Its own module so `src/cli.ts` can import the commands without the commands
 * importing it back.
 */
import type { Clock } from "../clock";
import type { Config } from "../config";
import type { Deps } from "../deps";
import type { Logger } from "../log";
import type { Store } from "../store/db";

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Use this store instead of opening CREDITPULSE_DB (tests). */
  store?: Store;
  clock?: Clock;
  log?: Logger;
  /** Whether to draw progress bars (a terminal on stderr). */
  progress?: boolean;
  /** Reads all of standard input (`user add --password-stdin`); tests pass their own. */
  stdin?: () => Promise<string>;
  /** Resolves when a long-running command (serve) should stop. */
  untilStopped?: Promise<void>;
}

/** What a command module gets: output, config, the store, the clock, and a way to set the exit code. */
export interface CommandContext {
  io: CliIo;
  out(line?: string): void;
  err(line?: string): void;
  config(): Config;
  store(): Store;
  clock: Clock;
  fail(code: number): void;
  /** The full dependencies (store, clock, log, config, secret, sealer) for flows that need them all. */
  deps(): Promise<Deps>;
}
