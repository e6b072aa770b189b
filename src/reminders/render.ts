/**
 * Rendering: merge fields from ledger rows, then liquidjs with strict variables and filters. HTML parts escape
 * every output ("escape"); text and subject parts do not (they are not HTML). Templates come from the
 * in-memory bundle of templates/reminders/<name>.<part>.liquid (src/templates/bundle.gen.ts) unless the
 * organisation stored an override (reminder_templates). Each part is wrapped in the layout of its kind
 * (layout.html / layout.text), which lists the invoices. Engines are sandboxed (src/templates/sandbox.ts).
 */

import type { Liquid, Template } from "liquidjs";
import { formatDate, formatMoney } from "../format";
import type { IsoDate } from "../model";
import { TEMPLATE_NAME_RE } from "../model/reminders";
import {
  bundled,
  MAX_TEMPLATE_CHARS,
  RENDER_BUDGET_MS,
  sandboxedLiquid,
  TemplateTooLarge,
} from "../templates/sandbox";
import type { PayView } from "./pay-links";
import type { PlannedInvoice } from "./plan";

/** The product's own text of a reminder template part ("overdue.html", "layout.text"), or "" if none. */
export function productTemplate(key: string): string {
  return bundled("reminders").get(key) ?? "";
}

export interface InvoiceFields {
  number: string;
  issue_date: IsoDate;
  issue_date_formatted: string;
  due_date: IsoDate;
  due_date_formatted: string;
  currency: string;
  amount: string;
  amount_due: string;
  days_overdue: number;
  pay_url: string | null;
  /** Late-payment charges approved on this invoice (formatted), or null when none apply. */
  late_charge: string | null;
}

/** The merge fields every reminder template gets (documented in README "Reminder templates"). */
export interface ReminderFields {
  subject?: string;
  org: { name: string; language: string };
  customer: { id: string; name: string; contact_name: string; email: string };
  sender: { name: string; email: string | null; phone: string | null };
  level: { number: number; name: string; template: string; days_overdue: number };
  invoices: InvoiceFields[];
  invoice_count: number;
  totals: { currency: string; amount_due: string }[];
  total_due: string;
  links: { customer_page: string | null; unsubscribe: string | null };
  /** How to pay: the organisation's bank details, when a listed invoice has no pay link (else null). */
  payment: { bank_details: string | null };
  today: string;
  /** Reminders this customer was sent before this one (accepted by the SMTP server), and when the last went. */
  previous_reminders: {
    count: number;
    last_sent_date: IsoDate | null;
    last_sent_date_formatted: string | null;
  };
  /** True when this is the first reminder the customer gets: word it as a first email at every level. */
  is_first_contact: boolean;
  /** Days between the final notice and a credit hold (HOLD_NOTICE_DAYS). */
  hold_notice_days: number;
  /** Scheduled statements only (template "statement"): the period and how many listed invoices are disputed. */
  statement?: { period: string; disputed_count: number };
  /** Late-payment charges approved on the listed invoices; null until one applies. */
  late_charges: { total: string; items: { invoice_number: string; amount: string }[] } | null;
  hold: {
    action: string;
    reason: string;
    date_formatted: string;
    writeback: string;
    /** The holds view, where a proposal is approved or dismissed. */
    review_url?: string;
  } | null;
}

export interface RenderedMail {
  subject: string;
  html: string;
  text: string;
}

export interface FieldSource {
  org: { name: string; locale: string };
  customer: { externalId: string; name: string; to: string[] };
  sender: { email: string | null; phone: string | null };
  level: { level: number; name: string; template: string };
  invoices: Pick<PlannedInvoice, "invoice" | "daysOverdue">[];
  links: { customerPage: string | null; unsubscribe: string | null };
  today: IsoDate;
  /** What the customer was sent before (absent = nothing: a first contact). */
  history?: ReminderHistory;
  holdNoticeDays?: number;
  hold?: ReminderFields["hold"];
  /** Pay links and bank details (src/reminders/pay-links.ts payView); absent = none. */
  pay?: PayView;
  /** Approved late-payment charges per invoice id (minor units of the invoice's currency). */
  charges?: ReadonlyMap<string, number>;
}

