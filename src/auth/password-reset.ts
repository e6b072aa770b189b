/**
 * "Forgot password?": a reset link by email. The answer is the same whether or not an account uses the
 * address (nothing is looked up before answering: the lookup, the link and the email happen after the
 * response), requests are limited like sign-in attempts (per address and per client address), the link is
 * single-use, expires after an hour and only its hash is stored, and using it ends every session of the user.
 */
import { linkBase } from "../base-url";
import type { Deps } from "../deps";
import { isValidAddress } from "../mail/address";
import { findUserByEmail, normaliseEmail, reserveAttempt, type User } from "../store/accounts";
import { completePasswordReset, createPasswordReset, findOpenReset, RESET_TTL_MS } from "../store/team";
import { type MailOutcome, sendAccountMail } from "./account-mail";

type ResetDeps = Pick<Deps, "store" | "config" | "clock" | "log" | "listening">;

const RESET_WINDOW_MS = 15 * 60_000;

export type ResetRequest =
  | { outcome: "invalid"; problem: string }
  | { outcome: "limited" }
  | { outcome: "accepted" };

/**
 * Takes a reset request. `later` runs work after the response (src/after-response.ts), so an address with an
 * account answers exactly as fast as one without.
 */
export async function requestPasswordReset(
  deps: ResetDeps,
  rawEmail: string,
  ip: string,
  later: (work: () => Promise<unknown>) => Promise<void>,
): Promise<ResetRequest> {
  const email = normaliseEmail(rawEmail);
  if (!email || email.length > 254 || !isValidAddress(email))
    return {
      outcome: "invalid",
      problem: "Enter the email address you sign in with, like name@example.com.",
    };
  const max = deps.config.LOGIN_MAX_FAILURES;
  const now = deps.clock.now();
  const reserved = await reserveAttempt(
    deps.store.db,
    [
      { key: `reset:email:${email}`, max },
      { key: `reset:ip:${ip}`, max: max * 4 },
    ],
    now,
    RESET_WINDOW_MS,
  );
  if (!reserved) {
    deps.log.warn({ event: "password_reset.rate_limited" }, "password reset refused: too many requests");
    return { outcome: "limited" };
  }
  await later(() => sendResetLink(deps, email));
  return { outcome: "accepted" };
}

/** Makes and emails the reset link when an account uses `email`; nothing (but a log line) otherwise. */
export async function sendResetLink(deps: ResetDeps, email: string): Promise<MailOutcome | null> {
  const user = await findUserByEmail(deps.store.db, email);
  if (!user) {
    deps.log.info({ event: "password_reset.unknown_address" }, "password reset asked for an unknown address");
    return null;
  }
  const token = await createPasswordReset(deps.store, user.id, deps.clock.now());
  const link = `${linkBase(deps)}/reset/${encodeURIComponent(token)}`;
  const mail = await sendAccountMail(deps, {
    kind: "reset",
    to: user.email,
    subject: "Reset your Creditpulse password",
    lines: [
      "Someone (we hope you) asked to reset the password of your Creditpulse account.",
      `The link works once and for ${RESET_TTL_MS / 60_000} minutes. Setting a new password signs you out everywhere else. If you did not ask for this, ignore this email: your password stays as it is.`,
    ],
    link,
    linkText: "Choose a new password",
  });
  deps.log.info(
    { event: "password_reset.sent", user: user.id, mail: mail.status },
    "password reset link made",
  );
  return mail;
}

/** The user an open reset link is for, or undefined (unknown, used or expired). */
export function openReset(deps: Pick<Deps, "store" | "clock">, token: string): Promise<User | undefined> {
  return findOpenReset(deps.store.db, token, deps.clock.now());
}

/** Uses the link: sets the password (hashed by the caller) and ends the user's sessions. Null: not open. */
export function resetPassword(
  deps: Pick<Deps, "store" | "clock">,
  token: string,
  newHash: string,
): Promise<string | null> {
  return completePasswordReset(deps.store, token, newHash, deps.clock.now());
}
