/**
 * The only reader of environment variables. Validated with zod at start: a bad or missing setting stops the
 * process with a message naming it.
 */
import { z } from "zod";

const port = z.coerce.number().int().min(0).max(65_535);

const configSchema = z.object({
  CREDITPULSE_DB: z.string().min(1).default("./data/creditpulse.db"),
  PORT: port.default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  PUBLIC_URL: z.url().optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** 32 bytes, base64 or hex: seals OAuth tokens and signs links. Generated and kept in the data folder when unset. */
  CREDITPULSE_SECRET: z.string().min(32).optional(),
  /** Set to "0" to never seed the demo organisation. */
  CREDITPULSE_DEMO: z.enum(["0", "1"]).default("1"),
  CREDITPULSE_SCHEDULER: z.enum(["0", "1"]).default("1"),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, "must start with smtp:// or smtps://").optional(),
  MAIL_FROM: z.string().min(3).optional(),
  MAIL_REPLY_TO: z.string().min(3).optional(),
  XERO_CLIENT_ID: z.string().min(1).optional(),
  XERO_CLIENT_SECRET: z.string().min(1).optional(),
  XERO_WEBHOOK_KEY: z.string().min(1).optional(),
  QBO_CLIENT_ID: z.string().min(1).optional(),
  QBO_CLIENT_SECRET: z.string().min(1).optional(),
  QBO_ENVIRONMENT: z.enum(["sandbox", "production"]).default("sandbox"),
  QBO_WEBHOOK_VERIFIER: z.string().min(1).optional(),
});

export type Config = z.infer<typeof configSchema> & {
  xeroConfigured: boolean;
  quickbooksConfigured: boolean;
};

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Reads and validates the configuration from `env` (process.env by default). Throws ConfigError naming each bad key. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset", as in most .env files.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`),
    );
  }
  const c = parsed.data;
  const pairs: [string, string | undefined, string | undefined][] = [
    ["XERO_CLIENT_ID / XERO_CLIENT_SECRET", c.XERO_CLIENT_ID, c.XERO_CLIENT_SECRET],
    ["QBO_CLIENT_ID / QBO_CLIENT_SECRET", c.QBO_CLIENT_ID, c.QBO_CLIENT_SECRET],
  ];
  const issues = pairs
    .filter(([, a, b]) => Boolean(a) !== Boolean(b))
    .map(([name]) => `${name}: set both or neither`);
  if (issues.length) throw new ConfigError(issues);
  return {
    ...c,
    xeroConfigured: Boolean(c.XERO_CLIENT_ID && c.XERO_CLIENT_SECRET),
    quickbooksConfigured: Boolean(c.QBO_CLIENT_ID && c.QBO_CLIENT_SECRET),
  };
}
