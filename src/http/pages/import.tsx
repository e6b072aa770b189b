/**
 * `/import`: a CSV ledger from the browser. Upload the invoices file (and optionally payments and customers),
 * confirm or correct the suggested column mapping and date format, check (every bad row is listed and nothing
 * is written), then import through the same entry point as `creditpulse import` (src/import/upload.ts).
 * Only owners and bookkeepers import into an organisation; anyone signed in may start a new one, which they own.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import {
  CANONICAL_COLUMNS,
  DATE_FORMATS,
  type DateFormat,
  REQUIRED_COLUMNS,
} from "../../../connectors/csv/mapping";
import { afterResponse } from "../../after-response";
import type { Deps } from "../../deps";
import { UserError } from "../../errors";
import {
  importableOrgs,
  inspectStaged,
  runStaged,
  stageFiles,
  type UploadChoices,
  type UploadView,
} from "../../import/browser-upload";
import type { UploadKind } from "../../import/staging";
import type { ImportUploadResult } from "../../import/upload";
import type { Organisation } from "../../store/orgs";
import type { AppEnv } from "../auth";
import { signed } from "../components";
import { FieldError, fieldAttrs } from "../form";
import { memberOf, text } from "../input";
import { Layout } from "../layout";
import { streamImport } from "./import-progress";
import { ImportResultPanel, MappingForm, type MappingState } from "./import-views";

const FILE_LABEL: Record<UploadKind, string> = {
  invoices: "Invoices (required)",
  payments: "Payments (optional: one row per payment)",
  customers: "Customers (optional: names, emails, credit limits)",
};

function UploadForm(props: { orgs: Organisation[]; error?: string }) {
  return (
    <form method="post" action="/import" enctype="multipart/form-data" class="narrow">
      {(["invoices", "payments", "customers"] as const).map((k) => (
        <p class="field">
          <label for={`file-${k}`}>{FILE_LABEL[k]}</label>
          <input
            id={`file-${k}`}
            type="file"
            name={k}
            accept=".csv,text/csv"
            required={k === "invoices"}
            {...fieldAttrs(`file-${k}`, k === "invoices" ? props.error : undefined, "file-error")}
          />
          {k === "invoices" ? (
            <FieldError id="file-invoices" messageId="file-error" error={props.error} />
          ) : null}
        </p>
      ))}
      <p class="muted">
        Files up to 50 MB, with a header row. Columns may have your system's own names: you match them on the
        next page.{" "}
        {props.orgs.length
          ? `You can import into ${props.orgs.map((o) => o.name).join(", ")} or start a new organisation.`
          : "The import creates a new organisation, which you own."}
      </p>
      <p>
        <button type="submit">Upload and match columns</button>
      </p>
    </form>
  );
}

function page(c: Context<AppEnv>, title: string, body: unknown, status: 200 | 400 | 403 | 404 | 422 = 200) {
  return c.html(
    <Layout title={title} {...signed(c)}>
      <h1>{title}</h1>
      {body as never}
    </Layout>,
    status,
  );
}

const choiceInput = z.record(z.string(), z.unknown());

/** The mapper's fields, checked against the file's header; problems are keyed by field name. */
function readChoices(
  view: UploadView,
  raw: Record<string, unknown>,
): { state: MappingState; choices?: UploadChoices } {
  const s = (k: string) => text.parse(raw[k]).trim();
  const errors: Record<string, string> = {};
  const columns: Record<string, string> = {};
  const header = view.invoices.header;
  const taken = new Map<string, string>();
  for (const c of CANONICAL_COLUMNS.invoices) {
    const v = s(`col_${c}`);
    columns[c] = v;
    if (!v) {
      if (REQUIRED_COLUMNS.invoices.includes(c))
        errors[`col_${c}`] = `Required: choose the file's column for ${c}.`;
      continue;
    }
    if (!header.includes(v)) {
      errors[`col_${c}`] = `Unknown column "${v}": the file's columns are ${header.join(", ")}.`;
      continue;
    }
    const other = taken.get(v);
    if (other) errors[`col_${c}`] = `"${v}" is already used for ${other}: a column can be read once.`;
    else taken.set(v, c);
  }
  const unknownKeys = Object.keys(raw).filter(
    (k) => k.startsWith("col_") && !CANONICAL_COLUMNS.invoices.includes(k.slice(4)),
  );
  if (unknownKeys.length)
    errors.form = `Unknown column mapping ${unknownKeys.map((k) => k.slice(4)).join(", ")}: Creditpulse reads ${CANONICAL_COLUMNS.invoices.join(", ")}.`;
  const dateFormat = s("date_format");
  if (!(DATE_FORMATS as readonly string[]).includes(dateFormat))
    errors.date_format = `Choose how dates are written: ${DATE_FORMATS.join(", ")}.`;
  const org = s("org");
  const newName = s("new_name");
  const currency = s("new_currency").toUpperCase();
  const timezone = s("new_timezone");
  if (!org && !newName) errors.new_name = "Name the new organisation, or choose an existing one.";
  if (!org && currency && !/^[A-Z]{3}$/.test(currency))
    errors.new_currency = `"${currency}" is not a three-letter currency code such as GBP.`;
  const state: MappingState = { columns, dateFormat, org, newName, currency, timezone, errors };
  if (Object.keys(errors).length) return { state };
  const map: Record<string, string> = {};
  for (const [c, v] of Object.entries(columns)) if (v) map[c] = v;
  return {
    state,
    choices: {
      target: org
        ? { slug: org }
        : { newName, currency: currency || undefined, timezone: timezone || undefined },
      map,
      dateFormat: dateFormat as DateFormat,
    },
  };
}

