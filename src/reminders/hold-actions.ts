/**
 * What people do with credit holds (the holds view and `creditpulse holds`): approve or dismiss a proposed hold,
 * place one by hand, release one by hand. Each is conditional on the current state (so two people clicking at
 * once change it once), lands in the audit log with who did it, and a placement or release is written back to
 * the ledger and told to the owner exactly as a run's would be.
 */
import type { Deps } from "../deps";
import { UserError } from "../errors";
import type { Mailer } from "../mail/mailer";
import { latestHold } from "../store/hold-events";
import { closeProposal, type HoldListEntry, openProposal } from "../store/holds";
import type { Organisation } from "../store/orgs";
import { ensureReminderSetup, loadReminderSettings } from "../store/reminder-settings";
import { createHoldWorker } from "./hold-worker";
import type { ReminderDeps } from "./run-types";
import { writeBackFor } from "./write-back";

export const HOLD_ACTIONS = ["approve", "dismiss", "place", "release"] as const;
export type ManualHoldAction = (typeof HOLD_ACTIONS)[number];

export interface HoldActionResult {
  action: ManualHoldAction;
  customer_id: string;
  /** "on_hold" or "none" after the action. */
  hold_state: "on_hold" | "none";
  /** The ledger write-back of a placement or release: written, not_applicable (CSV), failed (retried). */
  writeback: string | null;
  message: string;
}

export type HoldActionDeps = Pick<ReminderDeps, "store" | "config" | "log" | "connectorFor" | "tokens"> & {
  mailer?: Mailer;
};

/** The write-back wiring of the organisation's ledger, for a caller holding the app's dependencies. */
export function holdActionDeps(deps: Deps, org: Organisation, mailer?: Mailer): HoldActionDeps {
  return { store: deps.store, config: deps.config, log: deps.log, mailer, ...writeBackFor(deps, org) };
}

export async function actOnHold(
  deps: HoldActionDeps,
  org: Organisation,
  contact: { id: string; externalId: string; name: string; holdState: string },
  action: ManualHoldAction,
  by: { actor: string; who: string; reason?: string | null },
  now: number,
): Promise<HoldActionResult> {
  const { db } = deps.store;
  await ensureReminderSetup(db, org, now);
  const settings = await loadReminderSettings(db, org);
  const worker = createHoldWorker(deps, org, settings, now);
  const note = by.reason?.trim() ? `: ${by.reason.trim().slice(0, 300)}` : "";
  const proposal = await openProposal(db, contact.id);

  /** Closes the customer's open proposal as this person (a placement that ends it names its hold event). */
  const closeAs = (status: "approved" | "dismissed", reason: string | null, holdEventId?: string | null) =>
    closeProposal(
      deps.store,
      { orgId: org.id, contactId: contact.id, status, by: by.actor, reason, holdEventId },
      now,
    );

  const result = async (msg: string, state: "on_hold" | "none"): Promise<HoldActionResult> => {
    const ev = await latestHold(db, contact.id);
    const writeback = ev ? ev.writebackStatus : null;
    const wb =
      writeback === "written"
        ? ` Written to ${org.provider === "xero" ? "Xero" : "QuickBooks"}.`
        : writeback === "failed"
          ? " Writing it to the ledger failed; Creditpulse retries on the next run."
          : writeback === "not_applicable"
            ? " Kept in Creditpulse (this ledger has no credit-hold field)."
            : "";
    return { action, customer_id: contact.externalId, hold_state: state, writeback, message: `${msg}${wb}` };
  };

  switch (action) {
    case "approve": {
      if (!proposal)
        throw new UserError("no_proposal", `${contact.name} has no proposed credit hold to approve.`, 409);
      const ev = await worker.change(contact.id, "place", proposal.reason, {
        actor: by.actor,
        detail: { by: by.who, proposalId: proposal.id },
      });
      await closeAs("approved", by.reason?.trim() || null, ev?.id ?? null);
      return result(`Credit hold on ${contact.name} approved: the account is on hold.`, "on_hold");
    }
    case "dismiss": {
      const closed = await closeAs("dismissed", by.reason?.trim() || null);
      if (!closed)
        throw new UserError("no_proposal", `${contact.name} has no proposed credit hold to dismiss.`, 409);
      return result(`Proposed hold on ${contact.name} dismissed; nothing was written to the ledger.`, "none");
    }
    case "place": {
      if (contact.holdState === "on_hold")
        throw new UserError("already_on_hold", `${contact.name} is already on credit hold.`, 409);
      const ev = await worker.change(contact.id, "place", `placed by hand by ${by.who}${note}`, {
        actor: by.actor,
        byHand: true,
        detail: { by: by.who },
      });
      if (!ev) throw new UserError("already_on_hold", `${contact.name} is already on credit hold.`, 409);
      if (proposal) await closeAs("approved", null, ev.id);
      return result(`${contact.name} is on credit hold.`, "on_hold");
    }
    case "release": {
      const ev = await worker.change(contact.id, "release", `released by hand by ${by.who}${note}`, {
        actor: by.actor,
        detail: { by: by.who },
      });
      if (!ev) throw new UserError("not_on_hold", `${contact.name} is not on credit hold.`, 409);
      return result(`Credit hold on ${contact.name} released.`, "none");
    }
  }
}

/** One hold (proposed, active or released) as the JSON API and `holds --json` show it. */
export function holdEntryJson(e: HoldListEntry) {
  return {
    customer_id: e.externalId,
    name: e.name,
    reason: e.reason,
    at: new Date(e.at).toISOString(),
    by: e.by,
    writeback: e.writeback,
    writeback_detail: e.writebackDetail,
    overdue: e.overdue.map((o) => ({ currency: o.currency, amount: o.minor })),
  };
}
