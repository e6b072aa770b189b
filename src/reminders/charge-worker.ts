/**
 * Late-payment charges after the plan, following the credit holds' model: a run PROPOSES the charges due on
 * each overdue invoice (pure: charge-plan.ts; unique per invoice, kind and period, so never twice); a person
 * approves or rejects each; an approved charge is written to the ledger as a new sales invoice referencing the
 * original, exactly once:
 *
 *   claim (one conditional update) -> the connector looks the invoice up by the charge's deterministic reference
 *   and creates it only when missing -> record the ledger id.
 *
 * A failed write is recorded and retried by the next run (or the next approval). A writer that dies between
 * the ledger call and its record leaves a claim that a later run takes over once it is CHARGE_WRITE_LEASE_MS
 * old: the lookup then finds the invoice the dead writer made, and nothing is created twice. CSV organisations
 * have no ledger to write to: an approved charge is recorded in Creditpulse only.
 */
import { ConnectorError } from "../../connectors/connector";
import { connectorFor } from "../../connectors/registry";
import { UserError } from "../errors";
import { errorText } from "../mail/mailer";
import { dateInZone } from "../model";
import {
  type ChargeRow,
  chargeById,
  chargesToWrite,
  chargeWriteFacts,
  claimChargeWrite,
  decideCharge,
  loadChargeables,
  loadChargeSettings,
  proposeCharge,
  recordChargeWrite,
} from "../store/charges";
import type { Organisation } from "../store/orgs";
import { planCharges } from "./charge-plan";
import { readChargeRule } from "./charge-rule";
import { ledgerContext } from "./ledger-context";
import type { ReminderDeps } from "./run-types";

/** How long a charge's write claim is honoured before a later run takes it over (a crashed writer's). */
export const CHARGE_WRITE_LEASE_MS = 15 * 60_000;

export type ChargeDeps = Pick<ReminderDeps, "store" | "log" | "connectorFor" | "tokens">;

const KIND_WORDS = {
  interest: "Late-payment interest",
  compensation: "Late-payment compensation",
  fee: "Late-payment fee",
};

/** Proposes the charges due as of `asOf` on the organisation's overdue invoices; returns the new proposals. */
export async function proposeDueCharges(
  deps: ChargeDeps,
  org: Organisation,
  asOf: string,
  now: number,
): Promise<ChargeRow[]> {
  const { db } = deps.store;
  const rule = readChargeRule((await loadChargeSettings(db, org.id)).rule);
  if (!rule) return [];
  const made: ChargeRow[] = [];
  for (const inv of await loadChargeables(db, org.id, asOf)) {
    const plan = planCharges(
      rule,
      {
        total: inv.totalMinor,
        currency: inv.currency,
        dueDate: inv.dueDate,
        applied: inv.applied,
        levelReached: inv.levelReached,
        disputed: inv.disputed,
        promisedBy: inv.promisedBy,
      },
      asOf,
      inv.earlier,
    );
    for (const p of plan.propose) {
      const row = await proposeCharge(
        deps.store,
        {
          orgId: org.id,
          contactId: inv.contactId,
          invoiceId: inv.invoiceId,
          kind: p.kind,
          period: p.period,
          amountMinor: p.amountMinor,
          currency: p.currency,
          asOf,
          detail: p.detail,
        },
        now,
      );
      if (row) made.push(row);
    }
  }
  if (made.length) deps.log.info({ org: org.slug, proposed: made.length }, "late-payment charges proposed");
  return made;
}

/**
 * Writes one approved (or failed) charge to the ledger, once; returns the row as recorded, or undefined when
 * another writer holds it.
 */
