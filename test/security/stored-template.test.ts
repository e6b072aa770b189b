/**
 * A template stored before it could be checked (or one that breaks on real data) fails at send time: only its
 * own organisation's emails fail, the failure is in the run result and the audit log, the hourly job carries
 * on with the other organisations, and the reminders page still answers.
 */

import { and, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fixedClock } from "../../src/clock";
import type { Deps } from "../../src/deps";
import { createApp } from "../../src/http/app";
import { JOBS, runJob } from "../../src/jobs";
import type { Store } from "../../src/store/db";
import { setTemplateOverride } from "../../src/store/reminder-settings";
import { auditLog } from "../../src/store/schema";
import { makeCustomer, makeInvoice, makeOrg, testConfig } from "../reminders/factories";
import { signIn } from "../support/auth";
import { testStore } from "../support/db";
import { testDeps } from "../support/deps";
import { startInbox, type TestInbox } from "../support/smtp";

// Tuesday 10 March 2026, 10:00 in London: inside the default sending window.
const TUESDAY_10AM = "2026-03-10T10:00:00Z";

let inbox: TestInbox;
let store: Store;
let deps: Deps;
beforeAll(async () => {
  inbox = await startInbox();
});
afterAll(async () => {
  await inbox.close();
});
beforeEach(async () => {
  inbox.clear();
  store = testStore();
  deps = await testDeps({ store, clock: fixedClock(TUESDAY_10AM), config: testConfig(inbox) });
});
afterEach(async () => {
  await store.close();
});

async function orgWithOverdueCustomer(slug: string) {
  const org = await makeOrg(store, { slug });
  const c = await makeCustomer(store, org, { emails: [`ap@${slug}.example`] });
  await makeInvoice(store, org, c.externalId, { dueDate: "2026-03-09" });
  return org;
}

describe("security: a stored template that fails at send time", () => {
  for (const [label, body] of [
    ["names a field that does not exist", "<p>{{ customer.nickname }}</p>"],
    ["would loop for minutes", "{% for i in (1..6000) %}{% for j in (1..5000) %}{% endfor %}{% endfor %}"],
    ["includes a server file", "{% include 'package.json' %}"],
  ] as const)
    it(`${label}: fails only its organisation's emails, is reported, and the page still answers`, async () => {
      const bad = await orgWithOverdueCustomer("bad");
      await orgWithOverdueCustomer("good");
      await setTemplateOverride(store.db, bad.id, "overdue", "html", body, 0);

      const started = performance.now();
      expect(await runJob(JOBS.find((j) => j.name === "remind")!, deps)).toBe(true);
      expect(performance.now() - started).toBeLessThan(10_000);
      // The good organisation's customer got their reminder; the bad one's got nothing.
      expect(inbox.messages.map((m) => m.envelope.to)).toEqual([["ap@good.example"]]);

      const events = await store.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.orgId, bad.id), eq(auditLog.action, "reminder.template_failed")));
      expect(events).toHaveLength(1);
      expect(events[0]!.detail).toMatchObject({ template: "overdue.html", overridden: true });

      const app = createApp(deps);
      const s = await signIn(deps, { email: "bk@example.com", role: "bookkeeper" });
      const page = await app.request("/orgs/bad/reminders", { headers: s.headers({ accept: "text/html" }) });
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/template error/);
      const json = await app.request("/api/orgs/bad/reminders", { headers: s.headers() });
      expect(json.status).toBe(200);
      const planned = (
        (await json.json()) as { planned: { template: string; template_error: string | null }[] }
      ).planned.filter((p) => p.template === "overdue");
      expect(planned.length).toBeGreaterThan(0);
      for (const p of planned) expect(p.template_error).toMatch(/overdue\.html/);
    });
});
