import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type DemoLedger, generateDemoLedger } from "../../src/demo/generate";
import { DEMO_PROFILES, type DemoProfile, demoProfileMix } from "../../src/demo/profiles";
import {
  addDays,
  canonicalContact,
  canonicalCreditNote,
  canonicalInvoice,
  canonicalPayment,
  daysBetween,
  isIsoDate,
} from "../../src/model";

const AS_OF = "2026-05-15";

/** The same calendar day two years earlier (29 February falls back to the 28th). */
function twoYearsBefore(asOf: string): string {
  const date = `${Number(asOf.slice(0, 4)) - 2}${asOf.slice(4)}`;
  return isIsoDate(date) ? date : addDays(`${date.slice(0, 8)}01`, 27);
}

/** Every consistency rule the ledger promises, as a list of broken rules (empty when all hold). */
function problemsIn(ledger: DemoLedger, asOf: string): string[] {
  const problems: string[] = [];
  const fail = (msg: string) => {
    if (problems.length < 50) problems.push(msg);
  };
  const windowStart = twoYearsBefore(asOf);

  for (const [entity, ids] of [
    ["contact", ledger.contacts.map((c) => c.externalId)],
    ["invoice", ledger.invoices.map((i) => i.externalId)],
    ["invoice number", ledger.invoices.map((i) => i.number)],
    ["payment", ledger.payments.map((p) => p.externalId)],
    ["credit note", ledger.creditNotes.map((c) => c.externalId)],
    ["credit note number", ledger.creditNotes.map((c) => c.number)],
    ["truth", ledger.truth.map((t) => t.contactExternalId)],
  ] as const) {
    if (new Set(ids).size !== ids.length) fail(`${entity} ids are not unique`);
  }

  const contacts = new Map(ledger.contacts.map((c) => [c.externalId, c]));
  for (const c of ledger.contacts) {
    const parsed = canonicalContact.safeParse(c);
    if (!parsed.success) fail(`contact ${c.externalId}: ${parsed.error.message}`);
    if (c.emails.length === 0) fail(`contact ${c.externalId} has no email`);
    for (const e of c.emails) {
      if (!/^[a-z0-9.]+@[a-z0-9-]+\.example$/.test(e))
        fail(`contact ${c.externalId}: email ${e} off .example`);
    }
  }
  if (ledger.truth.length !== ledger.contacts.length) fail("truth does not cover every contact");
  for (const t of ledger.truth) {
    if (!contacts.has(t.contactExternalId)) fail(`truth for unknown contact ${t.contactExternalId}`);
    const changes = t.profile === "deteriorating" || t.profile === "defaulting";
    if (changes !== (t.changesOn !== null))
      fail(`${t.contactExternalId}: changesOn ${t.changesOn} for ${t.profile}`);
    if (t.changesOn !== null && (!isIsoDate(t.changesOn) || t.changesOn > asOf)) {
      fail(`${t.contactExternalId}: bad changesOn ${t.changesOn}`);
    }
  }

  const invoices = new Map(ledger.invoices.map((i) => [i.externalId, i]));
  const paid = new Map<string, { sum: number; last: string }>();
  const credited = new Map<string, { sum: number; last: string }>();
  const add = (into: typeof paid, id: string, amount: number, date: string) => {
    const seen = into.get(id);
    into.set(id, { sum: (seen?.sum ?? 0) + amount, last: seen && seen.last > date ? seen.last : date });
  };

  for (const p of ledger.payments) {
    const parsed = canonicalPayment.safeParse(p);
    if (!parsed.success) fail(`payment ${p.externalId}: ${parsed.error.message}`);
    if (!p.contactExternalId || !contacts.has(p.contactExternalId))
      fail(`payment ${p.externalId}: unknown contact`);
    if (p.date > asOf) fail(`payment ${p.externalId} dated ${p.date}, after asOf`);
    if (p.allocations.length === 0) fail(`payment ${p.externalId} has no allocations`);
    const sum = p.allocations.reduce((s, a) => s + a.amountMinor, 0);
    if (sum !== p.amountMinor)
      fail(`payment ${p.externalId}: amount ${p.amountMinor} but allocations ${sum}`);
    if (new Set(p.allocations.map((a) => a.invoiceExternalId)).size !== p.allocations.length) {
      fail(`payment ${p.externalId} allocates twice to one invoice`);
    }
    for (const a of p.allocations) {
      const inv = invoices.get(a.invoiceExternalId);
      if (!inv) {
        fail(`payment ${p.externalId} allocated to unknown invoice ${a.invoiceExternalId}`);
        continue;
      }
      if (a.amountMinor <= 0) fail(`payment ${p.externalId}: non-positive allocation`);
      if (a.date < inv.issueDate || a.date > asOf)
        fail(`payment ${p.externalId}: allocation dated ${a.date}`);
      if (inv.currency !== p.currency) fail(`payment ${p.externalId}: currency differs from ${inv.number}`);
      if (inv.contactExternalId !== p.contactExternalId)
        fail(`payment ${p.externalId}: pays another's invoice`);
      add(paid, a.invoiceExternalId, a.amountMinor, a.date);
    }
  }

  for (const cn of ledger.creditNotes) {
    const parsed = canonicalCreditNote.safeParse(cn);
    if (!parsed.success) fail(`credit note ${cn.externalId}: ${parsed.error.message}`);
    if (!contacts.has(cn.contactExternalId)) fail(`credit note ${cn.externalId}: unknown contact`);
    if (cn.issueDate > asOf) fail(`credit note ${cn.externalId} issued after asOf`);
    const allocated = cn.allocations.reduce((s, a) => s + a.amountMinor, 0);
    if (allocated + cn.remainingMinor !== cn.totalMinor)
      fail(`credit note ${cn.externalId}: totals do not add up`);
    if (cn.remainingMinor < 0) fail(`credit note ${cn.externalId}: negative remaining`);
    if ((cn.status === "paid") !== (cn.remainingMinor === 0)) fail(`credit note ${cn.externalId}: status`);
    for (const a of cn.allocations) {
      const inv = invoices.get(a.invoiceExternalId);
      if (!inv) {
        fail(`credit note ${cn.externalId} allocated to unknown invoice`);
        continue;
      }
      if (a.amountMinor <= 0) fail(`credit note ${cn.externalId}: non-positive allocation`);
      if (a.date < inv.issueDate || a.date > asOf)
        fail(`credit note ${cn.externalId}: allocation dated ${a.date}`);
      if (inv.currency !== cn.currency || inv.contactExternalId !== cn.contactExternalId) {
        fail(`credit note ${cn.externalId}: credits another currency or customer`);
      }
      add(credited, a.invoiceExternalId, a.amountMinor, a.date);
    }
  }

  for (const inv of ledger.invoices) {
    const parsed = canonicalInvoice.safeParse(inv);
    if (!parsed.success) fail(`invoice ${inv.number}: ${parsed.error.message}`);
    if (!/^INV-\d{6,}$/.test(inv.number)) fail(`invoice number ${inv.number}`);
    if (!contacts.has(inv.contactExternalId)) fail(`invoice ${inv.number}: unknown contact`);
    if (inv.issueDate > asOf) fail(`invoice ${inv.number} issued ${inv.issueDate}, after asOf`);
    if (inv.issueDate <= windowStart)
      fail(`invoice ${inv.number} issued ${inv.issueDate}, before the window`);
    if (inv.dueDate < inv.issueDate) fail(`invoice ${inv.number} due before issue`);
    if (inv.totalMinor <= 0) fail(`invoice ${inv.number}: total ${inv.totalMinor}`);
    const p = paid.get(inv.externalId);
    const c = credited.get(inv.externalId);
    if (inv.amountPaidMinor !== (p?.sum ?? 0))
      fail(`invoice ${inv.number}: amountPaid != payment allocations`);
    if (inv.amountCreditedMinor !== (c?.sum ?? 0)) fail(`invoice ${inv.number}: amountCredited != credits`);
    if (inv.status === "void") {
      if (inv.amountDueMinor !== 0 || p || c || inv.paidOn) fail(`void invoice ${inv.number} carries money`);
      continue;
    }
    const due = inv.totalMinor - inv.amountPaidMinor - inv.amountCreditedMinor;
    if (inv.amountDueMinor !== due || due < 0) fail(`invoice ${inv.number}: amountDue ${inv.amountDueMinor}`);
    if ((inv.status === "paid") !== (inv.amountDueMinor === 0))
      fail(`invoice ${inv.number}: status ${inv.status}`);
    if (inv.status !== "paid" && inv.status !== "authorised")
      fail(`invoice ${inv.number}: status ${inv.status}`);
    const last =
      [p?.last, c?.last]
        .filter((d): d is string => d !== undefined)
        .sort()
        .at(-1) ?? null;
    if (inv.status === "paid" && inv.paidOn !== last)
      fail(`invoice ${inv.number}: paidOn ${inv.paidOn} != ${last}`);
    if (inv.status !== "paid" && inv.paidOn !== null) fail(`open invoice ${inv.number} has paidOn`);
  }
  return problems;
}

