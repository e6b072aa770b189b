/**
 * What a failed send means for the record and for the person reading a run's report: the status the claim takes
 * and the reason shown, from `classifySendError`'s verdict. Reminders and statements share it, so the same
 * failure reads the same everywhere.
 */
import type { SendFailure } from "./mailer";

export type FailedClaimStatus = "failed" | "rejected" | "needs_review";

export function failedSend(kind: SendFailure, text: string): { status: FailedClaimStatus; reason: string } {
  if (kind === "retry")
    return { status: "failed", reason: `the SMTP server did not accept it (${text}); the next run retries` };
  if (kind === "rejected")
    return {
      status: "rejected",
      reason: `rejected by the SMTP server (${text}); left for review, not retried`,
    };
  return {
    status: "needs_review",
    reason: `outcome unknown (${text}); left for review, never resent automatically`,
  };
}