export interface ReminderHistory {
  count: number;
  /** The customer's local date the last one went. */
  lastSentDate: IsoDate | null;
}

export function buildFields(src: FieldSource): ReminderFields {
  const locale = src.org.locale;
  const totals = new Map<string, number>();
  for (const p of src.invoices)
    totals.set(p.invoice.currency, (totals.get(p.invoice.currency) ?? 0) + p.invoice.amountDueMinor);
  const totalList = [...totals].map(([currency, minor]) => ({
    currency,
    amount_due: formatMoney({ minor, currency }, locale),
  }));
  return {
    org: { name: src.org.name, language: locale.split("-")[0] ?? "en" },
    customer: {
      id: src.customer.externalId,
      name: src.customer.name,
      contact_name: src.customer.name,
      email: src.customer.to[0] ?? "",
    },
    sender: { name: src.org.name, email: src.sender.email, phone: src.sender.phone },
    level: {
      number: src.level.level,
      name: src.level.name,
      template: src.level.template,
      days_overdue: Math.max(0, ...src.invoices.map((p) => p.daysOverdue)),
    },
    invoices: src.invoices.map(({ invoice: i, daysOverdue }) => ({
      number: i.number,
      issue_date: i.issueDate,
      issue_date_formatted: formatDate(i.issueDate, locale),
      due_date: i.dueDate,
      due_date_formatted: formatDate(i.dueDate, locale),
      currency: i.currency,
      amount: formatMoney({ minor: i.totalMinor, currency: i.currency }, locale),
      amount_due: formatMoney({ minor: i.amountDueMinor, currency: i.currency }, locale),
      days_overdue: daysOverdue,
      pay_url: src.pay?.links.get(i.id) ?? null,
      late_charge: src.charges?.get(i.id)
        ? formatMoney({ minor: src.charges.get(i.id)!, currency: i.currency }, locale)
        : null,
    })),
    invoice_count: src.invoices.length,
    totals: totalList,
    total_due:
      totalList.map((t) => t.amount_due).join(" + ") || formatMoney({ minor: 0, currency: "GBP" }, locale),
    links: { customer_page: src.links.customerPage, unsubscribe: src.links.unsubscribe },
    payment: { bank_details: src.pay?.bankDetails ?? null },
    today: formatDate(src.today, locale),
    previous_reminders: {
      count: src.history?.count ?? 0,
      last_sent_date: src.history?.lastSentDate ?? null,
      last_sent_date_formatted: src.history?.lastSentDate
        ? formatDate(src.history.lastSentDate, locale)
        : null,
    },
    is_first_contact: (src.history?.count ?? 0) === 0,
    hold_notice_days: src.holdNoticeDays ?? 7,
    late_charges: lateCharges(src, locale),
    hold: src.hold ?? null,
  };
}

function lateCharges(src: FieldSource, locale: string): ReminderFields["late_charges"] {
  const charged = src.invoices.filter((p) => (src.charges?.get(p.invoice.id) ?? 0) > 0);
  if (charged.length === 0) return null;
  const byCurrency = new Map<string, number>();
  for (const p of charged)
    byCurrency.set(
      p.invoice.currency,
      (byCurrency.get(p.invoice.currency) ?? 0) + src.charges!.get(p.invoice.id)!,
    );
  return {
    total: [...byCurrency].map(([currency, minor]) => formatMoney({ minor, currency }, locale)).join(" + "),
    items: charged.map((p) => ({
      invoice_number: p.invoice.number,
      amount: formatMoney({ minor: src.charges!.get(p.invoice.id)!, currency: p.invoice.currency }, locale),
    })),
  };
}

type Part = "subject" | "html" | "text";

export interface ReminderRenderer {
  render(template: string, fields: ReminderFields): Promise<RenderedMail>;
}

