/**
 * late_probability: the probability that a customer's NEXT invoice is paid after its due date.
 *
 * Model (fitted per organisation, per as-of date, from that organisation's ledger as it stood then; pure):
 * 1. Organisation prior: late share `p0` and mean signed days beyond terms `m0` of invoices that fell due in the
 *    365 days before asOf (an open overdue invoice counts as late, at its days overdue).
 * 2. Customer state at a day t: the customer's settled invoices (settled on or before t, in settlement order) and
 *    then its open overdue invoices on t as censored "at least N days late" observations. From them a
 *    recency-weighted (x0.9 per older invoice) mean of days beyond terms and late share, each shrunk toward
 *    the organisation prior with 2 pseudo-invoices (empirical Bayes: little history -> close to the prior).
 * 3. A logistic regression on [1, shrunk mean / 10, logit(shrunk late share), 1 / (1 + observations)] fitted by
 *    Newton's method (ridge 1.0 on the slopes) on the organisation's own invoices that fell due in the 365
 *    days before asOf, each described by its customer's state on the day before it was issued and labelled
 *    late / on time as known on asOf. Only invoices whose due date has passed on asOf are used, so every label is
 *    known and early payers are not over-represented.
 * 4. With fewer than MIN_TRAINING_ROWS rows or a single class, the shrunk late share (a beta-binomial posterior
 *    mean) is the probability.
 * A customer with no observation at all gets `p0` itself.
 */
import type { InvoiceAsOf, LedgerAsOf } from "./as-of";

export const PRIOR_PSEUDO_INVOICES = 2;
export const TRAINING_WINDOW_DAYS = 365;
export const MIN_TRAINING_ROWS = 40;
/** Above this many training rows an evenly spaced, deterministic subsample is used. */
export const MAX_TRAINING_ROWS = 50_000;
/** Used when the organisation has no invoice that fell due in the window. */
export const DEFAULT_LATE_RATE = 0.3;

/** Tunable parameters of the late-payment model (see the module comment for how they were chosen). */
export interface LateModelOptions {
  decay: number;
  pseudoInvoices: number;
  ridge: number;
  /** Add the long-run (undecayed) shrunk mean as a feature. */
  longMean: boolean;
  /** Add shrunk mean / shrunk SD (how many SDs the customer's usual payment sits beyond the due date). */
  zFeature: boolean;
  /** Pseudo-observations pulling the customer's SD toward the organisation's pooled within-customer SD. */
  sdPseudo: number;
  /** Training rows are described by the customer's state this many days before issue (>= 1). */
  stateLagDays: number;
}

export const LATE_MODEL_OPTIONS: LateModelOptions = {
  decay: 0.9,
  pseudoInvoices: PRIOR_PSEUDO_INVOICES,
  ridge: 1.0,
  longMean: false,
  zFeature: false,
  sdPseudo: 5,
  stateLagDays: 1,
};

export interface OrgPrior {
  lateRate: number;
  meanDaysBeyondTerms: number;
  /** Pooled within-customer SD of settled days beyond terms in the window (7 when too little data). */
  withinSdDays: number;
  /** Invoices the prior was computed from. */
  sampleSize: number;
}

export interface LateModel {
  kind: "logistic" | "shrunk_share";
  prior: OrgPrior;
  /** Coefficients for featureVector (kind "logistic"). */
  weights: number[] | null;
  trainingRows: number;
  options: LateModelOptions;
}

export interface CustomerState {
  /** Settled plus censored observations. */
  observations: number;
  /** Shrunk, recency-weighted mean days beyond terms. */
  shrunkMeanDays: number;
  /** Shrunk, recency-weighted late share. */
  shrunkLateShare: number;
  /** Shrunk plain mean days beyond terms over the whole history. */
  longMeanDays: number;
  /** Recency-weighted SD of settled days beyond terms, shrunk toward the organisation's within-customer SD. */
  sdDays: number;
}

export interface LatePrediction {
  probability: number;
  /** "prior" when the customer has no history and gets the organisation's late rate. */
  source: "prior" | "model";
  state: CustomerState;
}

/** Organisation prior from invoices due in the window before asOf. */
export function orgPrior(ledger: LedgerAsOf): OrgPrior {
  const from = ledger.asOfDay - TRAINING_WINDOW_DAYS;
  let n = 0;
  let late = 0;
  let sum = 0;
  let ss = 0;
  let df = 0;
  for (const invoices of ledger.invoicesByContact.values()) {
    let cn = 0;
    let cs = 0;
    let cs2 = 0;
    for (const inv of invoices) {
      if (inv.dueDay >= ledger.asOfDay || inv.dueDay < from || inv.settledUndated || inv.creditedOnly)
        continue;
      const x = inv.settledDay !== null ? inv.settledDay - inv.dueDay : ledger.asOfDay - inv.dueDay;
      n++;
      sum += x;
      if (x > 0) late++;
      if (inv.settledDay !== null) {
        cn++;
        cs += x;
        cs2 += x * x;
      }
    }
    if (cn >= 2) {
      ss += Math.max(0, cs2 - (cs * cs) / cn);
      df += cn - 1;
    }
  }
  const withinSdDays = df >= 10 ? Math.max(1, Math.sqrt(ss / df)) : 7;
  if (n === 0) return { lateRate: DEFAULT_LATE_RATE, meanDaysBeyondTerms: 0, withinSdDays, sampleSize: 0 };
  // A tiny uniform prior keeps the rate off 0 and 1 for very small ledgers.
  return { lateRate: (late + 0.5) / (n + 1), meanDaysBeyondTerms: sum / n, withinSdDays, sampleSize: n };
}

