/**
 * The install's secret (seals OAuth tokens, signs links and cookies). From CREDITPULSE_SECRET when set;
 * otherwise generated once and kept beside the database (mode 0600, in a folder created 0700), so a newcomer
 * needs no set-up. An existing secret file that others could read is tightened to 0600.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Config } from "./config";

export function loadOrCreateSecret(config: Config): string {
  if (config.CREDITPULSE_SECRET) return config.CREDITPULSE_SECRET;
  if (config.CREDITPULSE_DB === ":memory:") return randomBytes(32).toString("hex");
  const path = join(dirname(config.CREDITPULSE_DB), "secret.key");
  if (existsSync(path)) {
    try {
      chmodSync(path, 0o600);
    } catch {
      // Not ours to change: leave it as the administrator set it.
    }
    return readFileSync(path, "utf8").trim();
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString("hex");
  try {
    writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: "wx" });
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return readFileSync(path, "utf8").trim();
    throw err;
  }
  return secret;
}
