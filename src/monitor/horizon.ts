/**
 * How much history the monitor reads (issue 18: scoring reads only the history it needs). For each customer,
 * of its invoices issued on or before asOf that count (not draft, void or deleted, total above 0), the monitor
 * keeps the last HISTORY_INVOICES (by issue date, then due date, then id), and any older one that was not yet
 * paid on asOf according to its row (`paidOn` empty or after asOf). The trend reads at most 24 observations plus
 * a 12-observation baseline, the forecast 24 settled invoices; recency-weighted means give an invoice 36 back a
 * weight of 0.9^36 = 2%. The store's loader (store/monitor-input.ts) applies exactly this rule in SQL, so
 * scoring the rows it loads equals scoring the whole ledger; and the rule only looks at rows issued on or before
 * asOf and at whether they were paid by then, so the full ledger as of D still scores exactly like the ledger as
 * of D.
 */
import type { IsoDate } from "../model";
import { HISTORY_INVOICES, type MonitorInvoice, type OrgInput } from "../model/monitor";

const counts = (inv: MonitorInvoice): boolean =>
  inv.status !== "draft" && inv.status !== "void" && inv.status !== "deleted" && inv.totalMinor > 0;

/** Later in (issue date, due date, id) order. */
const after = (a: MonitorInvoice, b: MonitorInvoice): boolean =>
  a.issueDate !== b.issueDate
    ? a.issueDate > b.issueDate
    : a.dueDate !== b.dueDate
      ? a.dueDate > b.dueDate
      : a.id > b.id;

/** The input with each customer's history cut to the horizon (see the module comment). Allocations are kept. */
export function withinHorizon(input: OrgInput, asOf: IsoDate, keep = HISTORY_INVOICES): OrgInput {
  const invoices = input.invoices;
  // Count each customer's invoices that count; nothing to cut when no customer has more than `keep`.
  const perContact = new Map<string, number>();
  let over = false;
  for (const inv of invoices) {
    if (inv.issueDate > asOf || !counts(inv)) continue;
    const n = (perContact.get(inv.contactId) ?? 0) + 1;
    perContact.set(inv.contactId, n);
    if (n > keep) over = true;
  }
  if (!over) return input;
  // Per customer over the limit: the issue-order key of its keep-th latest invoice (a min-heap of size keep).
  const heaps = new Map<string, MonitorInvoice[]>();
  for (const inv of invoices) {
    if (inv.issueDate > asOf || !counts(inv)) continue;
    if ((perContact.get(inv.contactId) ?? 0) <= keep) continue;
    let h = heaps.get(inv.contactId);
    if (!h) {
      h = [];
      heaps.set(inv.contactId, h);
    }
    if (h.length < keep) heapPush(h, inv);
    else if (after(inv, h[0]!)) {
      h[0] = inv;
      siftDown(h, 0);
    }
  }
  const kept = invoices.filter((inv) => {
    const h = heaps.get(inv.contactId);
    if (!h || inv.issueDate > asOf || !counts(inv)) return true;
    const oldestKept = h[0]!;
    if (inv === oldestKept || after(inv, oldestKept)) return true;
    return inv.paidOn === null || inv.paidOn > asOf;
  });
  return { ...input, invoices: kept };
}

function heapPush(h: MonitorInvoice[], x: MonitorInvoice): void {
  h.push(x);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!after(h[p]!, h[i]!)) break;
    [h[p], h[i]] = [h[i]!, h[p]!];
    i = p;
  }
}

function siftDown(h: MonitorInvoice[], i: number): void {
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < h.length && after(h[m]!, h[l]!)) m = l;
    if (r < h.length && after(h[m]!, h[r]!)) m = r;
    if (m === i) return;
    [h[m], h[i]] = [h[i]!, h[m]!];
    i = m;
  }
}
