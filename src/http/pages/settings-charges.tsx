/**
 * The "Charges and SMS" section of the settings page (`/orgs/<slug>/settings`) and its form
 * (`POST /orgs/<slug>/settings/charges`, bookkeeper or owner): the late-payment charge rule (off by default),
 * DRAFT or AUTHORISED for charge invoices written to Xero, the ledger account / item of the charge line, and the
 * SMS template. A bad value re-renders the same form with 422, the message beside its field (aria-describedby)
 * and what the member typed kept. (A local version of the form-error pattern until the shared helper lands.)
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import { type ChargesSettingsInput, chargesSettingsView, saveChargesSettings } from "../../dashboard/charges";
import type { Deps } from "../../deps";
import { formatMinor, isCurrencyCode, parseDecimalToMinor } from "../../model";
import type { ChargeRule } from "../../reminders/charges";
import { SMS_MAX_CHARS } from "../../sms/sender";
import type { OrgAccess } from "../../store/accounts";
import type { Organisation } from "../../store/orgs";
import { type AppEnv, orgAccess, requireRole } from "../auth";
import { signed } from "../components";
import { Field, FieldError, type FieldErrors, FormProblem, fieldAttrs } from "../form";
import { memberOf, text } from "../input";
import { Layout, OrgNav } from "../layout";

/** What the form shows: the saved values, or what the member typed. */
type Typed = Record<
  | "rule_kind"
  | "fees"
  | "fee_currency"
  | "rate_pct"
  | "grace_days"
  | "base_rate_pct"
  | "ledger_status"
  | "ledger_account"
  | "sms_template",
  string
>;

const formInput = z.object({
  rule_kind: text,
  fees: text,
  fee_currency: text,
  rate_pct: text,
  grace_days: text,
  base_rate_pct: text,
  ledger_status: text,
  ledger_account: text,
  sms_template: text,
});

/** "8.25" (percent, up to two decimals) as basis points, or undefined. */
const basisPoints = (s: string) => parseDecimalToMinor(s.replace(/%$/, "").trim(), "USD");

/** The typed form as settings, or the problem with each bad field. */
export function parseChargesForm(
  t: Typed,
): { ok: true; value: ChargesSettingsInput } | { ok: false; errors: FieldErrors } {
  const errors: FieldErrors = {};
  let rule: ChargeRule | null = null;
  switch (t.rule_kind) {
    case "off":
    case "":
      break;
    case "fixed": {
      const currency = t.fee_currency.trim().toUpperCase();
      if (!isCurrencyCode(currency)) {
        errors.fee_currency = "Give the fees' currency as a three-letter code, like GBP.";
        break;
      }
      const parts = t.fees.split(/[,;\s]+/).filter(Boolean);
      const fees = parts.map((p) => parseDecimalToMinor(p, currency));
      if (parts.length === 0 || parts.length > 20 || fees.some((f) => f === undefined || f < 0))
        errors.fees = `List one fee per level (up to 20), separated by commas, like "15.00, 25.00" in ${currency}.`;
      else rule = { kind: "fixed", currency, feePerLevel: fees as number[] };
      break;
    }
    case "percent": {
      const rate = basisPoints(t.rate_pct);
      const grace = Number(t.grace_days.trim() || "0");
      if (rate === undefined || rate <= 0 || rate > 10_000)
        errors.rate_pct = "Give the yearly rate as a percentage above 0 and at most 100, like 8 or 8.25.";
      if (!Number.isInteger(grace) || grace < 0 || grace > 365)
        errors.grace_days = "Give the grace period in whole days, 0 to 365.";
      if (!errors.rate_pct && !errors.grace_days)
        rule = { kind: "percent", ratePerAnnumBp: rate!, graceDays: grace };
      break;
    }
    case "uk-statutory": {
      const base = basisPoints(t.base_rate_pct);
      if (base === undefined || base < 0 || base > 2_000)
        errors.base_rate_pct = "Give the Bank of England base rate as a percentage, 0 to 20, like 4.75.";
      else rule = { kind: "uk-statutory", baseRateBp: base };
      break;
    }
    default:
      errors.rule_kind = "Choose off, a fixed fee per level, a yearly percentage or UK statutory interest.";
  }
  if (t.ledger_status !== "DRAFT" && t.ledger_status !== "AUTHORISED")
    errors.ledger_status = "Choose DRAFT or AUTHORISED.";
  const account = t.ledger_account.trim();
  if (account.length > 40 || /[^\w .-]/.test(account))
    errors.ledger_account =
      "An account code or item id is at most 40 letters, digits, spaces, dots or dashes.";
  const sms = t.sms_template.trim();
  if (sms.length > 1000) errors.sms_template = "The SMS template is too long (1,000 characters at most).";
  if (Object.keys(errors).length) return { ok: false, errors };
  return {
    ok: true,
    value: {
      rule,
      ledgerStatus: t.ledger_status as "DRAFT" | "AUTHORISED",
      ledgerAccount: account || null,
      smsTemplate: sms || null,
    },
  };
}

