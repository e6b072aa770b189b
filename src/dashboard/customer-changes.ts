/**
 * What a member changes on a customer's page: pause or resume chasing, opt out or back in, exclude from
 * reminders and holds, the reminder address, the credit limit, the reminder policy, and resolving a dispute.
 * Each change and its audit row (who did it) land together (`store.atomically`). The input arrives already
 * parsed (src/http/pages/customer-changes.ts); what needs the store to check (the policy exists, the dispute is
 * open) is checked here.
 */
import type { Deps } from "../deps";
import { UserError } from "../errors";
import type { IsoDate } from "../model";
import { type ContactPatch, customerDisputes, updateContact } from "../store/dashboard-customers";
import { resolveDispute } from "../store/disputes";
import type { Organisation } from "../store/orgs";
import { setReminderEmail } from "../store/portal";
import { loadPolicies } from "../store/reminder-settings";
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
interface CustomerChangeResult {
  action: string;
  done: string;
}

/** A change ready to write: the write itself, and what the audit row and the confirmation say. */
interface Planned extends CustomerChangeResult {
  write: () => Promise<unknown>;
  detail?: Record<string, unknown>;
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
  const contact = await findCustomer(deps, org, externalId);
  const now = deps.clock.now();
  const p = await plan(deps, org, contact.id, change, member, now);
  return store.atomically(async () => {
    await p.write();
    await auditMemberChange(
      store.db,
      member,
      { orgId: org.id, contactId: contact.id, action: p.action, detail: p.detail },
      now,
    );
    return { action: p.action, done: p.done };
  });
}

/** Checks what needs the store (the policy exists, the dispute is open) and says what the change writes. */
async function plan(
  deps: Deps,
  org: Organisation,
  contactId: string,
  change: CustomerChange,
  member: Member,
  now: number,
): Promise<Planned> {
  const { store } = deps;
  const { db } = store;
  const patch = (p: ContactPatch) => () => updateContact(db, contactId, p, now);
  switch (change.kind) {
    case "resume":
      return {
        write: patch({ chasingPausedUntil: null }),
        action: "customer.chasing_resumed",
        done: "chasing_resumed",
      };
    case "pause":
      return {
        write: patch({ chasingPausedUntil: change.until }),
        action: "customer.chasing_paused",
        detail: { until: change.until },
        done: "chasing_paused",
      };
    case "opt_out": {
      const out = change.optedOut;
      return {
        write: patch({ optedOut: out }),
        action: out ? "customer.opted_out" : "customer.opted_in",
        done: out ? "opted_out" : "opted_in",
      };
    }
    case "exclude": {
      const excluded = change.excluded;
      return {
        write: patch({ excluded }),
        action: excluded ? "customer.excluded" : "customer.included",
        done: excluded ? "excluded" : "included",
      };
    }
    case "reminder_address":
      return {
        write: () => setReminderEmail(db, org.id, contactId, change.email, now),
        action: "customer.reminder_address_changed",
        detail: { email: change.email },
        done: change.email ? "reminder_address_set" : "reminder_address_cleared",
      };
    case "credit_limit":
      return {
        write: patch({ creditLimitMinor: change.minor }),
        action: "customer.credit_limit",
        detail: { limit: change.text },
        done: change.text ? "credit_limit_set" : "credit_limit_removed",
      };
    case "policy": {
      const id = change.policyId;
      const { policies } = await loadPolicies(db, org.id);
      if (id && (!policies.has(id) || id.startsWith("builtin-")))
        throw new UserError(
          "invalid",
          "Unknown policy (open Settings once so the built-in policies are stored).",
          422,
        );
      return {
        write: patch({ policyId: id }),
        action: "customer.policy",
        detail: { policy: (id ? policies.get(id)?.name : null) ?? null },
        done: "customer_policy",
      };
    }
    case "resolve_dispute": {
      const { invoiceId, resolution } = change;
      const d = (await customerDisputes(db, org.id, contactId)).find((x) => x.invoiceId === invoiceId);
      if (!d) throw new UserError("not_found", "That invoice has no open dispute for this customer.", 404);
      return {
        write: () => resolveDispute(store, { orgId: org.id, invoiceId, by: member.email, resolution }, now),
        action: "customer.dispute_resolved",
        detail: { invoice: d.number, resolution },
        done: "dispute_resolved",
      };
    }
  }
}
