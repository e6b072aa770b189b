/**
 * Rendering: merge fields from ledger rows, then liquidjs with strict variables and filters. HTML parts escape
 * every output ("escape"); text and subject parts do not (they are not HTML). Templates come from
 * templates/reminders/<name>.<part>.liquid unless the organisation stored an override (reminder_templates).
 * Each part is wrapped in the layout of its kind (layout.html / layout.text), which lists the invoices.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Liquid, type Template } from "liquidjs";
import { formatMoney, type IsoDate } from "../model";
import type { PlannedInvoice } from "./plan";
import { TEMPLATE_NAME_RE } from "./policy";

// On Workers the module URL is not a file URL: templates are not on disk there (see README), so the path is
// only resolved where it can be.
export const TEMPLATES_DIR = import.meta.url?.startsWith("file:")
  ? fileURLToPath(new URL("../../templates/reminders", import.meta.url))
  : "templates/reminders";

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
  today: string;
  hold: { action: string; reason: string; date_formatted: string; writeback: string } | null;
}

export interface RenderedMail {
  subject: string;
  html: string;
  text: string;
}

export function formatDate(date: IsoDate, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" }).format(
    new Date(`${date}T00:00:00Z`),
  );
}

/** Keeps only http(s) links: a ledger's pay URL must never become a `javascript:` link. */
export function safeUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === "https:" || u.protocol === "http:" ? u.toString() : null;
  } catch {
    return null;
  }
}

export interface FieldSource {
  org: { name: string; locale: string };
  customer: { externalId: string; name: string; to: string[] };
  sender: { email: string | null; phone: string | null };
  level: { level: number; name: string; template: string };
  invoices: Pick<PlannedInvoice, "invoice" | "daysOverdue">[];
  links: { customerPage: string | null; unsubscribe: string | null };
  today: IsoDate;
  hold?: ReminderFields["hold"];
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
      pay_url: safeUrl(i.payUrl),
    })),
    invoice_count: src.invoices.length,
    totals: totalList,
    total_due:
      totalList.map((t) => t.amount_due).join(" + ") || formatMoney({ minor: 0, currency: "GBP" }, locale),
    links: { customer_page: src.links.customerPage, unsubscribe: src.links.unsubscribe },
    today: formatDate(src.today, locale),
    hold: src.hold ?? null,
  };
}

type Part = "subject" | "html" | "text";

export interface ReminderRenderer {
  render(template: string, fields: ReminderFields): Promise<RenderedMail>;
}

export interface RendererOptions {
  templatesDir?: string;
  /** Organisation overrides: "<name>.<part>" -> liquid source (reminder_templates). */
  overrides?: ReadonlyMap<string, string>;
}

const fileCache = new Map<string, Promise<string>>();

export function createReminderRenderer(opts: RendererOptions = {}): ReminderRenderer {
  const dir = opts.templatesDir ?? TEMPLATES_DIR;
  const base = { strictVariables: true, strictFilters: true, ownPropertyOnly: true, cache: false } as const;
  const htmlEngine = new Liquid({ ...base, outputEscape: "escape" });
  const textEngine = new Liquid({ ...base });
  const parsed = new Map<string, Template[]>();

  async function source(name: string, part: Part | "layout.html" | "layout.text"): Promise<string> {
    const key = part.startsWith("layout") ? part : `${name}.${part}`;
    const override = opts.overrides?.get(key);
    if (override !== undefined) return override;
    const path = `${dir}/${key}.liquid`;
    let p = fileCache.get(path);
    if (!p) {
      p = readFile(path, "utf8");
      fileCache.set(path, p);
      p.catch(() => fileCache.delete(path));
    }
    try {
      return await p;
    } catch {
      throw new Error(`reminder template ${key} not found`);
    }
  }

  async function renderPart(engine: Liquid, src: string, scope: object): Promise<string> {
    const key = `${engine === htmlEngine ? "h" : "t"}\u0000${src}`;
    let tpl = parsed.get(key);
    if (!tpl) {
      tpl = engine.parse(src);
      parsed.set(key, tpl);
    }
    return String(await engine.render(tpl, scope));
  }

  return {
    async render(template, fields) {
      if (!TEMPLATE_NAME_RE.test(template))
        throw new Error(`invalid template name ${JSON.stringify(template)}`);
      const subject = (await renderPart(textEngine, await source(template, "subject"), fields))
        .replace(/[\r\n]+/g, " ")
        .trim();
      const scope = { ...fields, subject };
      const htmlBody = await renderPart(htmlEngine, await source(template, "html"), scope);
      const textBody = await renderPart(textEngine, await source(template, "text"), scope);
      const html = await renderPart(htmlEngine, await source(template, "layout.html"), {
        ...scope,
        content: htmlBody,
      });
      const text = await renderPart(textEngine, await source(template, "layout.text"), {
        ...scope,
        content: textBody,
      });
      return { subject, html, text: `${text.replace(/\n{3,}/g, "\n\n").trim()}\n` };
    },
  };
}