function typedFromSaved(v: Awaited<ReturnType<typeof chargesSettingsView>>, org: Organisation): Typed {
  const r = v.rule;
  const pct = (bp: number) => formatMinor(bp, "USD").replace(/\.00$/, "");
  return {
    rule_kind: r?.kind ?? "off",
    fees: r?.kind === "fixed" ? r.feePerLevel.map((f) => formatMinor(f, r.currency)).join(", ") : "",
    fee_currency: r?.kind === "fixed" ? r.currency : org.baseCurrency,
    rate_pct: r?.kind === "percent" ? pct(r.ratePerAnnumBp) : "",
    grace_days: r?.kind === "percent" ? String(r.graceDays) : "0",
    base_rate_pct: r?.kind === "uk-statutory" ? pct(r.baseRateBp) : "",
    ledger_status: v.ledger_status,
    ledger_account: v.ledger_account ?? "",
    sms_template: v.sms_template ?? "",
  };
}

/** One text field of the form, with its message beside it (ids `charges-<name>`, `charges-<name>-error`). */
function ChargesField(props: {
  name: keyof Typed;
  label: string;
  typed: Typed;
  errors: FieldErrors;
  ro: boolean;
  hint?: string;
}) {
  const err = props.errors[props.name];
  const id = `charges-${props.name}`;
  return (
    <Field id={id} label={props.label} error={err} hint={props.hint}>
      <input
        id={id}
        name={props.name}
        value={props.typed[props.name]}
        disabled={props.ro}
        {...fieldAttrs(id, err)}
      />
    </Field>
  );
}

