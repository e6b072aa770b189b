/** The column mapper, the check's report and the import's results (routes: ./import.tsx). */
import { CANONICAL_COLUMNS, DATE_FORMATS, REQUIRED_COLUMNS } from "../../../connectors/csv/mapping";
import { formatIssue } from "../../../connectors/csv/parse";
import type { UploadView } from "../../import/browser-upload";
import type { ImportUploadResult } from "../../import/upload";
import { FieldError, type FieldErrors, fieldAttrs } from "../form";

/** What the mapper form holds: the person's choices (kept when re-shown) and the problems, by field name. */
export interface MappingState {
  columns: Record<string, string>;
  dateFormat: string;
  org: string;
  newName: string;
  currency: string;
  timezone: string;
  errors: FieldErrors;
}

const MEANING: Record<string, string> = {
  customer_id: "your id for the customer",
  customer_name: "the customer's name",
  customer_email: "where reminders go",
  invoice_number: "unique per invoice",
  issue_date: "",
  due_date: "",
  currency: "ISO code; empty = base currency",
  total: "the invoice total",
  amount_paid: "",
  paid_date: "when fully paid",
  status: "void, or empty",
  disputed: "yes / no",
  pay_url: "the invoice's pay-now link",
};

const counts = (c: { created: number; updated: number; unchanged: number }) =>
  `${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged`;

function Issues(props: { result: Extract<ImportUploadResult, { ok: false }> }) {
  const { issues, issueCount } = props.result;
  return (
    <section class="problem" aria-labelledby="issues-h" data-testid="issues">
      <h2 id="issues-h">Nothing was imported: {issueCount} problem(s) to fix</h2>
      <p>Correct the file (or the column matching and date format above) and check again.</p>
      <ul>
        {issues.map((i) => (
          <li>
            <code>{formatIssue(i)}</code>
          </li>
        ))}
      </ul>
      {issueCount > issues.length ? <p>… and {issueCount - issues.length} more.</p> : null}
    </section>
  );
}

function Ready(props: { result: Extract<ImportUploadResult, { ok: true }> }) {
  const s = props.result.summary;
  return (
    <section class="notice" aria-labelledby="ready-h" data-testid="ready">
      <h2 id="ready-h">Every row is valid: nothing has been written yet</h2>
      <p>
        {s.organisation.created
          ? `A new organisation "${s.organisation.name}" will be created with `
          : `Into ${s.organisation.name}: `}
        {s.invoices.created} invoice(s) from {s.rows.read} row(s), {s.customers.created} customer(s) and{" "}
        {s.payments.created} payment(s). Invoices already there with the same number are updated; importing
        the same file again changes nothing.
      </p>
      {s.ignoredColumns.length ? <p>Columns not imported: {s.ignoredColumns.join(", ")}.</p> : null}
      {s.defaults.map((d) => (
        <p class="muted">Filled in: {d}</p>
      ))}
      <p>
        <button type="submit" name="action" value="import" form="mapping">
          Import {s.invoices.created} invoice(s)
        </button>
      </p>
    </section>
  );
}

