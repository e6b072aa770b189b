/**
 * Column mapping and value formats for CSV ledgers exported by other systems. Everything here is pure (no file,
 * no store, no clock): the command line and a future browser upload both turn a header row plus options into a
 * column mapping, or into errors that say what is wrong.
 */
import { isIsoDate } from "../../src/model";

export type CsvFileKind = "invoices" | "payments" | "customers";

/** The columns Creditpulse reads from each file (README "CSV import"). */
export const CANONICAL_COLUMNS: Record<CsvFileKind, readonly string[]> = {
  invoices: [
    "customer_id",
    "customer_name",
    "customer_email",
    "invoice_number",
    "issue_date",
    "due_date",
    "currency",
    "total",
    "amount_paid",
    "paid_date",
    "status",
    "disputed",
    "pay_url",
  ],
  payments: ["invoice_number", "payment_date", "amount"],
  customers: ["customer_id", "customer_name", "customer_email", "credit_limit", "timezone"],
};

export const REQUIRED_COLUMNS: Record<CsvFileKind, readonly string[]> = {
  invoices: ["customer_id", "invoice_number", "issue_date", "due_date", "total"],
  payments: ["invoice_number", "payment_date", "amount"],
  customers: ["customer_id"],
};

export const DATE_FORMATS = ["YYYY-MM-DD", "DD/MM/YYYY", "MM/DD/YYYY"] as const;
export type DateFormat = (typeof DATE_FORMATS)[number];

/** canonical column -> the file's column name. */
export type ColumnMap = Record<string, string>;

/**
 * Parses `customer_id=customerID,issue_date=InvoiceDate` (the `--map` value) or the same pairs one per line
 * (a mapping file; `#` starts a comment). A mapping file may also be a JSON object `{ "customer_id": "customerID" }`.
 */
export function parseColumnMap(
  text: string,
  kind: CsvFileKind = "invoices",
): { map: ColumnMap; errors: string[] } {
  const map: ColumnMap = {};
  const errors: string[] = [];
  const known = CANONICAL_COLUMNS[kind];
  const add = (canonicalRaw: string, source: string, where: string) => {
    const canonical = canonicalRaw.trim().toLowerCase();
    const src = source.trim();
    if (!known.includes(canonical)) {
      errors.push(`${where}: unknown column "${canonicalRaw.trim()}": map one of ${known.join(", ")}`);
      return;
    }
    if (!src) {
      errors.push(`${where}: no source column given for ${canonical}`);
      return;
    }
    if (map[canonical] !== undefined && map[canonical] !== src) {
      errors.push(`${where}: ${canonical} is mapped twice ("${map[canonical]}" and "${src}")`);
      return;
    }
    map[canonical] = src;
  };
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    let obj: unknown;
    try {
      obj = JSON.parse(trimmed);
    } catch (e) {
      return { map, errors: [`mapping is not valid JSON: ${(e as Error).message}`] };
    }
    if (!obj || typeof obj !== "object" || Array.isArray(obj))
      return { map, errors: ["mapping JSON must be an object of canonical column -> file column"] };
    for (const [k, v] of Object.entries(obj)) {
      if (typeof v !== "string") errors.push(`"${k}": the file column must be a string`);
      else add(k, v, `"${k}"`);
    }
    return { map, errors };
  }
  const pairs = trimmed
    .split(/\r?\n/)
    .map((l) => l.replace(/#.*$/, ""))
    .flatMap((l) => l.split(","))
    .map((p) => p.trim())
    .filter(Boolean);
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq < 0) {
      errors.push(`"${pair}": expected canonical_column=FileColumn`);
      continue;
    }
    add(pair.slice(0, eq), pair.slice(eq + 1), `"${pair}"`);
  }
  return { map, errors };
}

export interface ColumnMapping {
  /** canonical column -> index in the record. */
  columns: Record<string, number>;
  /** Header columns nothing reads, listed in the import summary (never silently used). */
  ignored: string[];
  /** Header problems; the file must not be read when there are any. */
  errors: { column: string | null; reason: string }[];
}

/**
 * Resolves a header row: each canonical column comes from the column `map` names for it, else from the column
 * of the same name (case-insensitive). Duplicate column names, mapped columns the header lacks and missing
 * required columns are errors. `required` defaults to the file kind's required columns.
 */
