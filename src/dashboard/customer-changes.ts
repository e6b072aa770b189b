/**
 * What a member changes on a customer's page: pause or resume chasing, opt out or back in, exclude from
 * reminders and holds, the reminder address, the credit limit, the reminder policy, and resolving a dispute.
 * Each change and its audit row (who did it) land together (`store.atomically`). The input arrives already
 * parsed (src/http/pages/customer-changes.tsx); what needs the store to check (the policy exists, the dispute is
 * open) is checked here.
 */
import type { Deps } from "../deps";
import { UserError } from "../errors";
import type { IsoDate } from "../model";
import { type ContactPatch, customerDisputes, updateContact } from "../store/dashboard-customers";
import type { Organisation } from "../store/orgs";
import { resolveDispute, setReminderEmail } from "../store/portal";
import { loadPolicies } from "../store/reminders";
import { findCustomer } from "./customer";
import { auditMemberChange, type Member } from "./member";

export type CustomerChange =
  | { kind: "pause"; until: IsoDate }
  | { kind: "resume" }
  | { kind: "opt_out"; optedOut: boolean }
  | { kind: "exclude"; excluded: boolean }
  | { kind: "reminder_address"; email: string | null }
  /** `text` is the amount as the member typed it (for the audit log), null to remove the limit. */
  | { kind: "credit_limit"; minor: number | null; text: string | null }
  | { kind: "policy"; policyId: string | null }
  | { kind: "resolve_dispute"; invoiceId: string; resolution: string | null };

/** What was done: the audit action, and the confirmation code the page shows (`?done=`). */
export interface CustomerChangeResult {
  action: string;
  done: string;
}

interface Applied extends CustomerChangeResult {
  detail: Record<string, unknown>;
}

/**
 * Applies one change to the customer with this ledger id (a 404 when the organisation has no such live
 * customer), with its audit row.
 */
export async function changeCustomer(
  deps: Deps,
  org: Organisation,
  externalId: string,
  change: CustomerChange,
  member: Member,
): Promise<CustomerChangeResult> {
  const { store } = deps;
  const { db } = store;
  const contact = await findCustomer(deps, org, externalId);
  const now = deps.clock.now();
  const patch = (p: ContactPatch) => updateContact(db, contact.id, p, now);

  // Checks that read the store come before the unit of work, so it holds only writes.
  let apply: () => Promise<Applied>;
  switch (change.kind) {
    case "resume":
      apply = async () => {
        await patch({ chasingPausedUntil: null });
        return { action: "customer.chasing_resumed", detail: {}, done: "chasing_resumed" };
      };
      break;
    case "pause":
      apply = async () => {
        await patch({ chasingPausedUntil: change.until });
        return { action: "customer.chasing_paused", detail: { until: change.until }, done: "chasing_paused" };
      };
      break;
    case "opt_out":
      apply = async () => {
        await patch({ optedOut: change.optedOut });
        return change.optedOut
          ? { action: "customer.opted_out", detail: {}, done: "opted_out" }
          : { action: "customer.opted_in", detail: {}, done: "opted_in" };
      };
      break;
    case "exclude":
      apply = async () => {
        await patch({ excluded: change.excluded });
        return change.excluded
          ? { action: "customer.excluded", detail: {}, done: "excluded" }
          : { action: "customer.included", detail: {}, done: "included" };
      };
      break;
    case "reminder_address":
      apply = async () => {
        await setReminderEmail(db, org.id, contact.id, change.email, now);
        return {
          action: "customer.reminder_address_changed",
          detail: { email: change.email },
          done: change.email ? "reminder_address_set" : "reminder_address_cleared",
        };
      };
      break;
    case "credit_limit":
      apply = async () => {
        await patch({ creditLimitMinor: change.minor });
        return {
          action: "customer.credit_limit",
          detail: { limit: change.text },
          done: change.text ? "credit_limit_set" : "credit_limit_removed",
        };
      };
      break;
    case "policy": {
      const id = change.policyId;
      const { policies } = await loadPolicies(db, org.id);
      if (id && (!policies.has(id) || id.startsWith("builtin-")))
        throw new UserError(
          "invalid",
          "Unknown policy (open Settings once so the built-in policies are stored).",
          422,
        );
      const name = id ? policies.get(id)?.name : null;
      apply = async () => {
        await patch({ policyId: id });
        return { action: "customer.policy", detail: { policy: name ?? null }, done: "customer_policy" };
      };
      break;
    }
    case "resolve_dispute": {
      const open = await customerDisputes(db, org.id, contact.id);
      const d = open.find((x) => x.invoiceId === change.invoiceId);
      if (!d) throw new UserError("not_found", "That invoice has no open dispute for this customer.", 404);
      apply = async () => {
        await resolveDispute(
          store,
          { orgId: org.id, invoiceId: change.invoiceId, by: member.email, resolution: change.resolution },
          now,
        );
        return {
          action: "customer.dispute_resolved",
          detail: { invoice: d.number, resolution: change.resolution },
          done: "dispute_resolved",
        };
      };
      break;
    }
  }
  return store.atomically(async () => {
    const r = await apply();
    await auditMemberChange(
      db,
      member,
      { orgId: org.id, contactId: contact.id, action: r.action, detail: r.detail },
      now,
    );
    return { action: r.action, done: r.done };
  });
}
