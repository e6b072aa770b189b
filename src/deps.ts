import type { Clock } from "./clock";
import type { Config } from "./config";
import type { Logger } from "./log";
import type { Store } from "./store/db";

/** What the HTTP app, the scheduler and the CLI are given: no globals. */
export interface Deps {
  store: Store;
  clock: Clock;
  log: Logger;
  config: Config;
}
