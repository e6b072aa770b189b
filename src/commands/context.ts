/**
 * What the command line hands its command modules (src/commands/*): the process's input and output, the
 * context a command runs in, and the checks of the options several commands share (`--org`, `--as-of`). Its
 * own module so `src/cli.ts` can import the commands without the commands importing it back.
 */
import type { Clock } from "../clock";
import type { Config } from "../config";
import type { Deps } from "../deps";
import { UserError } from "../errors";
import type { Logger } from "../log";
import { type IsoDate, isIsoDate } from "../model";
import type { Db, Store } from "../store/db";
import { findOrgBySlug, type Organisation } from "../store/orgs";

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

/** The organisation `--org <slug>` names; a usage error when there is none. */
export async function orgOption(db: Db, slug: string): Promise<Organisation> {
  const org = await findOrgBySlug(db, slug);
  if (!org) throw new UserError("not_found", `organisation ${slug} not found`);
  return org;
}

/** `--as-of`: absent, or a date written YYYY-MM-DD; anything else is a usage error naming it. */
export function asOfOption(value: string | undefined): IsoDate | undefined {
  if (value !== undefined && !isIsoDate(value))
    throw new UserError("bad_date", `--as-of "${value}": expected a date written YYYY-MM-DD`);
  return value;
}
