/**
 * The credit monitor: pure functions from an organisation's ledger rows and an `asOf` date to one score per
 * customer. No store, no clock: the same (input, asOf) always gives the same result, and scoring the full
 * ledger as of D gives exactly the result of the ledger as it stood on D.
 */
import type { IsoDate } from "../model";
import type { CustomerScore, MonitorContact, OrgInput } from "../model/monitor";
import { type LedgerAsOf, restrictToAsOf } from "./as-of";
import { type CustomerFeatures, customerFeatures, type Observation, observationsOf } from "./features";
import { withinHorizon } from "./horizon";
import {
  customerStates,
  fitLateModel,
  type LateModel,
  type LateModelOptions,
  type LatePrediction,
  predictLate,
} from "./predict";
import { type ScoreResult, scoreCustomer } from "./score";
import { detectTrend, pooledSettledSd, pooledWithinSd, trendSeries } from "./trend";
import type { TrendResult } from "./trend-types";

export { dayNumber } from "../days";
export * from "../model/monitor";
export { type CreditAsOf, type InvoiceAsOf, type LedgerAsOf, restrictToAsOf } from "./as-of";
export {
  type CurrencyExposure,
  type CustomerFeatures,
  customerFeatures,
  type Observation,
  observationsOf,
  RECENCY_DECAY,
  reportingCurrency,
} from "./features";
export {
  type CurrencyForecast,
  DEFAULT_FORECAST_OPTIONS,
  type ForecastOptions,
  forecastLedger,
  forecastOrganisation,
  type InvoiceForecast,
  type WeekForecast,
} from "./forecast";
export { withinHorizon } from "./horizon";
export {
  type CustomerState,
  customerStates,
  fitLateModel,
  fitLogistic,
  LATE_MODEL_OPTIONS,
  type LateModel,
  type LateModelOptions,
  type LatePrediction,
  type OrgPrior,
  orgPrior,
  predictLate,
  sigmoid,
} from "./predict";
export {
  applyBrokenPromises,
  BROKEN_PROMISE_MAX_PENALTY,
  BROKEN_PROMISE_PENALTY,
  formatAmount,
  GRADE_BANDS,
  gradeFor,
  type ScoreFactor,
  type ScoreResult,
  scoreCustomer,
} from "./score";
export { detectTrend, pooledWithinSd, trendSeries } from "./trend";
export { detectEpisodes, isNewEpisode, type TrendSnapshot } from "./trend-episodes";
export { censoredExpectation } from "./trend-stats";
export { DEFAULT_TREND_OPTIONS, type TrendOptions, type TrendPoint, type TrendResult } from "./trend-types";

/** Everything computed for one customer, for callers that want more than the public `CustomerScore`. */
export interface CustomerAssessment {
  result: CustomerScore;
  features: CustomerFeatures;
  prediction: LatePrediction;
  trend: TrendResult;
  score: ScoreResult;
}

export interface OrgAssessment {
  asOf: IsoDate;
  model: LateModel;
  orgSdDays: number;
  customers: CustomerAssessment[];
}

/** Scores every non-deleted customer as of `asOf`, riskiest (lowest score) first. */
export function scoreOrganisation(input: OrgInput, asOf: IsoDate): CustomerScore[] {
  // Only the results are kept: each customer's features, prediction and trend are dropped as soon as its
  // result is made (keeping them for 1M-invoice ledgers cost more in garbage collection than computing them).
  const ledger = restrictToAsOf(withinHorizon(input, asOf), asOf);
  const model = fitLateModel(ledger);
  // The pooled SD straight from the invoices: each customer's observations are built once, for its features, and
  // dropped with them (kept for every customer until the end they cost more in garbage collection).
  const orgSdDays = pooledSettledSd(ledger.contacts.map((c) => ledger.invoicesByContact.get(c.id) ?? []));
  const results = ledger.contacts.map((contact) => assessCustomer(ledger, contact, model, orgSdDays).result);
  return results.sort(riskiestFirst);
}

/** Like `scoreOrganisation`, keeping the features, prediction, trend and score factors behind each result. */
export function assessOrganisation(input: OrgInput, asOf: IsoDate): OrgAssessment {
  return assessLedger(restrictToAsOf(withinHorizon(input, asOf), asOf));
}

export function assessLedger(ledger: LedgerAsOf, options?: LateModelOptions): OrgAssessment {
  const model = fitLateModel(ledger, options);
  const orgSdDays = pooledWithinSd(observationsByCustomer(ledger));
  const customers = ledger.contacts.map((contact) => assessCustomer(ledger, contact, model, orgSdDays));
  customers.sort((a, b) => riskiestFirst(a.result, b.result));
  return { asOf: ledger.asOf, model, orgSdDays, customers };
}

/** Each customer's observations (features.ts), one customer at a time, in contact order. */
function* observationsByCustomer(ledger: LedgerAsOf): Generator<Observation[]> {
  for (const c of ledger.contacts)
    yield observationsOf(ledger.invoicesByContact.get(c.id) ?? [], ledger.asOfDay);
}

function assessCustomer(
  ledger: LedgerAsOf,
  contact: MonitorContact,
  model: LateModel,
  orgSdDays: number,
  observations?: Observation[],
): CustomerAssessment {
  const f = customerFeatures(ledger, contact, observations);
  const invoices = ledger.invoicesByContact.get(contact.id) ?? [];
  const state = customerStates(invoices, [ledger.asOfDay], model.prior, model.options)[0]!;
  const prediction = predictLate(model, state);
  const trend = detectTrend(trendSeries(invoices, ledger.asOfDay), orgSdDays, undefined, ledger.asOfDay);
  const score = scoreCustomer(f, prediction, trend, model.prior);
  const result: CustomerScore = {
    customer_id: contact.externalId,
    contact_id: contact.id,
    name: contact.name,
    score: score.score,
    grade: score.grade,
    late_probability: Math.round(prediction.probability * 10_000) / 10_000,
    trend: trend.trend,
    trend_change_days: trend.changeDays,
    trend_started_on: trend.startedOn,
    trend_onset_on: trend.onsetOn ?? null,
    reasons: score.reasons,
    outstanding: f.outstandingMinor,
    overdue: f.overdueMinor,
    currency: f.currency,
  };
  return { result, features: f, prediction, trend, score };
}

/** Lowest score first, then the higher late probability, then customer id. */
function riskiestFirst(a: CustomerScore, b: CustomerScore): number {
  return (
    a.score - b.score ||
    b.late_probability - a.late_probability ||
    (a.customer_id < b.customer_id ? -1 : a.customer_id > b.customer_id ? 1 : 0)
  );
}
