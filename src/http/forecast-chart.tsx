/**
 * The organisation page's cash-in forecast: expected collections per week for 13 weeks (bars) with the 10th-90th
 * percentile band (a whisker per week), in the base currency. Drawn on the server as SVG, labelled for screen
 * readers (title + description list every week), readable without JavaScript.
 */
import type { CurrencyForecast } from "../monitor/index";
import { compactMoney, dayLabel } from "./charts";

const W = 640;
const H = 210;
const PAD = { l: 84, r: 12, t: 16, b: 34 };

export function ForecastChart(props: {
  forecast: CurrencyForecast;
  money: (minor: number, currency: string) => string;
}) {
  const { forecast: f, money } = props;
  const cur = f.currency;
  const title = `Expected collections per week, ${cur}, with the 10-90% range`;
  if (f.invoices.length === 0) return <p class="muted">No open invoices in {cur}: nothing to forecast.</p>;
  const max = Math.max(1, ...f.weeks.map((w) => Math.max(w.p90, w.expected)));
  const n = f.weeks.length;
  const slot = (W - PAD.l - PAD.r) / n;
  const y = (v: number) => H - PAD.b - (v / max) * (H - PAD.t - PAD.b);
  const soon = f.weeks.slice(0, 4).reduce((a, w) => a + w.expected, 0);
  return (
    <figure class="forecast">
      <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        <title>{title}</title>
        <desc>
          {f.weeks
            .map(
              (w) =>
                `week of ${w.week_start}: ${money(w.expected, cur)} (${money(w.p10, cur)} to ${money(w.p90, cur)})`,
            )
            .join("; ")}
        </desc>
        <line x1={PAD.l} x2={W - PAD.r} y1={y(0)} y2={y(0)} class="grid" />
        <text x={PAD.l - 6} y={y(max) + 4} text-anchor="end" class="axis">
          {compactMoney(max, cur)}
        </text>
        <text x={PAD.l - 6} y={y(0) + 4} text-anchor="end" class="axis">
          0
        </text>
        {f.weeks.map((w, k) => {
          const x = PAD.l + k * slot;
          const mid = x + slot / 2;
          return (
            <g>
              <rect
                x={(x + slot * 0.15).toFixed(1)}
                y={y(w.expected).toFixed(1)}
                width={(slot * 0.7).toFixed(1)}
                height={Math.max(0, y(0) - y(w.expected)).toFixed(1)}
                class="bar"
              >
                <title>{`week of ${w.week_start}: ${money(w.expected, cur)} expected, 10-90%: ${money(w.p10, cur)} to ${money(w.p90, cur)}`}</title>
              </rect>
              <line
                x1={mid.toFixed(1)}
                x2={mid.toFixed(1)}
                y1={y(w.p10).toFixed(1)}
                y2={y(w.p90).toFixed(1)}
                class="trend"
              />
              {k % 3 === 0 ? (
                // The first label starts at its bar and the last ends at its bar, so neither is clipped; on a
                // phone only every sixth week is labelled ("minor" ones hide).
                <text
                  x={(k === 0 ? x + 2 : k === n - 1 ? x + slot - 2 : mid).toFixed(1)}
                  y={H - 10}
                  text-anchor={k === 0 ? "start" : k === n - 1 ? "end" : "middle"}
                  class={k % 6 === 0 || k === n - 1 ? "axis" : "axis minor"}
                >
                  {dayLabel(w.week_start)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <figcaption class="muted">
        Expected in the next 4 weeks: {money(soon, cur)}. Bars: expected per week from each open invoice's
        customer's own payment habits; lines: the 10-90% range.
      </figcaption>
    </figure>
  );
}
