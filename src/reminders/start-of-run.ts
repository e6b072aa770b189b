/**
 * A reminder run's start-of-run work, before any customer: claims left "claimed" by a run that stopped are
 * flagged for review, promises to pay whose date has passed are flagged as broken, and hold events whose ledger
 * write-back or owner notice is unfinished (and proposal notices not yet sent) are finished.
 *
 * With a budget (Workers: one queue message), each item counts as one action against the run's budget, and the
 * work stops when the budget is used: the run then continues in the next message, at the same instant, from
 * `StartCursor`. Flagging changes each row's state, so a repeat only finds what is left; unfinished holds and
 * notices are taken in id order after the cursor, so one that fails again is not retried within the same tick
 * (the next hourly run retries it, as an unbudgeted run always did). Approved late-payment charges not yet
 * written to the ledger are written last, one action each, in the same way.
 */
import { audit } from "../store/audit";
import { flagStaleClaims } from "../store/claims";
import { unfinishedHolds } from "../store/hold-events";
import { unfinishedProposalNotices } from "../store/holds";
import type { Organisation } from "../store/orgs";
import { flagBrokenPromises } from "../store/pauses";
import { type ChargeDeps, chargesAwaitingWrite, writeCharge } from "./charge-worker";
import type { createHoldWorker } from "./hold-worker";
import type { RunAt } from "./plan";
import { orgToday } from "./run-context";
import type { ReminderDeps, StartCursor } from "./run-types";

/** How long a claim may stay "claimed" before it is taken for a crashed run's and flagged for review. */
export const CLAIM_LEASE_MS = 15 * 60_000;

export interface StartOfRunResult {
  /** Actions used (items flagged or finished). */
  used: number;
  /** Claims flagged for review by this part. */
  flaggedForReview: number;
  /** Set when the budget ran out before the start-of-run work was done: where the next part picks up. */
  stoppedAt?: StartCursor;
}

const byId = <T extends { id: string }>(rows: T[], after: string | undefined) =>
  rows
    .filter((r) => after === undefined || r.id > after)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

export async function startOfRun(
  deps: Pick<ReminderDeps, "store" | "log"> & ChargeDeps,
  org: Organisation,
  holds: ReturnType<typeof createHoldWorker>,
  opts: { at: RunAt; now: number; budget: number; from?: StartCursor },
): Promise<StartOfRunResult> {
  const { store, log } = deps;
  const { db } = store;
  const { now, budget } = opts;
  const from = opts.from ?? {};
  const finite = Number.isFinite(budget);
  const left = (used: number) => (finite ? budget - used : undefined);
  let used = 0;

  const stale = await flagStaleClaims(db, org.id, now - CLAIM_LEASE_MS, now, left(used));
  for (const r of stale) {
    log.warn(
      { org: org.slug, reminder: r.id, invoice: r.invoiceId, level: r.level },
      "reminder left for review",
    );
    await audit(
      db,
      {
        orgId: org.id,
        contactId: r.contactId,
        invoiceId: r.invoiceId,
        actor: "reminders",
        action: "reminder.needs_review",
        detail: {
          level: r.level,
          emailId: r.emailId,
          reason: "the run stopped before the outcome was recorded",
        },
      },
      now,
    );
  }
  used += stale.length;
  const result = (stoppedAt?: StartCursor): StartOfRunResult => ({
    used,
    flaggedForReview: stale.length,
    ...(stoppedAt ? { stoppedAt } : {}),
  });
  // Flagged rows leave the "claimed" state: the next part flags what is left.
  if (used >= budget) return result({ ...from });

  // Promises to pay whose date has passed with the invoice unpaid: flagged once each (audit log).
  const limit = left(used);
  const broken = await flagBrokenPromises(store, org, orgToday(org, opts.at), now, limit);
  used += broken.length;
  if (used >= budget) return result({ ...from });

  for (const ev of byId(await unfinishedHolds(db, org.id), from.holdsAfter)) {
    if (used >= budget) return result({ ...from });
    await holds.finish(ev);
    used++;
    from.holdsAfter = ev.id;
  }
  for (const p of byId(await unfinishedProposalNotices(db, org.id), from.noticesAfter)) {
    if (used >= budget) return result({ ...from });
    await holds.notifyProposal(p);
    used++;
    from.noticesAfter = p.id;
  }
  for (const c of byId(await chargesAwaitingWrite(deps, org), from.chargesAfter)) {
    if (used >= budget) return result({ ...from });
    await writeCharge(deps, org, c, now);
    used++;
    from.chargesAfter = c.id;
  }
  return result();
}
