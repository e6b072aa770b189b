/**
 * The store's all-or-nothing batches on D1 itself: a credit hold changes state once, with its event and audit
 * entry, and a second run changes nothing.
 */
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { transitionHold } from "../src/store/hold-events";
import { auditLog, contacts, creditHolds } from "../src/store/schema";
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
});
