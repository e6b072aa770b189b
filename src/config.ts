/**
 * The only reader of environment variables. Validated with zod at start: a bad or missing setting stops the
 * process with a message naming it.
 */
import { z } from "zod";
import { parseTrustProxy, type TrustProxy } from "./trust-proxy";

const port = z.coerce.number().int().min(0).max(65_535);

const configSchema = z.object({
  CREDITPULSE_DB: z.string().min(1).default("./data/creditpulse.db"),
  PORT: port.default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  PUBLIC_URL: z.url().optional(),
  /**
   * The reverse proxies in front of the server, whose X-Forwarded-For / X-Forwarded-Proto are believed: a number
   * of hops (1 = one proxy), or a comma-separated list of proxy addresses / CIDR ranges (`loopback`, `private`).
   * Unset: no header is believed and the client is the socket peer.
   */
  TRUST_PROXY: z
    .string()
    .optional()
    .transform((v, ctx): TrustProxy | undefined => {
      if (v === undefined) return undefined;
      const parsed = parseTrustProxy(v);
      if (typeof parsed === "string") {
        ctx.addIssue({ code: "custom", message: parsed });
        return z.NEVER;
      }
      return parsed;
    }),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** 32 bytes, base64 or hex: seals OAuth tokens and signs links. Generated and kept in the data folder when unset. */
  CREDITPULSE_SECRET: z.string().min(32).optional(),
  /** Set to "0" to never seed the demo organisation. */
  CREDITPULSE_DEMO: z.enum(["0", "1"]).default("1"),
  CREDITPULSE_SCHEDULER: z.enum(["0", "1"]).default("1"),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, "must start with smtp:// or smtps://")
    .optional(),
  MAIL_FROM: z.string().min(3).optional(),
  /** Mail over HTTP instead of SMTP (hosts that block SMTP, e.g. Workers): a Postmark server token. */
  POSTMARK_SERVER_TOKEN: z.string().min(1).optional(),
  /** The Postmark API base (a local fake in tests). */
  POSTMARK_API_URL: z.url().default("https://api.postmarkapp.com"),
  /** Workers: pages one sync message writes before it continues in the next message. */
  SYNC_PAGES_PER_MESSAGE: z.coerce.number().int().min(1).default(20),
  /** Workers: emails and hold decisions one remind message handles before it continues in the next message. */
  REMIND_EMAILS_PER_MESSAGE: z.coerce.number().int().min(1).default(20),
  /** Workers: statements one message sends before it continues in the next message. */
  STATEMENTS_PER_MESSAGE: z.coerce.number().int().min(1).default(20),
  MAIL_REPLY_TO: z.string().min(3).optional(),
  /** SMS reminders through Twilio's Messages API: the account SID, its auth token (a secret) and the sender. */
  TWILIO_ACCOUNT_SID: z
    .string()
    .regex(/^AC[0-9a-fA-F]{32}$/, "must be AC followed by 32 hex digits")
    .optional(),
  TWILIO_AUTH_TOKEN: z.string().min(16).optional(),
  /** The sending number (E.164) or a Messaging Service SID (MG...). */
  TWILIO_FROM: z
    .string()
    .regex(/^(\+[1-9]\d{6,14}|MG[0-9a-fA-F]{32})$/, "must be an E.164 number or MG...")
    .optional(),
  /** Twilio's API base (a local fake in tests). */
  TWILIO_API_URL: z.url().default("https://api.twilio.com"),
  /** "1" = BCC the organisation's owner on every reminder (an organisation's own setting wins). */
  MAIL_BCC_OWNER: z.enum(["0", "1"]).default("0"),
  /** Fallback owner address for credit-hold notices when an organisation has none. */
  OWNER_EMAIL: z.email().optional(),
  /** Invoices with less than this due (major units of their currency) are never chased. */
  REMINDER_MIN_AMOUNT: z.coerce.number().min(0).default(1),
  /** A customer owing more than its credit limit plus this percent goes on hold. */
  CREDIT_LIMIT_MARGIN_PCT: z.coerce.number().min(0).max(1000).default(10),
  /** Days a customer must have had its final notice before a credit hold is proposed or placed automatically. */
  HOLD_NOTICE_DAYS: z.coerce.number().int().min(0).max(365).default(7),
  /** Sign-in sessions end after this long without a request (minutes). */
  SESSION_IDLE_MINUTES: z.coerce.number().int().min(1).default(480),
  /** Sign-in sessions end this long after sign-in, whatever happens (days). */
  SESSION_MAX_DAYS: z.coerce.number().min(0.01).max(365).default(14),
  /** Failed sign-ins per email address (and 4x this per IP address) allowed in 15 minutes. */
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).default(5),
  /** Local hour (0-23) on Monday at which each user's weekly digest goes out, in the user's timezone. */
  DIGEST_HOUR: z.coerce.number().int().min(0).max(23).default(7),
  /** Days a customers' page link in a reminder stays valid (each reminder carries a fresh one). */
  CUSTOMER_PAGE_DAYS: z.coerce.number().int().min(1).max(365).default(45),
  /** Days reminders for an invoice wait after the customer says "I've already paid". */
  CUSTOMER_PAID_PAUSE_DAYS: z.coerce.number().int().min(1).max(60).default(5),
  /** Actions per customer per hour on the customers' page (and 3x this per IP address). */
  CUSTOMER_ACTIONS_PER_HOUR: z.coerce.number().int().min(1).default(10),
  XERO_CLIENT_ID: z.string().min(1).optional(),
  XERO_CLIENT_SECRET: z.string().min(1).optional(),
  XERO_WEBHOOK_KEY: z.string().min(1).optional(),
  /** Calls per tenant per UTC day Xero allows this app (5000; 1000 on Xero's starter tier). */
  XERO_DAILY_LIMIT: z.coerce.number().int().min(10).default(5000),
  /** Space-separated OAuth scopes requested at consent (granular scopes: apps created after March 2026). */
  XERO_SCOPES: z
    .string()
    .min(1)
    .default(
      "openid profile email offline_access accounting.invoices accounting.payments.read accounting.contacts accounting.settings.read",
    ),
  /** Per-request timeout for Xero calls, in milliseconds. */
  XERO_TIMEOUT_MS: z.coerce.number().int().min(100).default(20_000),
  /** Xero's API host (the Accounting API under /api.xro/2.0, tenants under /connections). */
  XERO_API_URL: z.url().default("https://api.xero.com"),
  /** Xero's identity server (OpenID discovery, token and revocation endpoints). */
  XERO_IDENTITY_URL: z.url().default("https://identity.xero.com"),
  QBO_CLIENT_ID: z.string().min(1).optional(),
  QBO_CLIENT_SECRET: z.string().min(1).optional(),
  QBO_ENVIRONMENT: z.enum(["sandbox", "production"]).default("sandbox"),
  QBO_WEBHOOK_VERIFIER: z.string().min(1).optional(),
  /** QuickBooks Accounting API minor version (75 or later). */
  QBO_MINOR_VERSION: z.coerce.number().int().min(75).default(75),
  /** QuickBooks Accounting API host; unset = Intuit's sandbox or production host (QBO_ENVIRONMENT). */
  QBO_API_URL: z.url().optional(),
  /**
   * Intuit's OAuth token host. Set to anything else (a recording proxy, a local fake) and the authorize, token
   * and revoke endpoints are all served under it (/connect/oauth2, /oauth2/v1/tokens/bearer,
   * /v2/oauth2/tokens/revoke).
   */
  QBO_OAUTH_URL: z.url().default("https://oauth.platform.intuit.com"),
  /** Timeout of every QuickBooks request, in milliseconds. */
  QBO_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).max(300_000).default(30_000),
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
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`));
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