export function MappingForm(props: { view: UploadView; state: MappingState; result?: ImportUploadResult }) {
  const { view, state } = props;
  const { header, rows, problem } = view.invoices;
  const e = state.errors;
  const sampleOf = (col: string) => {
    const i = header.indexOf(col);
    return i < 0
      ? ""
      : rows
          .slice(0, 3)
          .map((r) => r[i] ?? "")
          .filter(Boolean)
          .join(" · ");
  };
  return (
    <div>
      <p class="muted">
        Files: {Object.values(view.upload.names).join(", ")}. <a href="/import">Upload other files</a>
      </p>
      {problem ? <p class="problem">{problem}</p> : null}
      {props.result && !props.result.ok ? <Issues result={props.result} /> : null}
      {props.result?.ok ? <Ready result={props.result} /> : null}
      <form method="post" action={`/import/${view.upload.id}`} id="mapping">
        {e.form ? (
          <p class="problem" id="form-error" role="alert">
            {e.form}
          </p>
        ) : null}
        <fieldset>
          <legend>Organisation</legend>
          <p class="field">
            <label for="org">Import into</label>
            <select id="org" name="org" {...fieldAttrs("org", e.org)}>
              {view.orgs.map((o) => (
                <option value={o.slug} selected={state.org === o.slug}>
                  {o.name}
                </option>
              ))}
              <option value="" selected={state.org === ""}>
                A new organisation…
              </option>
            </select>
            <FieldError id="org" error={e.org} />
          </p>
          <p class="field">
            <label for="new_name">New organisation's name</label>
            <input
              id="new_name"
              name="new_name"
              value={state.newName}
              {...fieldAttrs("new_name", e.new_name)}
            />
            <FieldError id="new_name" error={e.new_name} />
          </p>
          <div class="filters">
            <p class="field">
              <label for="new_currency">Base currency (new)</label>
              <input
                id="new_currency"
                name="new_currency"
                value={state.currency}
                placeholder="from the first invoice"
                size={12}
                {...fieldAttrs("new_currency", e.new_currency)}
              />
              <FieldError id="new_currency" error={e.new_currency} />
            </p>
            <p class="field">
              <label for="new_timezone">Timezone (new)</label>
              <input id="new_timezone" name="new_timezone" value={state.timezone} size={18} />
            </p>
          </div>
        </fieldset>
        <fieldset>
          <legend>Columns of {view.upload.names.invoices}</legend>
          <div class="table-wrap">
            <style>
              {
                ".mapping select { width: 100%; max-width: 16rem; } .mapping code { overflow-wrap: anywhere; }"
              }
            </style>
            <table class="mapping">
              <thead>
                <tr>
                  <th scope="col">Creditpulse reads</th>
                  <th scope="col">from your column</th>
                  <th scope="col" class="hide-sm">
                    first values
                  </th>
                </tr>
              </thead>
              <tbody>
                {CANONICAL_COLUMNS.invoices.map((c) => {
                  const id = `col_${c}`;
                  const required = REQUIRED_COLUMNS.invoices.includes(c);
                  return (
                    <tr data-column={c}>
                      <td>
                        <label for={id}>
                          <code>{c}</code>
                          {required ? " *" : ""}
                        </label>
                        {MEANING[c] ? <small class="muted"> {MEANING[c]}</small> : null}
                      </td>
                      <td>
                        <select id={id} name={id} {...fieldAttrs(id, e[id])}>
                          <option value="">{required ? "— choose —" : "— not in this file —"}</option>
                          {header.map((h) => (
                            <option value={h} selected={state.columns[c] === h}>
                              {h}
                            </option>
                          ))}
                          {state.columns[c] && !header.includes(state.columns[c]!) ? (
                            <option value={state.columns[c]} selected>
                              {state.columns[c]}
                            </option>
                          ) : null}
                        </select>
                        <FieldError id={id} error={e[id]} />
                      </td>
                      <td class="hide-sm muted">{state.columns[c] ? sampleOf(state.columns[c]!) : ""}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </fieldset>
        <fieldset>
          <legend>Dates</legend>
          <p class="field">
            <label for="date_format">Dates are written</label>
            <select
              id="date_format"
              name="date_format"
              aria-describedby="date_format-why"
              {...fieldAttrs("date_format", e.date_format)}
            >
              <option value="" selected={!state.dateFormat}>
                — choose —
              </option>
              {DATE_FORMATS.map((f) => (
                <option value={f} selected={state.dateFormat === f}>
                  {f}
                </option>
              ))}
            </select>
            <small id="date_format-why" class="muted">
              Detected: {view.dates.format ?? "not sure"} ({view.dates.reason})
            </small>
            <FieldError id="date_format" error={e.date_format} />
          </p>
        </fieldset>
        <p>
          <button
            type="submit"
            name="action"
            value="check"
            class={props.result?.ok ? "secondary" : undefined}
          >
            Check every row
          </button>{" "}
          <span class="muted">Nothing is written until you import.</span>
        </p>
      </form>
    </div>
  );
}

export function ImportResultPanel(props: { result: Extract<ImportUploadResult, { ok: true }> }) {
  const s = props.result.summary;
  return (
    <section class="notice" data-testid="imported">
      <p>
        {s.organisation.created ? "Created" : "Updated"}{" "}
        <a href={`/orgs/${s.organisation.slug}`}>{s.organisation.name}</a>
        {props.result.owner ? ` (owner: ${props.result.owner})` : ""}.
      </p>
      <ul>
        <li>
          rows: {s.rows.read} read: {s.rows.created} created, {s.rows.updated} updated, {s.rows.unchanged}{" "}
          unchanged, {s.rows.ignored} ignored (empty)
        </li>
        <li>customers: {counts(s.customers)}</li>
        <li>invoices: {counts(s.invoices)}</li>
        <li>payments: {counts(s.payments)}</li>
        {s.ignoredColumns.length ? <li>columns not imported: {s.ignoredColumns.join(", ")}</li> : null}
      </ul>
      {(props.result.warnings ?? []).map((w) => (
        <p class="muted">Warning: {w}</p>
      ))}
      <p>
        <a href={`/orgs/${s.organisation.slug}`}>Open {s.organisation.name}</a> ·{" "}
        <a href="/">Back to the checklist</a>
      </p>
    </section>
  );
}