type Lateness = { profile: DemoProfile; changesOn: string | null; issueDate: string; daysLate: number };

/** Signed days beyond terms for every paid invoice (negative when paid before the due date). */
function paidLateness(ledger: DemoLedger): Lateness[] {
  const truth = new Map(ledger.truth.map((t) => [t.contactExternalId, t]));
  return ledger.invoices
    .filter((i) => i.status === "paid" && i.paidOn)
    .map((i) => {
      const t = truth.get(i.contactExternalId)!;
      return {
        profile: t.profile,
        changesOn: t.changesOn,
        issueDate: i.issueDate,
        daysLate: daysBetween(i.dueDate, i.paidOn!),
      };
    });
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

const SEEDS = [1, 2, 7, "acme"] as const;

describe("generateDemoLedger", () => {
  describe("happy", () => {
    it("gives a deep-equal ledger for the same seed and options", () => {
      const a = generateDemoLedger({ asOf: AS_OF, seed: 42, customers: 30 });
      const b = generateDemoLedger({ asOf: AS_OF, seed: 42, customers: 30 });
      expect(b).toEqual(a);
      expect(generateDemoLedger({ asOf: AS_OF, seed: "42", customers: 30 })).toEqual(a);
      expect(generateDemoLedger({ asOf: AS_OF })).toEqual(
        generateDemoLedger({ asOf: AS_OF, seed: 1, customers: 60 }),
      );
    });

    it("gives a different ledger for a different seed", () => {
      const a = generateDemoLedger({ asOf: AS_OF, seed: 1 });
      const b = generateDemoLedger({ asOf: AS_OF, seed: 2 });
      expect(b).not.toEqual(a);
      expect(b.contacts.map((c) => c.name)).not.toEqual(a.contacts.map((c) => c.name));
      expect(b.invoices.length).not.toBe(a.invoices.length);
    });

    it.each([
      ...SEEDS.flatMap((seed) =>
        [1, 2, 5, 12, 60, 250].map((customers) => ({ seed, customers, asOf: AS_OF })),
      ),
      { seed: 3, customers: 60, asOf: "2024-02-29" },
      { seed: 4, customers: 60, asOf: "2025-12-31" },
      { seed: 5, customers: 40, asOf: "2026-01-04" },
    ])(
      "keeps every record consistent (seed $seed, $customers customers, as of $asOf)",
      ({ seed, customers, asOf }) => {
        const ledger = generateDemoLedger({ asOf, seed, customers });
        expect(ledger.contacts).toHaveLength(customers);
        expect(problemsIn(ledger, asOf)).toEqual([]);
      },
    );

    it("covers the two years before asOf, with open invoices on the day", () => {
      const ledger = generateDemoLedger({ asOf: AS_OF });
      const issued = ledger.invoices.map((i) => i.issueDate).sort();
      expect(issued[0]! <= "2024-06-15").toBe(true);
      expect(issued.at(-1)! >= "2026-05-01").toBe(true);
      const open = ledger.invoices.filter((i) => i.status === "authorised");
      expect(open.length).toBeGreaterThan(0);
      expect(open.some((i) => i.dueDate >= AS_OF)).toBe(true);
      expect(open.some((i) => i.dueDate < AS_OF)).toBe(true);
    });

    it.each(SEEDS)("makes each profile's payment behaviour visible in the data (seed %s)", (seed) => {
      const ledger = generateDemoLedger({ asOf: AS_OF, seed });
      const late = paidLateness(ledger);
      const of = (p: DemoProfile) => late.filter((l) => l.profile === p).map((l) => l.daysLate);

      expect(median(of("reliable"))).toBeLessThanOrEqual(5);
      expect(median(of("reliable"))).toBeGreaterThanOrEqual(-5);
      expect(median(of("early"))).toBeLessThanOrEqual(-3);
      expect(median(of("slow_steady"))).toBeGreaterThanOrEqual(8);
      expect(median(of("slow_steady"))).toBeLessThanOrEqual(25);
      expect(median(of("chronic_late"))).toBeGreaterThan(25);

      // Deteriorating: invoices issued from changesOn on are paid at least 10 days later on average.
      const det = late.filter((l) => l.profile === "deteriorating");
      const before = det.filter((l) => l.issueDate < l.changesOn!).map((l) => l.daysLate);
      const after = det.filter((l) => l.issueDate >= l.changesOn!).map((l) => l.daysLate);
      expect(before.length).toBeGreaterThan(20);
      expect(after.length).toBeGreaterThan(3);
      expect(mean(after) - mean(before)).toBeGreaterThanOrEqual(10);
      expect(mean(before)).toBeLessThanOrEqual(5);
    });

    it.each(SEEDS)("shows the change in each deteriorating customer's own history (seed %s)", (seed) => {
      const ledger = generateDemoLedger({ asOf: AS_OF, seed });
      // Paid invoices count their real lateness, open overdue ones how late they are so far.
      const lateness = (i: DemoLedger["invoices"][number]) =>
        i.paidOn
          ? daysBetween(i.dueDate, i.paidOn)
          : i.dueDate < AS_OF
            ? daysBetween(i.dueDate, AS_OF)
            : null;
      let measured = 0;
      for (const t of ledger.truth.filter((x) => x.profile === "deteriorating")) {
        const theirs = ledger.invoices.filter(
          (i) => i.contactExternalId === t.contactExternalId && i.status !== "void",
        );
        const before = theirs.filter((i) => i.issueDate < t.changesOn!).flatMap((i) => lateness(i) ?? []);
        const after = theirs.filter((i) => i.issueDate >= t.changesOn!).flatMap((i) => lateness(i) ?? []);
        expect(t.changesOn! >= "2025-08-01" && t.changesOn! <= "2026-01-31").toBe(true);
        if (after.length < 2) continue;
        measured++;
        expect(mean(after) - mean(before), t.contactExternalId).toBeGreaterThanOrEqual(10);
      }
      expect(measured).toBeGreaterThan(0);
    });

    it.each(SEEDS)("leaves every defaulting customer's later invoices open and overdue (seed %s)", (seed) => {
      const ledger = generateDemoLedger({ asOf: AS_OF, seed });
      const defaulters = ledger.truth.filter((t) => t.profile === "defaulting");
      expect(defaulters.length).toBeGreaterThan(0);
      for (const t of defaulters) {
        const theirs = ledger.invoices.filter((i) => i.contactExternalId === t.contactExternalId);
        const after = theirs.filter((i) => i.issueDate >= t.changesOn!);
        expect(after.length).toBeGreaterThan(0);
        for (const i of after) {
          expect(i.status).toBe("authorised");
          expect(i.amountDueMinor).toBe(i.totalMinor);
          expect(i.dueDate < AS_OF).toBe(true);
        }
        // They paid before they stopped, and never after.
        const paidBefore = theirs.filter((i) => i.status === "paid");
        expect(paidBefore.length).toBeGreaterThan(0);
        const payments = ledger.payments.filter((p) => p.contactExternalId === t.contactExternalId);
        expect(payments.every((p) => p.date < t.changesOn!)).toBe(true);
      }
    });

    it("mixes profiles with most customers paying well and a handful of each bad kind", () => {
      const mix = demoProfileMix(60);
      expect(Object.values(mix).reduce((a, b) => a + b, 0)).toBe(60);
      expect(mix.reliable + mix.early).toBeGreaterThan(30);
      for (const p of ["slow_steady", "chronic_late", "deteriorating", "defaulting"] as const) {
        expect(mix[p]).toBeGreaterThanOrEqual(3);
        expect(mix[p]).toBeLessThanOrEqual(8);
      }
      for (const n of [2, 3, 5, 12, 13, 1000]) {
        const m = demoProfileMix(n);
        expect(Object.values(m).reduce((a, b) => a + b, 0)).toBe(n);
        expect(m.reliable).toBeGreaterThanOrEqual(1);
        expect(m.deteriorating).toBeGreaterThanOrEqual(1);
      }
      expect(demoProfileMix(1)).toMatchObject({ reliable: 1 });
      for (const p of DEMO_PROFILES) expect(demoProfileMix(12)[p]).toBeGreaterThanOrEqual(1);

      const ledger = generateDemoLedger({ asOf: AS_OF, customers: 12, seed: 9 });
      const counts = new Map<DemoProfile, number>();
      for (const t of ledger.truth) counts.set(t.profile, (counts.get(t.profile) ?? 0) + 1);
      for (const p of DEMO_PROFILES) expect(counts.get(p)).toBe(demoProfileMix(12)[p]);
    });

    it("bills most customers in the base currency and the rest in one or two others, one each", () => {
      const ledger = generateDemoLedger({ asOf: AS_OF });
      const byCustomer = new Map<string, Set<string>>();
      for (const i of ledger.invoices) {
        const set = byCustomer.get(i.contactExternalId) ?? new Set();
        set.add(i.currency);
        byCustomer.set(i.contactExternalId, set);
      }
      for (const set of byCustomer.values()) expect(set.size).toBe(1);
      const currencies = [...byCustomer.values()].map((s) => [...s][0]);
      const distinct = new Set(currencies);
      expect(distinct.size).toBeGreaterThanOrEqual(2);
      expect(distinct.size).toBeLessThanOrEqual(3);
      expect(currencies.filter((c) => c === "GBP").length).toBeGreaterThan(currencies.length / 2);

      const euro = generateDemoLedger({ asOf: AS_OF, baseCurrency: "EUR" });
      expect(euro.organisation).toMatchObject({
        baseCurrency: "EUR",
        timezone: "Europe/London",
        country: "GB",
      });
      expect(euro.invoices.filter((i) => i.currency === "EUR").length).toBeGreaterThan(
        euro.invoices.length / 2,
      );
      expect(problemsIn(euro, AS_OF)).toEqual([]);
    });

    it("includes voided invoices, credit notes, partial payments and multi-invoice remittances", () => {
      const ledger = generateDemoLedger({ asOf: AS_OF });
      const voids = ledger.invoices.filter((i) => i.status === "void");
      expect(voids.length).toBeGreaterThan(0);
      expect(voids.length).toBeLessThan(ledger.invoices.length * 0.05);
      expect(ledger.creditNotes.length).toBeGreaterThan(0);
      expect(ledger.creditNotes.length).toBeLessThan(ledger.invoices.length * 0.1);
      expect(ledger.invoices.some((i) => i.amountCreditedMinor > 0 && i.amountPaidMinor > 0)).toBe(true);

      const allocationsPerInvoice = new Map<string, number>();
      for (const p of ledger.payments) {
        for (const a of p.allocations) {
          allocationsPerInvoice.set(
            a.invoiceExternalId,
            (allocationsPerInvoice.get(a.invoiceExternalId) ?? 0) + 1,
          );
        }
      }
      expect([...allocationsPerInvoice.values()].some((n) => n >= 2)).toBe(true);
      expect(ledger.invoices.some((i) => i.status === "authorised" && i.amountPaidMinor > 0)).toBe(true);
      expect(ledger.payments.some((p) => p.allocations.length >= 2)).toBe(true);
    });

    it("gives customers plausible, unique identities and terms", () => {
      const ledger = generateDemoLedger({ asOf: AS_OF, customers: 300 });
      const names = ledger.contacts.map((c) => c.name);
      expect(new Set(names).size).toBe(names.length);
      for (const n of names) expect(n).toMatch(/^[A-Z][A-Za-z&.' ]+[A-Za-z.0-9]$/);
      const domains = ledger.contacts.map((c) => c.emails[0]!.split("@")[1]);
      expect(new Set(domains).size).toBe(domains.length);
      expect(ledger.contacts.filter((c) => c.phone).length).toBeGreaterThan(200);
      for (const c of ledger.contacts) if (c.phone) expect(c.phone).toMatch(/^\+\d{1,2}( \d+)+$/);
      const limits = ledger.contacts.filter((c) => c.creditLimitMinor != null);
      expect(limits.length).toBeGreaterThan(30);
      expect(limits.length).toBeLessThan(250);

      // Terms: net 7/14/30/60 or end of following month, one per customer.
      const endOfFollowingMonth = (issue: string) =>
        addDays(`${addDays(`${issue.slice(0, 7)}-01`, 62).slice(0, 7)}-01`, -1);
      const terms = new Set<string>();
      for (const c of ledger.contacts) {
        const theirs = ledger.invoices.filter((i) => i.contactExternalId === c.externalId);
        if (theirs.length === 0) continue;
        const days = new Set(theirs.map((i) => daysBetween(i.issueDate, i.dueDate)));
        const eom = theirs.every((i) => i.dueDate === endOfFollowingMonth(i.issueDate));
        const [only] = days;
        const kind = eom
          ? "eom"
          : days.size === 1 && [7, 14, 30, 60].includes(only!)
            ? `net${only}`
            : "mixed";
        terms.add(kind);
      }
      expect([...terms].sort()).toEqual(["eom", "net14", "net30", "net60", "net7"]);
    });

    it("issues invoices with seasonality: busier before Christmas than in August", () => {
      const ledger = generateDemoLedger({ asOf: AS_OF, customers: 200 });
      const inMonth = (m: string) => ledger.invoices.filter((i) => i.issueDate.slice(5, 7) === m).length;
      expect(inMonth("11")).toBeGreaterThan(inMonth("08") * 1.5);
    });

    it("varies invoice sizes by customer", () => {
      const ledger = generateDemoLedger({ asOf: AS_OF });
      const medians = ledger.contacts.map((c) =>
        median(ledger.invoices.filter((i) => i.contactExternalId === c.externalId).map((i) => i.totalMinor)),
      );
      const finite = medians.filter((m) => Number.isFinite(m)).sort((a, b) => a - b);
      expect(finite.at(-1)! / finite[0]!).toBeGreaterThan(10);
    });

    // Its speed (well under a few seconds for 1,000 customers) is measured by bench/demo-generate.ts, beside a
    // baseline from the same run, not timed here.
    it("generates 1,000 customers", () => {
      const ledger = generateDemoLedger({ asOf: AS_OF, customers: 1000 });
      expect(ledger.invoices.length).toBeGreaterThan(20_000);
    });
  });

  describe("errors", () => {
    it.each([
      [{ asOf: "2026-02-30" }, /asOf/],
      [{ asOf: "15/05/2026" }, /asOf/],
      [{ asOf: AS_OF, customers: 0 }, /customers/],
      [{ asOf: AS_OF, customers: 2.5 }, /customers/],
      [{ asOf: AS_OF, customers: -3 }, /customers/],
      [{ asOf: AS_OF, baseCurrency: "gbp" }, /baseCurrency/],
      [{ asOf: AS_OF, baseCurrency: "XYZ" }, /baseCurrency/],
    ])("refuses bad options %j", (opts, message) => {
      expect(() => generateDemoLedger(opts)).toThrow(message);
    });
  });

  describe("purity", () => {
    it("reads no clock, no Math.random and imports no node modules", () => {
      const dir = join(dirname(fileURLToPath(import.meta.url)), "../../src/demo");
      for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
        const source = readFileSync(join(dir, file), "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
        expect(source, file).not.toMatch(/Math\.random|Date\.now|performance\.now|new Date\(\)/);
        expect(source, file).not.toMatch(/from "node:|require\(/);
        for (const [, spec] of source.matchAll(/from "([^"]+)"/g)) {
          expect(
            [
              "../model",
              "../days",
              "./calendar",
              "./names",
              "./random",
              // The generator's own modules (split out of generate.ts, issue 13).
              "./profiles",
              "./customers",
              "./invoices",
              "./settle",
              "./util",
            ],
            `${file} imports ${spec}`,
          ).toContain(spec);
        }
      }
    });
  });
});
