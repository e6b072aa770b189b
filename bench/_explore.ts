import { readFileSync, writeFileSync } from "node:fs";
import { addDays } from "../src/model";
import { assessOrganisation, type OrgInput } from "../src/monitor/index";
import { loadMonitorInput } from "../src/store/monitor";
import { findOrgBySlug } from "../src/store/orgs";
import { openSqliteStore } from "../src/store/sqlite";

const lines = readFileSync("/work/shared/data/ibm-ar/ledger-as-of-2013-06-30.csv", "utf8")
  .trim()
  .split(/\r?\n/);
const h = lines[0]!.split(",");
const mdy = (t: string) => {
  const [m, d, y] = t.split("/");
  return `${y}-${m!.padStart(2, "0")}-${d!.padStart(2, "0")}`;
};
const raw = lines.slice(1).map((l) => {
  const c = l.split(",");
  return {
    customer: c[h.indexOf("customerID")]!,
    number: c[h.indexOf("invoiceNumber")]!,
    issueDate: mdy(c[h.indexOf("InvoiceDate")]!),
    dueDate: mdy(c[h.indexOf("DueDate")]!),
    amt: Math.round(Number(c[h.indexOf("InvoiceAmount")]) * 100),
    settled: c[h.indexOf("SettledDate")] ? mdy(c[h.indexOf("SettledDate")]!) : null,
  };
});
const input: OrgInput = {
  baseCurrency: "USD",
  contacts: [...new Set(raw.map((r) => r.customer))].map((c) => ({
    id: c,
    externalId: c,
    name: c,
    creditLimitMinor: null,
  })),
  invoices: raw.map((x) => ({
    id: x.number,
    contactId: x.customer,
    number: x.number,
    issueDate: x.issueDate,
    dueDate: x.dueDate,
    currency: "USD",
    totalMinor: x.amt,
    amountPaidMinor: x.settled ? x.amt : 0,
    amountCreditedMinor: 0,
    amountDueMinor: x.settled ? 0 : x.amt,
    status: x.settled ? "paid" : "authorised",
    paidOn: x.settled,
  })),
  allocations: raw
    .filter((x) => x.settled)
    .map((x) => ({ invoiceId: x.number, amountMinor: x.amt, date: x.settled!, kind: "payment" as const })),
};
const cuts = [
  "2013-01-01",
  "2013-02-01",
  "2013-03-01",
  "2013-04-01",
  "2013-05-01",
  "2013-06-01",
  "2013-07-01",
];
const out: unknown[] = [];
const row = (c: ReturnType<typeof assessOrganisation>["customers"][number]) => ({
  id: c.result.customer_id,
  score: c.result.score,
  grade: c.result.grade,
  p: c.prediction.probability,
  src: c.prediction.source,
  avgLate: c.features.averageDaysDelinquent,
  recentMean: c.features.recencyWeightedDaysBeyondTerms,
  oldest: c.features.oldestOverdueDays,
  overdue: c.features.overdueMinor,
  outstanding: c.features.outstandingMinor,
  overdueCount: c.features.overdueCount,
  trend: c.result.trend,
  severe: c.score.severe,
  shrunkMean: c.prediction.state.shrunkMeanDays,
  obs: c.features.observations.length,
  medianAmt: 0,
});
for (let i = 0; i < cuts.length - 1; i++) {
  const asOf = addDays(cuts[i]!, -1);
  const a = assessOrganisation(input, asOf);
  for (const c of a.customers) {
    const nxt = raw.filter(
      (r) =>
        r.customer === c.result.customer_id &&
        r.issueDate >= cuts[i]! &&
        r.issueDate < cuts[i + 1]! &&
        (r.settled !== null || r.dueDate <= "2013-06-30"),
    );
    out.push({
      cut: cuts[i],
      ...row(c),
      n: nxt.length,
      late: nxt.filter((r) => r.settled === null || r.settled > r.dueDate).length,
    });
  }
}
writeFileSync("/tmp/mon-ibm.json", JSON.stringify(out));
const store = openSqliteStore("/tmp/mon-demo.db");
const org = (await findOrgBySlug(store.db, "demo"))!;
const inp = await loadMonitorInput(store.db, org);
const demo: unknown[] = [];
for (const d of ["2025-06-01", new Date().toISOString().slice(0, 10)]) {
  const a = assessOrganisation(inp, d);
  for (const c of a.customers) demo.push({ cut: d, ...row(c) });
}
writeFileSync("/tmp/mon-demo-rows.json", JSON.stringify(demo));