/**
 * The customer's state on each of `days` (ascending), from its invoices as of the ledger date. Invoices settled
 * on or before a day count as settled then; invoices issued on or before it, past due and not settled by it
 * count as censored observations.
 */
export function customerStates(
  invoices: readonly InvoiceAsOf[],
  days: readonly number[],
  prior: OrgPrior,
  options: LateModelOptions = LATE_MODEL_OPTIONS,
): CustomerState[] {
  const DECAY = options.decay;
  const settled = invoices
    .filter((i) => i.settledDay !== null && !i.creditedOnly)
    .sort((a, b) => (a.settledDay ?? 0) - (b.settledDay ?? 0) || a.dueDay - b.dueDay);
  const out: CustomerState[] = [];
  let sp = 0;
  let ip = 0;
  const pending: InvoiceAsOf[] = [];
  const overdue: InvoiceAsOf[] = [];
  let n = 0;
  let ewSum = 0;
  let ewSum2 = 0;
  let ewLate = 0;
  let ewW = 0;
  let sum = 0;
  for (const t of days) {
    for (let s = settled[sp]; s !== undefined && (s.settledDay ?? 0) <= t; s = settled[++sp]) {
      const x = (s.settledDay ?? 0) - s.dueDay;
      ewSum = ewSum * DECAY + x;
      ewSum2 = ewSum2 * DECAY + x * x;
      ewLate = ewLate * DECAY + (x > 0 ? 1 : 0);
      ewW = ewW * DECAY + 1;
      sum += x;
      n++;
    }
    for (let i = invoices[ip]; i !== undefined && i.issueDay <= t; i = invoices[++ip]) {
      if (!i.settledUndated) pending.push(i);
    }
    // Drop those settled by t, in place (same order as a filter, without a new list per day).
    let kept = 0;
    for (let k = 0; k < pending.length; k++) {
      const i = pending[k]!;
      if (i.settledDay === null || i.settledDay > t) pending[kept++] = i;
    }
    pending.length = kept;
    let cSum = ewSum;
    let cLate = ewLate;
    let cW = ewW;
    let cn = n;
    let cPlain = sum;
    if (pending.length > 0) {
      overdue.length = 0;
      for (const i of pending) if (i.dueDay < t) overdue.push(i);
      if (overdue.length > 1) overdue.sort(byDueDay);
      for (const i of overdue) {
        cSum = cSum * DECAY + (t - i.dueDay);
        cLate = cLate * DECAY + 1;
        cW = cW * DECAY + 1;
        cPlain += t - i.dueDay;
        cn++;
      }
    }
    const k = options.pseudoInvoices;
    // Recency-weighted variance of the settled values, shrunk toward the organisation's within-customer SD.
    const ewMean = ewW > 0 ? ewSum / ewW : 0;
    const ownSs = ewW > 0 ? Math.max(0, ewSum2 - ewW * ewMean * ewMean) : 0;
    const ps = options.sdPseudo;
    const sd = Math.sqrt((ps * prior.withinSdDays ** 2 + ownSs) / (ps + Math.max(0, ewW - 1)));
    out.push({
      observations: cn,
      shrunkMeanDays: (cSum + k * prior.meanDaysBeyondTerms) / (cW + k),
      shrunkLateShare: (cLate + k * prior.lateRate) / (cW + k),
      longMeanDays: (cPlain + k * prior.meanDaysBeyondTerms) / (cn + k),
      sdDays: Math.max(1, sd),
    });
  }
  return out;
}

const byDueDay = (a: InvoiceAsOf, b: InvoiceAsOf): number => a.dueDay - b.dueDay;

export function featureVector(s: CustomerState, options: LateModelOptions = LATE_MODEL_OPTIONS): number[] {
  const share = Math.min(0.999, Math.max(0.001, s.shrunkLateShare));
  const x = [1, s.shrunkMeanDays / 10, Math.log(share / (1 - share)), 1 / (1 + s.observations)];
  if (options.longMean) x.push(s.longMeanDays / 10);
  if (options.zFeature) x.push(s.shrunkMeanDays / s.sdDays);
  return x;
}

