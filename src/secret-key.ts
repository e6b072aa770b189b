/**
 * The install's secret (seals OAuth tokens, signs links and cookies). From CREDITPULSE_SECRET when set;
 * otherwise generated once and kept beside the database (mode 0600), so a newcomer needs no set-up.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Config } from "./config";

export function loadOrCreateSecret(config: Config): string {
  if (config.CREDITPULSE_SECRET) return config.CREDITPULSE_SECRET;
  if (config.CREDITPULSE_DB === ":memory:") return randomBytes(32).toString("hex");
  const path = join(dirname(config.CREDITPULSE_DB), "secret.key");
  if (existsSync(path)) return readFileSync(path, "utf8").trim();
  mkdirSync(dirname(path), { recursive: true });
  const secret = randomBytes(32).toString("hex");
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}