export function resolveColumns(
  header: readonly string[],
  kind: CsvFileKind,
  map: ColumnMap = {},
  required: readonly string[] = REQUIRED_COLUMNS[kind],
): ColumnMapping {
  const errors: ColumnMapping["errors"] = [];
  const names = header.map((h) => h.trim());
  const byLower = new Map<string, number>();
  for (let i = 0; i < names.length; i++) {
    const lower = names[i]!.toLowerCase();
    if (!lower) continue;
    const first = byLower.get(lower);
    if (first !== undefined)
      errors.push({
        column: names[i]!,
        reason: `duplicate column "${names[i]}" (columns ${first + 1} and ${i + 1}): which one is meant is ambiguous`,
      });
    else byLower.set(lower, i);
  }
  const columns: Record<string, number> = {};
  const used = new Set<number>();
  for (const canonical of CANONICAL_COLUMNS[kind]) {
    const source = map[canonical];
    if (source !== undefined) {
      const i = byLower.get(source.trim().toLowerCase());
      if (i === undefined) {
        errors.push({
          column: canonical,
          reason: `mapped to "${source}", but the header has no such column (it has: ${names.filter(Boolean).join(", ")})`,
        });
        continue;
      }
      columns[canonical] = i;
      used.add(i);
      continue;
    }
    const i = byLower.get(canonical);
    // A same-named column that the mapping gave to another canonical column is not read twice by accident.
    if (i !== undefined && !Object.values(map).some((s) => s.trim().toLowerCase() === canonical)) {
      columns[canonical] = i;
      used.add(i);
    }
  }
  const missing = required.filter((c) => columns[c] === undefined && map[c] === undefined);
  if (missing.length)
    errors.push({
      column: missing.join(", "),
      reason: `missing required column(s)${Object.keys(map).length ? "" : ": name them in the header or map them with --map"}`,
    });
  const ignored = names
    .map((n, i) => (used.has(i) ? null : n || `(unnamed column ${i + 1})`))
    .filter((n): n is string => n !== null);
  return { columns, ignored, errors };
}

const SLASH_DATE_RE = /^(\d{1,2})\/(\d{1,2})\/(\d{2,4})$/;

/**
 * Reads a date written in `format` as an ISO date, or says why it cannot. Single-digit days and months
 * (1/5/2013) are accepted in the slash formats; two-digit years and dates in another format are refused.
 */
export function parseDateAs(
  text: string,
  format: DateFormat,
): { ok: true; date: string } | { ok: false; reason: string } {
  const bad = (why: string) => ({ ok: false as const, reason: `bad date "${text}": ${why}` });
  if (format === "YYYY-MM-DD") {
    if (isIsoDate(text)) return { ok: true, date: text };
    const m = SLASH_DATE_RE.exec(text);
    if (m) {
      const [a, b] = [Number(m[1]), Number(m[2])];
      if (a <= 12 && b <= 12 && a !== b)
        return bad(
          `expected YYYY-MM-DD; ${a}/${b} is ambiguous (day/month or month/day?): pass --date-format DD/MM/YYYY or MM/DD/YYYY`,
        );
      return bad(
        `expected YYYY-MM-DD; this looks like ${a > 12 ? "DD/MM/YYYY" : "MM/DD/YYYY"}: pass --date-format`,
      );
    }
    return bad("expected YYYY-MM-DD");
  }
  const m = SLASH_DATE_RE.exec(text);
  if (!m) return bad(`expected ${format}${isIsoDate(text) ? " (the file mixes date formats)" : ""}`);
  if (m[3]!.length !== 4)
    return bad(`the year "${m[3]}" is ambiguous (which century?): expected ${format} with a four-digit year`);
  const [first, second] = [Number(m[1]), Number(m[2])];
  const [month, day] = format === "MM/DD/YYYY" ? [first, second] : [second, first];
  if (month < 1 || month > 12)
    return bad(
      `month ${month} does not exist in ${format}: is the file ${format === "MM/DD/YYYY" ? "DD/MM/YYYY" : "MM/DD/YYYY"}?`,
    );
  const iso = `${m[3]}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
  if (!isIsoDate(iso)) return bad(`day ${day} does not exist in month ${month} of ${m[3]}`);
  return { ok: true, date: iso };
}

/**
 * The `disputed` column: yes/no, true/false, 1/0 (any case). Empty means "not stated" (undefined): an earlier
 * dispute is left as it is.
 */
export function parseDisputed(text: string): { ok: true; value: boolean | undefined } | { ok: false } {
  const t = text.trim().toLowerCase();
  if (t === "") return { ok: true, value: undefined };
  if (t === "yes" || t === "true" || t === "1") return { ok: true, value: true };
  if (t === "no" || t === "false" || t === "0") return { ok: true, value: false };
  return { ok: false };
}

/** Why an amount text is not a plain decimal, when a likely cause can be named. */
export function amountHint(text: string): string {
  if (/^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$/.test(text))
    return ": thousands separators are ambiguous (1,234 could be one thousand two hundred and thirty-four or 1.234): write 1234.50";
  if (/^[+-]?\d+,\d+$/.test(text))
    return ": a decimal comma is ambiguous: write the amount with a decimal point";
  if (/[^\d.+-]/.test(text))
    return ": write a plain decimal such as 1234.50, without currency signs or spaces";
  return "";
}
