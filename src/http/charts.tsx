/**
 * Charts drawn on the server as SVG: labelled (role="img", title and description), readable without JS. Text
 * sizes are in the viewBox's units and set in layout.tsx's CSS: larger on a phone, where the chart is drawn at
 * about half its viewBox width, so labels stay readable; layouts leave room for the larger text.
 */

const W = 640;

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "2026-02" (or an ISO date) as an axis label: "Feb 26". */
export function monthLabel(isoMonth: string): string {
  const y = isoMonth.slice(2, 4);
  const m = Number(isoMonth.slice(5, 7));
  return m >= 1 && m <= 12 ? `${MONTHS[m - 1]} ${y}` : isoMonth;
}

/** "2026-12-08" as a short axis label: "8 Dec". */
export function dayLabel(isoDate: string): string {
  const m = Number(isoDate.slice(5, 7));
  const d = Number(isoDate.slice(8, 10));
  return m >= 1 && m <= 12 && d >= 1 ? `${d} ${MONTHS[m - 1]}` : isoDate;
}

/** Money for an axis: "£12K", "€1.2M" (the exact figures are in the chart's description and tooltips). */
export function compactMoney(minor: number, currency: string, locale = "en-GB"): string {
  try {
    const digits =
      new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ??
      2;
    return new Intl.NumberFormat(locale, {
      style: "currency",
      currency,
      notation: "compact",
      maximumFractionDigits: 1,
    }).format(minor / 10 ** digits);
  } catch {
    return `${currency} ${minor}`;
  }
}
const PAD = { l: 56, r: 12, t: 16, b: 34 };

export interface Bar {
  label: string;
  value: number;
  text: string;
}

/**
 * Horizontal bars drawn in HTML (not SVG), so labels and values are page text: they wrap and scale with the page
 * on a phone like any other text. One labelled image for screen readers (the label lists every bar).
 */
export function BarChart(props: { title: string; bars: Bar[] }) {
  const max = Math.max(1, ...props.bars.map((b) => b.value));
  const desc = props.bars.map((b) => `${b.label}: ${b.text}`).join("; ");
  return (
    <div class="hbars" role="img" aria-label={`${props.title}. ${desc}`} title={props.title}>
      {props.bars.map((b, i) => (
        <div class="hbar">
          <span class="hbar-label">{b.label}</span>
          <span class="hbar-track">
            <span
              class={i >= 3 ? "hbar-fill bad" : "hbar-fill"}
              style={`width:${b.value > 0 ? Math.max(0.5, (b.value / max) * 100).toFixed(1) : 0}%`}
            />
          </span>
          <span class="hbar-val">{b.text}</span>
        </div>
      ))}
    </div>
  );
}

export interface Point {
  x: number;
  y: number;
  label?: string;
}

function scale(points: Point[], h: number, opts: { yMin?: number } = {}) {
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs, x0 + 1);
  const y0 = Math.min(opts.yMin ?? Number.POSITIVE_INFINITY, ...ys);
  const y1 = Math.max(...ys, y0 + 1);
  return {
    x: (v: number) => PAD.l + ((v - x0) / (x1 - x0)) * (W - PAD.l - PAD.r),
    y: (v: number) => h - PAD.b - ((v - y0) / (y1 - y0)) * (h - PAD.t - PAD.b),
    y0,
    y1,
  };
}