/** Fits the late-payment model on the ledger as of its date (see the module comment). */
export function fitLateModel(ledger: LedgerAsOf, options: LateModelOptions = LATE_MODEL_OPTIONS): LateModel {
  const prior = orgPrior(ledger);
  const from = ledger.asOfDay - TRAINING_WINDOW_DAYS;
  const usable = (i: InvoiceAsOf): boolean =>
    i.dueDay < ledger.asOfDay && i.dueDay >= from && !i.settledUndated && !i.creditedOnly;
  // Above MAX_TRAINING_ROWS keep an evenly spaced, deterministic subsample (decided before building rows).
  let total = 0;
  for (const contact of ledger.contacts) {
    for (const i of ledger.invoicesByContact.get(contact.id) ?? []) if (usable(i)) total++;
  }
  const step = Math.max(1, total / MAX_TRAINING_ROWS);
  const X: number[][] = [];
  const Y: number[] = [];
  let seen = 0;
  let next = 0;
  for (const contact of ledger.contacts) {
    const invoices = ledger.invoicesByContact.get(contact.id) ?? [];
    const rows: InvoiceAsOf[] = [];
    for (const i of invoices) {
      if (!usable(i)) continue;
      if (seen++ >= next) {
        rows.push(i);
        next += step;
      }
    }
    if (rows.length === 0) continue;
    const states = customerStates(
      invoices,
      rows.map((i) => i.issueDay - Math.max(1, options.stateLagDays)),
      prior,
      options,
    );
    rows.forEach((inv, j) => {
      const s = states[j];
      if (!s || s.observations === 0) return;
      X.push(featureVector(s, options));
      Y.push(inv.settledDay === null || inv.settledDay > inv.dueDay ? 1 : 0);
    });
  }
  const positives = Y.reduce((a, b) => a + b, 0);
  if (X.length < MIN_TRAINING_ROWS || positives === 0 || positives === X.length) {
    return { kind: "shrunk_share", prior, weights: null, trainingRows: X.length, options };
  }
  const weights = fitLogistic(X, Y, options.ridge);
  if (!weights) return { kind: "shrunk_share", prior, weights: null, trainingRows: X.length, options };
  return { kind: "logistic", prior, weights, trainingRows: X.length, options };
}

/** The probability for a customer in `state`. */
export function predictLate(model: LateModel, state: CustomerState): LatePrediction {
  if (state.observations === 0) return { probability: model.prior.lateRate, source: "prior", state };
  if (model.kind === "logistic" && model.weights) {
    const x = featureVector(state, model.options);
    let z = 0;
    for (let j = 0; j < x.length; j++) z += (model.weights[j] ?? 0) * (x[j] ?? 0);
    return { probability: sigmoid(z), source: "model", state };
  }
  return { probability: state.shrunkLateShare, source: "model", state };
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** L2-penalised logistic regression by Newton's method (no penalty on the intercept, column 0). */
export function fitLogistic(X: readonly number[][], y: readonly number[], ridge: number): number[] | null {
  const d = X[0]?.length ?? 0;
  let w = new Array<number>(d).fill(0);
  for (let iter = 0; iter < 30; iter++) {
    const g = new Array<number>(d).fill(0);
    const H = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    for (let i = 0; i < X.length; i++) {
      const x = X[i]!;
      let z = 0;
      for (let j = 0; j < d; j++) z += w[j]! * x[j]!;
      const p = sigmoid(z);
      const r = p - y[i]!;
      const v = p * (1 - p);
      for (let j = 0; j < d; j++) {
        g[j]! += r * x[j]!;
        const vx = v * x[j]!;
        const row = H[j]!;
        for (let k = 0; k <= j; k++) row[k]! += vx * x[k]!;
      }
    }
    for (let j = 0; j < d; j++) {
      for (let k = 0; k < j; k++) H[k]![j] = H[j]![k]!;
      if (j > 0) {
        g[j]! += ridge * w[j]!;
        H[j]![j]! += ridge;
      }
      H[j]![j]! += 1e-9;
    }
    const step = solve(H, g);
    if (!step) return null;
    let change = 0;
    w = w.map((wj, j) => {
      change = Math.max(change, Math.abs(step[j]!));
      return wj - step[j]!;
    });
    if (change < 1e-8) break;
  }
  return w.every(Number.isFinite) ? w : null;
}

/** Solves A x = b by Gaussian elimination with partial pivoting (small dense systems). */
function solve(A: number[][], b: number[]): number[] | null {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    if (Math.abs(M[p]![c]!) < 1e-12) return null;
    [M[c], M[p]] = [M[p]!, M[c]!];
    const pivot = M[c]!;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const row = M[r]!;
      const f = row[c]! / pivot[c]!;
      if (f === 0) continue;
      for (let k = c; k <= n; k++) row[k]! -= f * pivot[k]!;
    }
  }
  return M.map((row, i) => row[n]! / row[i]!);
}
