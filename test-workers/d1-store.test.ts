/**
 * The store's all-or-nothing batches on D1 itself: a credit hold changes state once, with its event and audit
 * entry, and a second run changes nothing; resolving a dispute clears the invoice's mark, closes the dispute and
 * writes its audit entry together, or (when a statement fails) none of them.
 */
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { recordDispute, resolveDispute } from "../src/store/disputes";
import { transitionHold } from "../src/store/hold-events";
import { auditLog, contacts, creditHolds, invoiceDisputes, invoices } from "../src/store/schema";
import { seedOrg } from "./seed";
import { testDeps } from "./support";

describe("D1 batches", () => {
  it("places a hold exactly once, with its event and audit entry, and releases it", async () => {
    const deps = await testDeps();
    const org = await seedOrg(deps, "holdco", { customers: 1 });
    const [c] = await deps.store.db.select().from(contacts).where(eq(contacts.orgId, org.id));
    const t = {
      orgId: org.id,
      contactId: c!.id,
      action: "place" as const,
      reason: "over limit",
      ownerNotice: true,
    };
    const placed = await transitionHold(deps.store, t, Date.now());
    expect(placed).toMatchObject({ action: "place", writebackStatus: "pending", ownerNotice: "pending" });
    expect(await transitionHold(deps.store, t, Date.now())).toBeUndefined();
    const released = await transitionHold(deps.store, { ...t, action: "release" }, Date.now());
    expect(released).toMatchObject({ action: "release" });
    const events = await deps.store.db.select().from(creditHolds).where(eq(creditHolds.contactId, c!.id));
    expect(events.map((e) => e.action)).toEqual(["place", "release"]);
    const audits = await deps.store.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.contactId, c!.id)));
    expect(audits.map((a) => a.action).sort()).toEqual(["credit_hold.placed", "credit_hold.released"]);
    expect(audits.find((a) => a.action === "credit_hold.placed")!.detail).toMatchObject({
      holdEventId: placed!.id,
    });
  });

  it("resolves a dispute in one batch: all of it, once, or (a statement failing) none of it", async () => {
    const deps = await testDeps();
    const org = await seedOrg(deps, "disputeco", { customers: 1 });
    const [inv] = await deps.store.db.select().from(invoices).where(eq(invoices.orgId, org.id)).limit(1);
    const disputeId = await recordDispute(
      deps.store,
      { orgId: org.id, contactId: inv!.contactId, invoiceId: inv!.id, reason: "wrong_amount", comment: null },
      Date.now(),
    );
    const state = async () => ({
      marked:
        (await deps.store.db.select().from(invoices).where(eq(invoices.id, inv!.id)))[0]!.disputedAt !== null,
      open:
        (await deps.store.db.select().from(invoiceDisputes).where(eq(invoiceDisputes.id, disputeId)))[0]!
          .resolvedAt === null,
      audits: await deps.store.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.invoiceId, inv!.id), eq(auditLog.action, "invoice.dispute_resolved"))),
    });
    const r = { orgId: org.id, invoiceId: inv!.id, by: "usr_bookkeeper", resolution: "amount confirmed" };

    // The last statement of the batch fails: D1 rolls back the audit entry and the cleared mark with it.
    await env.DB.exec(
      "CREATE TRIGGER fail_dispute_close BEFORE UPDATE ON invoice_disputes BEGIN SELECT RAISE(ABORT, 'injected'); END;",
    );
    await expect(resolveDispute(deps.store, r, Date.now())).rejects.toThrow(/injected/);
    await env.DB.exec("DROP TRIGGER fail_dispute_close;");
    expect(await state()).toMatchObject({ marked: true, open: true, audits: [] });

    // The retry does all of it, once.
    expect(await resolveDispute(deps.store, r, Date.now())).toBe(true);
    const after = await state();
    expect(after).toMatchObject({ marked: false, open: false });
    expect(after.audits).toHaveLength(1);
    expect(after.audits[0]).toMatchObject({
      actor: "usr_bookkeeper",
      contactId: inv!.contactId,
      detail: { invoiceNumber: inv!.number, disputeIds: [disputeId], resolution: "amount confirmed" },
    });
    expect(await resolveDispute(deps.store, r, Date.now())).toBe(false);
    expect((await state()).audits).toHaveLength(1);
  });
});