/** The section, as the settings page shows it (`form` = a rejected submission to show again). */
export async function ChargesSection(props: {
  deps: Deps;
  org: Organisation;
  role: OrgAccess["role"];
  form?: { typed: Typed; errors: FieldErrors };
}) {
  const { org } = props;
  const v = await chargesSettingsView(props.deps, org);
  const typed = props.form?.typed ?? typedFromSaved(v, org);
  const errors = props.form?.errors ?? {};
  const ro = props.role === "viewer";
  const f = (name: keyof Typed, label: string, hint?: string) => (
    <ChargesField name={name} label={label} typed={typed} errors={errors} ro={ro} hint={hint} />
  );
  const smsErr = errors.sms_template;
  return (
    <section aria-labelledby="charges-h" id="charges">
      <h2 id="charges-h">Late-payment charges and SMS</h2>
      <p class="muted">
        {v.rule ? "Charges are on." : "Charges are off until you choose a rule."} A run proposes the charges
        due on each overdue invoice (never on a disputed invoice, nor one under a promise to pay that still
        stands), and nothing reaches the ledger until a bookkeeper or owner approves it on the{" "}
        <a href={`/orgs/${org.slug}/charges`}>charges page</a>.
        {org.provider === "csv"
          ? " This organisation's ledger is a CSV import: approved charges are recorded in Creditpulse only; add them to your books yourself."
          : ` Approved charges are written to ${org.provider === "xero" ? "Xero" : "QuickBooks"} as a new sales invoice naming the original.`}
      </p>
      <form method="post" action={`/orgs/${org.slug}/settings/charges`}>
        <p class="field">
          <label for="charges-rule_kind">Rule</label>
          <select
            id="charges-rule_kind"
            name="rule_kind"
            disabled={ro}
            {...fieldAttrs("charges-rule_kind", errors.rule_kind)}
          >
            {[
              ["off", "Off (no charges)"],
              ["fixed", "A fixed fee per reminder level"],
              ["percent", "A yearly percentage, pro rata, after a grace period"],
              ["uk-statutory", "UK statutory: 8% over base rate, plus £40 / £70 / £100 compensation"],
            ].map(([value, label]) => (
              <option value={value} selected={typed.rule_kind === value}>
                {label}
              </option>
            ))}
          </select>
          <FieldError id="charges-rule_kind" error={errors.rule_kind} />
        </p>
        <fieldset>
          <legend>Fixed fee per level</legend>
          {f("fees", "Fees, one per level", 'e.g. "15.00, 25.00, 40.00"')}
          {f("fee_currency", "Currency of the fees")}
        </fieldset>
        <fieldset>
          <legend>Yearly percentage</legend>
          {f("rate_pct", "Rate per year (%)")}
          {f("grace_days", "Grace period (days after the due date)")}
        </fieldset>
        <fieldset>
          <legend>UK statutory interest (GBP invoices)</legend>
          {f("base_rate_pct", "Bank of England base rate (%)", "statutory interest is 8% over it")}
        </fieldset>
        <p class="field">
          <label for="charges-ledger_status">Charge invoices in Xero are created as</label>
          <select id="charges-ledger_status" name="ledger_status" disabled={ro}>
            <option value="DRAFT" selected={typed.ledger_status !== "AUTHORISED"}>
              DRAFT (you approve them in Xero)
            </option>
            <option value="AUTHORISED" selected={typed.ledger_status === "AUTHORISED"}>
              AUTHORISED
            </option>
          </select>
          <span class="muted">
            {" "}
            QuickBooks has no drafts: its charge invoices are created without being emailed.
          </span>
        </p>
        {f(
          "ledger_account",
          "Account code (Xero) or item id (QuickBooks) of the charge line",
          "blank = the ledger's default",
        )}
        <p class="field">
          <label for="charges-sms_template">
            SMS template (levels marked "sms" send it; at most {SMS_MAX_CHARS} characters once filled in;
            blank = the built-in one)
          </label>
          <textarea
            id="charges-sms_template"
            name="sms_template"
            readonly={ro}
            aria-describedby="charges-sms-sample"
            {...fieldAttrs("charges-sms_template", smsErr)}
          >
            {typed.sms_template}
          </textarea>
          {smsErr ? (
            <FieldError id="charges-sms_template" error={smsErr} />
          ) : (
            <span class="muted" id="charges-sms-sample">
              A sample customer would get: “{v.sms_sample}”
              {v.sms_configured ? null : " (SMS is not configured on this install: set TWILIO_*.)"}
            </span>
          )}
        </p>
        {ro ? null : <button type="submit">Save charges and SMS</button>}
      </form>
    </section>
  );
}

export function chargesSettingsRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get("/api/orgs/:slug/settings/charges", async (c) => {
    const { org } = await orgAccess(c, deps);
    return c.json(await chargesSettingsView(deps, org));
  });

  app.post("/orgs/:slug/settings/charges", async (c: Context<AppEnv>) => {
    const access = await orgAccess(c, deps);
    requireRole(access, "bookkeeper");
    const typed = formInput.parse(await c.req.parseBody()) as Typed;
    const parsed = parseChargesForm(typed);
    const saved = parsed.ok ? await saveChargesSettings(deps, access.org, parsed.value, memberOf(c)) : parsed;
    if ("saved" in saved)
      return c.redirect(`/orgs/${access.org.slug}/settings?done=charges_saved#charges`, 303);
    const { org } = access;
    return c.html(
      <Layout title={`Settings · ${org.name}`} {...signed(c)}>
        <h1>{org.name}: settings</h1>
        <OrgNav slug={org.slug} current="settings" />
        <FormProblem failure={{ form: "charges", values: typed, errors: saved.errors }} form="charges" />
        <ChargesSection deps={deps} org={org} role={access.role} form={{ typed, errors: saved.errors }} />
      </Layout>,
      422,
    );
  });

  return app;
}