export interface RendererOptions {
  /** Organisation overrides: "<name>.<part>" -> liquid source (reminder_templates). */
  overrides?: ReadonlyMap<string, string>;
}

/** A template that could not be rendered: which part, and liquidjs's message (with its line and column). */
export class TemplateRenderError extends Error {
  constructor(
    readonly key: string,
    readonly detail: string,
    readonly overridden: boolean,
  ) {
    super(`${key}${overridden ? " (this organisation's version)" : ""}: ${detail}`);
    this.name = "TemplateRenderError";
  }
}

const isLimitError = (e: unknown) => e instanceof Error && /limit exceeded/.test(e.message);

/**
 * Renders reminder emails from the in-memory template bundle (src/templates/bundle.gen.ts) and the
 * organisation's overrides. Nothing here reads a file. One email (all five parts) shares one render budget; a
 * part that ran out of it, or out of memory, fails at once on later emails of the same renderer, so a bad
 * stored template cannot hold a run or a page for more than one budget.
 */
export function createReminderRenderer(opts: RendererOptions = {}): ReminderRenderer {
  const product = bundled("reminders");
  const htmlEngine = sandboxedLiquid({ partials: product, html: true });
  const textEngine = sandboxedLiquid({ partials: product, html: false });
  const parsed = new Map<string, Template[]>();
  const poisoned = new Map<string, TemplateRenderError>();

  function source(name: string, part: Part | "layout.html" | "layout.text"): { key: string; src: string } {
    const key = part.startsWith("layout") ? part : `${name}.${part}`;
    const override = opts.overrides?.get(key);
    if (override !== undefined) return { key, src: override };
    const src = product.get(key);
    if (src === undefined) throw new Error(`reminder template ${key} not found`);
    return { key, src };
  }

  async function renderPart(
    engine: Liquid,
    name: string,
    part: Part | "layout.html" | "layout.text",
    scope: object,
    deadline: number,
  ): Promise<string> {
    const { key, src } = source(name, part);
    const overridden = opts.overrides?.has(key) ?? false;
    const id = `${engine === htmlEngine ? "h" : "t"}\u0000${src}`;
    const known = poisoned.get(id);
    if (known) throw known;
    try {
      if (src.length > MAX_TEMPLATE_CHARS) throw new TemplateTooLarge(src.length);
      let tpl = parsed.get(id);
      if (!tpl) {
        tpl = engine.parse(src);
        parsed.set(id, tpl);
      }
      const renderLimit = Math.max(1, deadline - performance.now());
      return String(await engine.render(tpl, scope, { renderLimit }));
    } catch (e) {
      const err = new TemplateRenderError(key, e instanceof Error ? e.message : String(e), overridden);
      if (isLimitError(e) || e instanceof TemplateTooLarge) poisoned.set(id, err);
      throw err;
    }
  }

  return {
    async render(template, fields) {
      if (!TEMPLATE_NAME_RE.test(template))
        throw new Error(`invalid template name ${JSON.stringify(template)}`);
      const started = performance.now();
      const deadline = started + RENDER_BUDGET_MS;
      try {
        const subject = (await renderPart(textEngine, template, "subject", fields, deadline))
          .replace(/[\r\n]+/g, " ")
          .trim();
        const scope = { ...fields, subject };
        const htmlBody = await renderPart(htmlEngine, template, "html", scope, deadline);
        const textBody = await renderPart(textEngine, template, "text", scope, deadline);
        const html = await renderPart(
          htmlEngine,
          template,
          "layout.html",
          { ...scope, content: htmlBody },
          deadline,
        );
        const text = await renderPart(
          textEngine,
          template,
          "layout.text",
          { ...scope, content: textBody },
          deadline,
        );
        return { subject, html, text: `${text.replace(/\n{3,}/g, "\n\n").trim()}\n` };
      } finally {
        // A slow template gives the event loop a turn, so a run or a page of renders never holds it for long.
        if (performance.now() - started > 20) await new Promise((resolve) => setTimeout(resolve, 0));
      }
    },
  };
}