function initialState(view: UploadView): MappingState {
  const columns: Record<string, string> = {};
  for (const c of CANONICAL_COLUMNS.invoices) columns[c] = view.suggested[c] ?? "";
  const base = view.upload.names.invoices?.replace(/\.[^.]*$/, "") ?? "";
  return {
    columns,
    dateFormat: view.dates.format ?? "",
    org: view.orgs[0]?.slug ?? "",
    newName: view.orgs.length
      ? ""
      : base.replace(/[_-]+/g, " ").replace(/\b[a-z]/g, (ch) => ch.toUpperCase()),
    currency: "",
    timezone: "UTC",
    errors: {},
  };
}

export function importRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.get("/import", async (c) => {
    const orgs = await importableOrgs(deps, memberOf(c).id);
    return page(c, "Import a CSV ledger", <UploadForm orgs={orgs} />);
  });

  app.post("/import", async (c) => {
    const member = memberOf(c);
    const body = await c.req.parseBody();
    const files: Partial<Record<UploadKind, { name: string; data: Uint8Array }>> = {};
    for (const k of ["invoices", "payments", "customers"] as const) {
      const f = body[k];
      if (f instanceof File && (f.size > 0 || f.name))
        files[k] = { name: f.name || `${k}.csv`, data: new Uint8Array(await f.arrayBuffer()) };
    }
    try {
      const up = await stageFiles(deps, member, files);
      return c.redirect(`/import/${up.id}`, 303);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      const orgs = await importableOrgs(deps, member.id);
      return page(c, "Import a CSV ledger", <UploadForm orgs={orgs} error={err.message} />, 422);
    }
  });

  app.get("/import/:id", async (c) => {
    const view = await inspectStaged(deps, memberOf(c), c.req.param("id"));
    return page(c, "Match your columns", <MappingForm view={view} state={initialState(view)} />);
  });

  app.post("/import/:id", async (c) => {
    const member = memberOf(c);
    const id = c.req.param("id");
    const view = await inspectStaged(deps, member, id);
    const raw = choiceInput.parse(await c.req.parseBody());
    const action = raw.action === "import" ? "import" : "check";
    const { state, choices } = readChoices(view, raw);
    const status = state.errors.form ? 400 : 422;
    if (!choices) return page(c, "Match your columns", <MappingForm view={view} state={state} />, status);
    let result: ImportUploadResult;
    // Every import is checked first (nothing written): bad rows come back on the form with a 422, and the
    // check's row count is the progress bar's total for the streamed import that follows.
    let checkedRows = 0;
    let seen = 0;
    try {
      result = await runStaged(deps, member, id, choices, "check", (p) => {
        if (p.phase === "validate") checkedRows += p.rows - seen;
        seen = p.rows;
      });
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      const withError = { ...state, errors: { form: err.message } };
      const code = err.status === 403 || err.status === 404 ? err.status : 422;
      return page(c, "Match your columns", <MappingForm view={view} state={withError} />, code);
    }
    if (!result.ok || action === "check")
      return page(
        c,
        "Match your columns",
        <MappingForm view={view} state={state} result={result} />,
        result.ok ? 200 : 422,
      );
    return streamImport(
      c,
      checkedRows,
      (onProgress) => runStaged(deps, member, id, choices, "import", onProgress),
      async (outcome) => {
        if (outcome instanceof Error || !outcome.ok) {
          if (outcome instanceof Error && !(outcome instanceof UserError))
            deps.log.error({ err: outcome }, "import failed");
          const why =
            outcome instanceof UserError
              ? outcome.message
              : outcome instanceof Error
                ? "something went wrong; nothing was imported"
                : `${outcome.issueCount} row(s) could not be imported (the file changed since the check?); nothing was written`;
          return (
            <section class="notice bad" role="alert" data-testid="import-failed">
              <p>The import stopped: {why}.</p>
              <p>
                <a href={`/import/${id}`}>Back to the column matching</a>
              </p>
            </section>
          );
        }
        if (outcome.orgId)
          await afterResponse(c, deps, "scores after an import", {
            job: "score",
            orgId: outcome.orgId,
            at: deps.clock.now(),
          });
        return (
          <>
            <h2>Imported</h2>
            <ImportResultPanel result={outcome} />
          </>
        );
      },
    );
  });

  return app;
}
