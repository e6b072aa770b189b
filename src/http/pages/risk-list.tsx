/**
 * The organisation page's customers by risk: one row per customer that fits two lines on a laptop (grade, name,
 * trend with its change, outstanding, overdue, oldest overdue and the main reason), every reason one click away
 * in place (<details>), the aging buckets shown on request (`?aging=1`, no script needed; they take the place of
 * the outstanding total, which is their sum), and stacked cards on a phone (CSS in layout.tsx, `table.stack`).
 */
import type { CustomerSummary } from "../../dashboard/organisation";
import type { AgingBucket } from "../../model";
import { AGING_BUCKETS } from "../../model";
import { Grade, Trend } from "../components";

/** A customer's row as the organisation page shows it (its score is not shown). */
export type RiskRow = Omit<CustomerSummary, "score">;

export const bucketLabel = (b: AgingBucket) => (b === "current" ? "Not yet due" : `${b} days`);

function Why(props: { reasons: string[] }) {
  const [main, ...rest] = props.reasons;
  if (!main) return <span class="muted">–</span>;
  return (
    <details>
      <summary title={rest.length ? `Show all ${props.reasons.length} reasons` : "Show the whole reason"}>
        <span class="clamp">{main}</span>
      </summary>
      {rest.length ? (
        <ul class="reasons">
          {rest.map((r) => (
            <li>{r}</li>
          ))}
        </ul>
      ) : null}
    </details>
  );
}

export function RiskTable(props: {
  slug: string;
  rows: RiskRow[];
  count: number;
  aging: boolean;
  money: (minor: number, currency: string) => string;
}) {
  const { rows, aging, money: m } = props;
  return (
    <div class="table-wrap">
      <table class="risk stack" data-aging={aging ? "shown" : "hidden"}>
        <caption class="muted">
          {props.count} customers, riskiest first{aging ? "; open balances by days past due" : ""}. Open a
          reason to read all of them.
        </caption>
        <thead>
          <tr>
            <th scope="col">Grade</th>
            <th scope="col">Customer</th>
            <th scope="col">Trend</th>
            {aging ? null : (
              <th scope="col" class="num">
                Outstanding
              </th>
            )}
            <th scope="col" class="num">
              Overdue
            </th>
            {aging
              ? AGING_BUCKETS.map((b) => (
                  <th scope="col" class="num">
                    {b === "current" ? "Current" : b}
                  </th>
                ))
              : null}
            <th scope="col" class="num">
              Oldest
            </th>
            <th scope="col">Main reason</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr data-customer={r.id}>
              <td class="grade-cell">
                <Grade grade={r.grade} />
              </td>
              <td class="name">
                <a href={`/orgs/${props.slug}/customers/${encodeURIComponent(r.id)}`}>{r.name}</a>
                {r.on_hold ? (
                  <>
                    {" "}
                    <span class="tag">on hold</span>
                  </>
                ) : null}
              </td>
              <td class="trend-cell">
                <Trend trend={r.trend} changeDays={r.trend_change_days} compact />
              </td>
              {aging ? null : (
                <td class="num" data-label="Outstanding">
                  {m(r.outstanding, r.currency)}
                </td>
              )}
              <td class={r.overdue > 0 ? "num bad" : "num"} data-label="Overdue">
                {m(r.overdue, r.currency)}
              </td>
              {aging
                ? AGING_BUCKETS.map((b) => (
                    <td class="num" data-label={bucketLabel(b)}>
                      {r.buckets[b] ? m(r.buckets[b], r.currency) : "–"}
                    </td>
                  ))
                : null}
              <td class="num" data-label="Oldest overdue">
                {r.oldest_overdue_days > 0 ? `${r.oldest_overdue_days} d` : "–"}
              </td>
              <td class="why">
                <Why reasons={r.reasons} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
