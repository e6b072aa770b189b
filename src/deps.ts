import type { Clock } from "./clock";
import type { Config } from "./config";
import type { JobMessage } from "./job-message";
import type { Logger } from "./log";
import type { Store } from "./store/db";
import type { Sealer } from "./store/secrets";

/** What the HTTP app, the scheduler and the CLI are given: no globals. */
export interface Deps {
  store: Store;
  clock: Clock;
  log: Logger;
  config: Config;
  /** The install secret: signs links, cookies and OAuth state. */
  secret: string;
  /** Seals and unseals OAuth tokens at rest. */
  sealer: Sealer;
  /** Workers: sends job messages to the jobs queue. Unset on Node, where jobs run in-process. */
  enqueue?: (messages: JobMessage[]) => Promise<void>;
  /** Node: the address the HTTP server really listens on (its port, even when PORT is 0); see linkBase. */
  listening?: string;
  /** Workers: where uploaded files wait for the jobs queue (an R2 bucket). Unset on Node, which imports at once. */
  uploads?: UploadStorage;
}

/** Object storage for uploaded files (R2 on Workers). */
export interface UploadStorage {
  put(key: string, body: ArrayBuffer): Promise<void>;
  /** The object's bytes, or null when it is gone. */
  get(key: string): Promise<ArrayBuffer | null>;
  delete(keys: string[]): Promise<void>;
}
