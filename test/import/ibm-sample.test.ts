/**
 * The shared IBM accounts-receivable sample (../shared/data/ibm-ar, its own columns and M/D/YYYY dates) imports
 * with the one command the README documents, and gives the same ledger as the conversion the monitor
 * evaluation (bench/monitor-eval.ts) does by code. Skipped, saying so, when ../shared is not there.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { OrgInput } from "../../src/monitor/index";
import type { Store } from "../../src/store/db";
import { loadMonitorInput } from "../../src/store/monitor-input";
import { findOrgBySlug } from "../../src/store/orgs";
import { contacts, invoices } from "../../src/store/schema";
import { runCli } from "../support/cli";
import { testStore } from "../support/db";
import { DATA, loadRaw, toInput } from "../support/ibm-ar";

const README = fileURLToPath(new URL("../../README.md", import.meta.url));
const present = existsSync(DATA);
const SKIP_NOTE = present ? "" : ` (SKIPPED: ${DATA} is absent; see /work/shared/data/ibm-ar/README.md)`;
if (!present) console.warn(`ibm-sample.test.ts skipped: the IBM sample is not at ${DATA}`);

/** The README's IBM import command, as argv (after `npx creditpulse`), with the sample's real path. */
function readmeCommand(): string[] {
  const line = readFileSync(README, "utf8")
    .split("\n")
    .find((l) => l.startsWith("npx creditpulse import ") && l.includes("ibm-ar/ledger-as-of-2013-06-30.csv"));
  if (!line) throw new Error("README has no `npx creditpulse import ...ibm-ar...` command");
  const args: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) args.push(m[1] ?? m[2] ?? m[3]!);
  return args
    .slice(2)
    .map((a) => (a.endsWith("ibm-ar/ledger-as-of-2013-06-30.csv") ? DATA : a))
    .filter((a) => !a.startsWith("\\"));
}

/** A monitor input keyed by what the ledger says (customer ids, invoice numbers), not by store ids. */
function byLedgerKeys(input: OrgInput, numbers?: Map<string, string>) {
  const contactExt = new Map(input.contacts.map((c) => [c.id, c.externalId]));
  const invoiceNumber = numbers ?? new Map(input.invoices.map((i) => [i.id, i.number]));
  return {
    baseCurrency: input.baseCurrency,
    contacts: input.contacts.map((c) => ({ customer: c.externalId, name: c.name })).sort(cmp("customer")),
    invoices: input.invoices
      .map((i) => ({
        customer: contactExt.get(i.contactId),
        number: i.number,
        issueDate: i.issueDate,
        dueDate: i.dueDate,
        currency: i.currency,
        totalMinor: i.totalMinor,
        amountPaidMinor: i.amountPaidMinor,
        amountCreditedMinor: i.amountCreditedMinor,
        amountDueMinor: i.amountDueMinor,
        status: i.status,
        paidOn: i.paidOn ?? null,
      }))
      .sort(cmp("number")),
    allocations: input.allocations
      .map((a) => ({
        invoice: invoiceNumber.get(a.invoiceId),
        amountMinor: a.amountMinor,
        date: a.date,
        kind: a.kind,
      }))
      .sort(cmp("invoice")),
  };
}

const cmp =
  <K extends string>(k: K) =>
  (a: Record<K, unknown>, b: Record<K, unknown>) =>
    String(a[k]) < String(b[k]) ? -1 : String(a[k]) > String(b[k]) ? 1 : 0;

/** Invoice numbers the sample marks Disputed = Yes. */
function disputedInFile(): Set<string> {
  const [head, ...lines] = readFileSync(DATA, "utf8").trim().split(/\r?\n/);
  const cols = head!.split(",");
  const n = cols.indexOf("invoiceNumber");
  const d = cols.indexOf("Disputed");
  return new Set(
    lines
      .map((l) => l.split(","))
      .filter((c) => c[d] === "Yes")
      .map((c) => c[n]!),
  );
}

let store: Store;
beforeEach(() => {
  store = testStore();
});
afterEach(async () => {
  await store.close();
});

describe("IBM AR sample import", () => {
  it.skipIf(!present)(
    `imports with the README's one --map/--date-format command and matches bench/monitor-eval.ts's ledger${SKIP_NOTE}`,
    async () => {
      const argv = readmeCommand();
      expect(argv).toContain("--map");
      expect(argv).toContain("--date-format");
      const first = await runCli([...argv, "--json"], store);
      expect(first.code, first.stderr + first.stdout).toBe(0);
      const summary = JSON.parse(first.stdout);
      expect(summary.rows).toEqual({ read: 1930, created: 1930, updated: 0, unchanged: 0, ignored: 0 });
      expect(summary.ignored_columns).toEqual([
        "countryCode",
        "PaperlessDate",
        "PaperlessBill",
        "DaysToSettle",
        "DaysLate",
      ]);

      const slug = argv[argv.indexOf("--org") + 1]!;
      const org = (await findOrgBySlug(store.db, slug))!;
      expect(org.baseCurrency).toBe("USD");

      // Every invoice, disputed or not, as the conversion by code has it.
      const raw = loadRaw();
      const expected = byLedgerKeys(toInput(raw));
      const stored = await store.db
        .select({
          customer: contacts.externalId,
          name: contacts.name,
          inv: invoices,
        })
        .from(invoices)
        .innerJoin(contacts, eq(contacts.id, invoices.contactId))
        .where(eq(invoices.orgId, org.id));
      expect(
        stored
          .map(({ customer, inv: i }) => ({
            customer,
            number: i.number,
            issueDate: i.issueDate,
            dueDate: i.dueDate,
            currency: i.currency,
            totalMinor: i.totalMinor,
            amountPaidMinor: i.amountPaidMinor,
            amountCreditedMinor: i.amountCreditedMinor,
            amountDueMinor: i.amountDueMinor,
            status: i.status,
            paidOn: i.paidOn,
          }))
          .sort(cmp("number")),
      ).toEqual(expected.invoices);

      // The Disputed column marks exactly the invoices the file says, the way disputes are stored.
      const disputed = new Set(stored.filter((s) => s.inv.disputedAt !== null).map((s) => s.inv.number));
      expect(disputed).toEqual(disputedInFile());
      expect(disputed.size).toBe(412);

      // What the monitor reads from the store equals the conversion, less the disputed invoices (which the
      // product leaves out of scores until a bookkeeper resolves them); the payments are all there.
      const numbers = new Map(stored.map((s) => [s.inv.id, s.inv.number]));
      const got = byLedgerKeys(await loadMonitorInput(store.db, org), numbers);
      expect(got.contacts).toEqual(expected.contacts);
      expect(got.invoices).toEqual(expected.invoices.filter((i) => !disputed.has(i.number)));
      expect(got.allocations).toEqual(expected.allocations);

      // The same command again changes nothing.
      const again = await runCli([...argv, "--json"], store);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout).rows).toEqual({
        read: 1930,
        created: 0,
        updated: 0,
        unchanged: 1930,
        ignored: 0,
      });
    },
    60_000,
  );
});
