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
];

/** Logs go to standard error, so a command's standard output is only its output (`--json` always parses). */
function standardError(): pino.DestinationStream | undefined {
  const stderr = typeof process === "undefined" ? undefined : process.stderr;
  return typeof stderr?.write === "function" ? stderr : undefined;
}

export function createLogger(level = "info", destination?: pino.DestinationStream): Logger {
  return pino(
    { level, redact: { paths: REDACT_PATHS, censor: "[redacted]" } },
    destination ?? standardError(),
  );
}

/** A logger that writes nothing (tests). */
export const silentLogger: Logger = pino({ level: "silent" });
