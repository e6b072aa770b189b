/** Pieces the dashboard pages share: grades, trends, money, the signed-in header and change confirmations. */
import type { Context } from "hono";
import { trendWords } from "../dashboard/trend-words";
import { formatMoney } from "../format";
import { type AppEnv, currentUser } from "./auth";

/** Money on the pages: the one formatter (src/format.ts), in the organisation's locale. */
export function money(minor: number, currency: string, locale = "en-GB"): string {
  return formatMoney({ minor, currency }, locale);
}

/** The Layout's signed-in header props. */
export const signed = (c: Context<AppEnv>) => ({ signedIn: true, email: currentUser(c).email });

const TREND_ARROW: Record<string, { glyph: string; label: string; cls: string }> = {
  deteriorating: { glyph: "↘", label: "deteriorating", cls: "bad" },
  improving: { glyph: "↗", label: "improving", cls: "ok" },
  stable: { glyph: "→", label: "stable", cls: "muted" },
  insufficient_data: { glyph: "·", label: "too few invoices", cls: "muted" },
};

/**
 * The trend and its change, worded together (src/dashboard/trend-words.ts): "↘ deteriorating · 5 days later".
 * `compact` (the risk list) shows the change alone when there is one: "↘ 5 days later".
 */
export function Trend(props: { trend: string | null; changeDays?: number | null; compact?: boolean }) {
  const w = trendWords(props.trend, props.changeDays ?? null);
  if (!w) return <span class="muted">–</span>;
  const t = TREND_ARROW[w.word] ?? { glyph: "·", label: w.word, cls: "muted" };
  return (
    <span class={`trend ${t.cls}`} title={w.sentence} data-trend={w.word}>
      <span aria-hidden="true">{t.glyph}</span>{" "}
      {props.compact && w.change ? (
        <>
          <span class="sr-only">{w.word}, </span>
          {w.change}
        </>
      ) : (
        <>
          {t.label}
          {w.change ? ` · ${w.change}` : null}
        </>
      )}
    </span>
  );
}

export function Grade(props: { grade: string | null }) {
  return props.grade ? (
    <span class={`grade grade-${props.grade}`}>{props.grade}</span>
  ) : (
    <span class="muted">–</span>
  );
}

/**
 * What a change's confirmation says. `?done=` carries only one of these codes (and, for a reminders run, two
 * counts), never text: a link cannot make the page say anything else.
 */
const DONE: Record<string, string> = {
  chasing_resumed: "Chasing resumed.",
  chasing_paused: "Chasing paused.",
  dispute_resolved: "Dispute resolved: the invoice is chased and counted again.",
  opted_out: "This customer will get no reminders.",
  opted_in: "Reminders are on again.",
  credit_limit_set: "Credit limit saved.",
  credit_limit_removed: "Credit limit removed.",
  customer_policy: "Reminder policy saved.",
  reminder_address_set: "Reminder address saved: reminders go there.",
  reminder_address_cleared: "Reminders go to the ledger's addresses.",
  excluded: "Excluded: no reminders and no automatic holds.",
  included: "Included in reminders again.",
  reminders_run: "Reminders run: {sent} sent, {failed} failed.",
  window_saved: "Sending window saved.",
  policy_saved: "Policy saved.",
  template_saved: "Template saved.",
  payment_saved: "Payment settings saved.",
  charges_saved: "Charges and SMS settings saved.",
  mail_saved: "Mail settings saved.",
  mail_test_sent: "Test email sent to you: check your inbox.",
};

export function Notice(props: { c: Context }) {
  const text = DONE[props.c.req.query("done") ?? ""];
  if (!text) return null;
  const count = (k: string) => {
    const v = props.c.req.query(k) ?? "";
    return /^\d{1,7}$/.test(v) ? v : "0";
  };
  return (
    <p class="notice" role="status">
      {text.replace(/\{(sent|failed)\}/g, (_, k: string) => count(k))}
    </p>
  );
}

/** A one-button form that posts (`name=value`, when given) to `action`: approve, reject, remove, resend ... */
export function PostButton(props: {
  action: string;
  name?: string;
  value?: string;
  label: string;
  secondary?: boolean;
  /** What the button does, when its label alone does not say (several rows of the same buttons). */
  ariaLabel?: string;
}) {
  return (
    <form method="post" action={props.action} class="inline">
      {props.name ? <input type="hidden" name={props.name} value={props.value} /> : null}
      <button type="submit" class={props.secondary ? "secondary" : undefined} aria-label={props.ariaLabel}>
        {props.label}
      </button>
    </form>
  );
}