export async function writeCharge(
  deps: ChargeDeps,
  org: Organisation,
  charge: ChargeRow,
  now: number,
): Promise<ChargeRow | undefined> {
  const { store } = deps;
  const claimed = await claimChargeWrite(store.db, charge.id, now, now - CHARGE_WRITE_LEASE_MS);
  if (!claimed) return undefined;
  if (org.provider === "csv") {
    await recordChargeWrite(store, claimed, { status: "recorded" }, now);
    return chargeById(store.db, org.id, charge.id);
  }
  try {
    const facts = await chargeWriteFacts(store.db, claimed);
    if (!facts) throw new ConnectorError("invalid_data", "the charged invoice is no longer in the store");
    const connector = (deps.connectorFor ?? connectorFor)(org.provider);
    if (!connector.writeChargeInvoice)
      throw new ConnectorError("invalid_data", `the ${org.provider} connector cannot write charge invoices`);
    const settings = await loadChargeSettings(store.db, org.id);
    const today = dateInZone(now, org.timezone);
    const res = await connector.writeChargeInvoice(await ledgerContext(deps, org), {
      reference: claimed.reference,
      contactExternalId: facts.contactExternalId,
      originalNumber: facts.invoiceNumber,
      description: `${KIND_WORDS[claimed.kind]} on invoice ${facts.invoiceNumber}: ${claimed.detail} (${claimed.reference})`,
      amountMinor: claimed.amountMinor,
      currency: claimed.currency,
      date: today,
      dueDate: today,
      status: settings.ledgerStatus,
      account: settings.ledgerAccount,
    });
    await recordChargeWrite(
      store,
      claimed,
      { status: "written", ledgerId: res.ledgerId, ledgerNumber: res.number, found: res.found },
      now,
    );
  } catch (err) {
    const kind = err instanceof ConnectorError ? err.kind : "error";
    const text = `${kind}: ${errorText(err)}`;
    await recordChargeWrite(store, claimed, { status: "failed", error: text }, now);
    deps.log.warn({ org: org.slug, charge: charge.id, error: text }, "charge write failed; will retry");
  }
  return chargeById(store.db, org.id, charge.id);
}

/** Approved charges not written yet (failed writes and crashed writers' claims): a run's start writes them. */
export const chargesAwaitingWrite = (deps: ChargeDeps, org: Organisation) =>
  chargesToWrite(deps.store.db, org.id);

/** Writes every approved charge not written yet (a run's start: failed writes and crashed writers' claims). */
export async function writeApprovedCharges(deps: ChargeDeps, org: Organisation, now: number) {
  const out: ChargeRow[] = [];
  for (const c of await chargesAwaitingWrite(deps, org)) {
    const done = await writeCharge(deps, org, c, now);
    if (done) out.push(done);
  }
  return out;
}

export type ChargeAction = "approve" | "reject";

export interface ChargeActionResult {
  id: string;
  status: ChargeRow["status"];
  message: string;
}

/** A person approves (and so writes) or rejects a proposed charge; a 409 when it is no longer proposed. */
export async function actOnCharge(
  deps: ChargeDeps,
  org: Organisation,
  id: string,
  action: ChargeAction,
  by: string,
  now: number,
): Promise<ChargeActionResult> {
  const existing = await chargeById(deps.store.db, org.id, id);
  if (!existing) throw new UserError("not_found", `No charge ${id} in ${org.name}.`, 404);
  const decided = await decideCharge(
    deps.store,
    org.id,
    id,
    action === "approve" ? "approved" : "rejected",
    by,
    now,
  );
  if (!decided) throw new UserError("not_proposed", `That charge was already ${existing.status}.`, 409);
  if (action === "reject")
    return { id, status: "rejected", message: "Charge rejected; nothing was written to the ledger." };
  const row = (await writeCharge(deps, org, decided, now)) ?? decided;
  const ledger = org.provider === "xero" ? "Xero" : "QuickBooks";
  const message =
    row.status === "written"
      ? `Charge approved and written to ${ledger} as invoice ${row.ledgerNumber ?? row.reference}.`
      : row.status === "recorded"
        ? "Charge approved and recorded in Creditpulse (a CSV ledger: nothing is written; add it to your books by hand)."
        : `Charge approved; writing it to ${ledger} failed (${row.lastError ?? "unknown"}); Creditpulse retries on the next run.`;
  return { id, status: row.status, message };
}
