import { pino } from "pino";

export type Logger = pino.Logger;

/** Paths never written to logs, wherever they appear. */
export const REDACT_PATHS = [
  "password",
  "*.password",
  "token",
  "*.token",
  "accessToken",
  "*.accessToken",
  "refreshToken",
  "*.refreshToken",
  "access_token",
  "*.access_token",
  "refresh_token",
  "*.refresh_token",
  "sealedTokens",
  "*.sealedTokens",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "cookie",
  "*.cookie",
  "secret",
  "*.secret",
  "authToken",
  "*.authToken",
  "TWILIO_AUTH_TOKEN",
  "*.TWILIO_AUTH_TOKEN",
];

/** Logs go to standard error, so a command's standard output is only its output (`--json` always parses). */
function standardError(): pino.DestinationStream | undefined {
  const stderr = typeof process === "undefined" ? undefined : process.stderr;
  return typeof stderr?.write === "function" ? stderr : undefined;
}

/**
 * Links that carry a bearer token in the path: the customers' page (`/c/<token>`, `/unsubscribe/<token>`),
 * invitations (`/invite/<token>`) and password resets (`/reset/<token>`).
 */
const TOKEN_PATH = /\/(c|unsubscribe|invite|reset)\/[^/?#\s"']+/g;
const HAS_TOKEN = /\/(c|unsubscribe|invite|reset)\/[^/?#\s"']+/;

/** A path or URL (or any text) with the customers' page tokens replaced, fit for a log line. */
export function redactPath(path: string): string {
  return path.replace(TOKEN_PATH, "/$1/[redacted]");
}

const URL_FIELDS = ["path", "url", "next", "location", "referer", "msg"];

/** Redacts page tokens in the usual URL fields and in a logged error's message and stack. */
function redactTokens(obj: Record<string, unknown>): Record<string, unknown> {
  let out = obj;
  for (const k of URL_FIELDS) {
    const v = obj[k];
    if (typeof v === "string" && HAS_TOKEN.test(v)) out = { ...out, [k]: redactPath(v) };
  }
  const err = obj.err as { message?: unknown; stack?: unknown } | undefined;
  if (err && typeof err === "object" && typeof err.message === "string" && HAS_TOKEN.test(err.message)) {
    out = {
      ...out,
      err: {
        ...err,
        message: redactPath(err.message),
        stack: typeof err.stack === "string" ? redactPath(err.stack) : err.stack,
      },
    };
  }
  return out;
}

export function createLogger(level = "info", destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      formatters: {
        // Whoever logs a path or URL, a customer's page token never reaches the log.
        log: redactTokens,
      },
    },
    destination ?? standardError(),
  );
}

/** A logger that writes nothing (tests). */
export const silentLogger: Logger = pino({ level: "silent" });
