/**
 * The credit monitor: pure functions from an organisation's ledger rows and an `asOf` date to one score per
 * customer. No store, no clock: the same (input, asOf) always gives the same result, and scoring the full
 * ledger as of D gives exactly the result of the ledger as it stood on D.
 */
import type { IsoDate } from "../model";
import { type LedgerAsOf, restrictToAsOf } from "./as-of";
import { type CustomerFeatures, customerFeatures } from "./features";
import {
  customerStates,
  fitLateModel,
  type LateModel,
  type LateModelOptions,
  type LatePrediction,
  predictLate,
} from "./predict";
import { type ScoreResult, scoreCustomer } from "./score";
import { detectTrend, pooledWithinSd, type TrendResult, trendSeries } from "./trend";
import type { CustomerScore, OrgInput } from "./types";

export { type CreditAsOf, dayNumber, type InvoiceAsOf, type LedgerAsOf, restrictToAsOf } from "./as-of";
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
export {
  censoredExpectation,
  DEFAULT_TREND_OPTIONS,
  detectEpisodes,
  detectTrend,
  type Episode,
  isNewEpisode,
  pooledWithinSd,
  type TrendOptions,
  type TrendPoint,
  type TrendResult,
  type TrendSnapshot,
  trendSeries,
} from "./trend";
export * from "./types";

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
  return assessOrganisation(input, asOf).customers.map((c) => c.result);
}

/** Like `scoreOrganisation`, keeping the features, prediction, trend and score factors behind each result. */
export function assessOrganisation(input: OrgInput, asOf: IsoDate): OrgAssessment {
  return assessLedger(restrictToAsOf(input, asOf));
}

export function assessLedger(ledger: LedgerAsOf, options?: LateModelOptions): OrgAssessment {
  const model = fitLateModel(ledger, options);
  const features = ledger.contacts.map((c) => customerFeatures(ledger, c));
  const orgSdDays = pooledWithinSd(features.map((f) => f.observations));
  const customers: CustomerAssessment[] = ledger.contacts.map((contact, i) => {
    const f = features[i]!;
    const invoices = ledger.invoicesByContact.get(contact.id) ?? [];
    const state = customerStates(invoices, [ledger.asOfDay], model.prior, model.options)[0]!;
    const prediction = predictLate(model, state);
    const trend = detectTrend(trendSeries(invoices, ledger.asOfDay), orgSdDays);
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
      reasons: score.reasons,
      outstanding: f.outstandingMinor,
      overdue: f.overdueMinor,
      currency: f.currency,
    };
    return { result, features: f, prediction, trend, score };
  });
  customers.sort(
    (a, b) =>
      a.result.score - b.result.score ||
      b.result.late_probability - a.result.late_probability ||
      (a.result.customer_id < b.result.customer_id
        ? -1
        : a.result.customer_id > b.result.customer_id
          ? 1
          : 0),
  );
  return { asOf: ledger.asOf, model, orgSdDays, customers };
}
