/**
 * The reminder run's interface: what it needs (deps, options) and what it reports (emails, holds, more to do).
 * Types only: the run is src/reminders/dispatch.ts.
 */
import type { Connector } from "../../connectors/connector";
import type { Config } from "../config";
import type { Logger } from "../log";
import type { Mailer } from "../mail/mailer";
import type { Provider } from "../model";
import type { SmsSender } from "../sms/sender";
import type { Store } from "../store/db";
import type { Organisation } from "../store/orgs";
import type { RunAt } from "./plan";

export interface ReminderDeps {
  store: Store;
  config: Config;
  log: Logger;
  /** The install secret: signs the customers' page links every reminder carries. */
  secret: string;
  /** Required unless dry-running. */
  mailer?: Mailer;
  /** The connector for a provider (default: connectors/registry). */
  connectorFor?: (provider: Provider) => Connector;
  /** SMS for levels that send one (TWILIO_*); without it those levels send their emails only. */
  sms?: SmsSender;
  /** Access tokens for ledger write-back (the token keeper); without it Xero/QuickBooks write-backs wait. */
  tokens?: { accessToken(connectionId: string): Promise<string> };
}

export interface RemindOptions {
  org: Organisation;
  at: RunAt;
  /** The instant records are stamped with. */
  now: number;
  /** Plan and render, but send, claim and change nothing. */
  dryRun?: boolean;
  /**
   * At most this many actions (emails attempted and hold decisions applied) in this run; the rest waits for a
   * continuation run (`more`/`resumeAfter` in the report). Default: no cap (Node). Workers cap it so one queue
   * message stays within D1's queries per invocation.
   */
  budget?: number;
  /**
   * A continuation: customers are handled in id order, and those up to and including this id were handled by
   * an earlier run for the same instant. That run's start-of-run work (stale claims, broken promises,
   * unfinished holds and notices) is not repeated.
   */
  resumeAfter?: string;
  /**
   * A continuation of the start-of-run work that used the budget before any customer (`resumeAfter` unset):
   * unfinished holds and notices after these ids are left to finish.
   */
  resumeStart?: StartCursor;
}

/** Where a budgeted run's start-of-run work stopped: the last unfinished hold event and proposal notice handled. */
export interface StartCursor {
  holdsAfter?: string;
  noticesAfter?: string;
  chargesAfter?: string;
}

export type EmailStatus = "sent" | "failed" | "skipped";

export interface EmailResult {
  customer_id: string;
  to: string;
  invoice_numbers: string[];
  level: number;
  status: EmailStatus;
  reason: string | null;
  /** The level's SMS, when the level sends one: "sent", or what stopped it. */
  sms?: string;
}

export interface HoldResult {
  customer_id: string;
  action: "proposed" | "placed" | "released" | "withdrawn";
}
export interface RemindReport {
  emails: EmailResult[];
  holds: HoldResult[];
  /** Claims found left behind by a run that stopped, now waiting for a person. */
  flaggedForReview: number;
  /** The budget ran out: customers after `resumeAfter` are left for a continuation run at the same instant. */
  more: boolean;
  /**
   * The last customer (id) this run handled, when `more`; "" when the start-of-run work used the budget and
   * is done, so the next run starts at the first customer.
   */
  resumeAfter?: string;
  /** When `more` and the start-of-run work is not done: where the next run continues it. */
  resumeStart?: StartCursor;
}