/** A line over labelled points (DSO by month); gaps where a value is missing. */
export function LineChart(props: {
  title: string;
  points: { label: string; value: number | null }[];
  unit: string;
}) {
  const h = 200;
  const known = props.points.map((p, i) => ({ x: i, y: p.value })).filter((p): p is Point => p.y !== null);
  if (known.length === 0) return <p class="muted">{props.title}: not enough data yet.</p>;
  const s = scale(known, h, { yMin: 0 });
  const path = known.map((p, i) => `${i ? "L" : "M"}${s.x(p.x).toFixed(1)},${s.y(p.y).toFixed(1)}`).join(" ");
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${h}`} role="img" aria-label={props.title}>
      <title>{props.title}</title>
      <desc>
        {props.points
          .map((p) => `${p.label}: ${p.value ?? "no data"}${p.value === null ? "" : ` ${props.unit}`}`)
          .join("; ")}
      </desc>
      <line x1={PAD.l} x2={W - PAD.r} y1={s.y(s.y0)} y2={s.y(s.y0)} class="grid" />
      <text x={PAD.l - 6} y={s.y(s.y1) + 4} text-anchor="end" class="axis">
        {Math.round(s.y1)}
      </text>
      <text x={PAD.l - 6} y={s.y(s.y0) + 4} text-anchor="end" class="axis">
        {Math.round(s.y0)}
      </text>
      <path d={path} class="line" />
      {known.map((p) => (
        <circle cx={s.x(p.x).toFixed(1)} cy={s.y(p.y).toFixed(1)} r="3" class="dot" />
      ))}
      {props.points.map((p, i) => {
        // Every other label counted back from the last (every fourth on a phone: "minor" ones hide there); the
        // last ends at the right edge so it is never clipped.
        const back = props.points.length - 1 - i;
        if (back % 2 === 1) return null;
        return (
          <text
            x={PAD.l + (i / Math.max(1, props.points.length - 1)) * (W - PAD.l - PAD.r)}
            y={h - 8}
            text-anchor={back === 0 && props.points.length > 1 ? "end" : "middle"}
            class={back % 4 === 0 ? "axis" : "axis minor"}
          >
            {p.label}
          </text>
        );
      })}
    </svg>
  );
}

/** Least-squares line through the points, or null with fewer than two distinct x. */
export function fitLine(points: Point[]): { slope: number; intercept: number } | null {
  const n = points.length;
  if (n < 2) return null;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

/** Days beyond terms per invoice (x: due date as day number) with the fitted trend. */
export function LatenessChart(props: { title: string; points: Point[]; xLabel: (x: number) => string }) {
  const h = 220;
  if (props.points.length === 0)
    return <p class="muted">{props.title}: no settled or overdue invoices yet.</p>;
  const s = scale(props.points, h, { yMin: 0 });
  const fit = fitLine(props.points);
  const xs = props.points.map((p) => p.x);
  const xa = Math.min(...xs);
  const xb = Math.max(...xs);
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${h}`} role="img" aria-label={props.title}>
      <title>{props.title}</title>
      <desc>
        {props.points.map((p) => `${p.label ?? props.xLabel(p.x)}: ${Math.round(p.y)} days`).join("; ")}
        {fit
          ? `. Trend: ${fit.slope * 30 >= 0 ? "+" : ""}${(fit.slope * 30).toFixed(1)} days per month.`
          : ""}
      </desc>
      <line x1={PAD.l} x2={W - PAD.r} y1={s.y(0)} y2={s.y(0)} class="grid" />
      <text x={PAD.l - 6} y={s.y(s.y1) + 4} text-anchor="end" class="axis">
        {Math.round(s.y1)}d
      </text>
      <text x={PAD.l - 6} y={s.y(0) + 4} text-anchor="end" class="axis">
        0
      </text>
      <text x={PAD.l} y={h - 8} class="axis">
        {props.xLabel(xa)}
      </text>
      <text x={W - PAD.r} y={h - 8} text-anchor="end" class="axis">
        {props.xLabel(xb)}
      </text>
      {props.points.map((p) => (
        <circle cx={s.x(p.x).toFixed(1)} cy={s.y(p.y).toFixed(1)} r="3.5" class={p.y > 0 ? "dot bad" : "dot"}>
          <title>{`${p.label ?? ""} ${Math.round(p.y)} days`}</title>
        </circle>
      ))}
      {fit ? (
        <line
          x1={s.x(xa).toFixed(1)}
          y1={s.y(Math.max(s.y0, fit.intercept + fit.slope * xa)).toFixed(1)}
          x2={s.x(xb).toFixed(1)}
          y2={s.y(Math.max(s.y0, fit.intercept + fit.slope * xb)).toFixed(1)}
          class="trend"
        />
      ) : null}
    </svg>
  );
}
