/**
 * The browser's import (`/import`), step by step: keep the uploaded files, show the header with the suggested
 * column mapping and date format, then check or import with the choices the person made, through the one
 * import entry point (importCsvLedger) the command line uses too.
 */
import { type DateFormatGuess, detectDateFormat, suggestInvoiceColumns } from "../../connectors/csv/detect";
import type { ColumnMap, DateFormat } from "../../connectors/csv/mapping";
import { type CsvSample, readCsvSample } from "../../connectors/csv/sample";
import type { Member } from "../dashboard/member";
import type { Deps } from "../deps";
import { NotFoundError, UserError } from "../errors";
import { orgsOf } from "../store/accounts";
import type { Organisation } from "../store/orgs";
import type { CsvImportOptions } from "./csv-types";
import {
  dropUpload,
  type StagedUpload,
  stagedUpload,
  stageUpload,
  type UploadKind,
  uploadsDir,
} from "./staging";
import { type ImportTarget, type ImportUploadResult, importCsvLedger } from "./upload";

/** Organisations this member may import into: CSV ledgers they own or keep the books of. */
export async function importableOrgs(deps: Deps, userId: string): Promise<Organisation[]> {
  return (await orgsOf(deps.store.db, userId))
    .filter((a) => a.org.provider === "csv" && a.role !== "viewer")
    .map((a) => a.org);
}

export async function stageFiles(
  deps: Deps,
  member: Member,
  files: Partial<Record<UploadKind, { name: string; data: Uint8Array }>>,
): Promise<StagedUpload> {
  if (!files.invoices || files.invoices.data.byteLength === 0)
    throw new UserError("no_invoices", "Choose the invoices file (CSV) to upload: it is required.", 422);
  for (const [kind, f] of Object.entries(files))
    if (f?.data.subarray(0, 8192).includes(0))
      throw new UserError(
        "not_csv",
        `${f.name} is not a CSV text file (it holds binary data): save the ${kind} from your system or spreadsheet as CSV and upload that.`,
        422,
      );
  const dir = uploadsDir(deps.config);
  const up = await stageUpload(dir, member.id, deps.clock.now(), files);
  const sample = await readCsvSample(up.files.invoices, 1);
  if (sample.problem) {
    await dropUpload(dir, up.id);
    throw new UserError("not_csv", `${up.names.invoices}: ${sample.problem}`, 422);
  }
  return up;
}

async function staged(deps: Deps, member: Member, id: string): Promise<StagedUpload> {
  const up = await stagedUpload(uploadsDir(deps.config), id, member.id, deps.clock.now());
  if (!up) throw new NotFoundError("upload (it may have been imported already, or be more than a day old)");
  return up;
}

export interface UploadView {
  upload: StagedUpload;
  invoices: CsvSample;
  /** Canonical invoices.csv column -> the file's column suggested for it. */
  suggested: Record<string, string | null>;
  dates: DateFormatGuess;
  orgs: Organisation[];
}

const DATE_COLUMNS = ["issue_date", "due_date", "paid_date"];

/** The uploaded invoices file's header, first rows and the suggestions, and where it may go. */
export async function inspectStaged(deps: Deps, member: Member, id: string): Promise<UploadView> {
  const upload = await staged(deps, member, id);
  const invoices = await readCsvSample(upload.files.invoices);
  const suggested = suggestInvoiceColumns(invoices.header);
  const samples: string[] = [];
  for (const c of DATE_COLUMNS) {
    const i = suggested[c] ? invoices.header.indexOf(suggested[c]!) : -1;
    if (i >= 0) for (const r of invoices.rows) samples.push(r[i] ?? "");
  }
  if (upload.files.payments) {
    const pay = await readCsvSample(upload.files.payments);
    const i = pay.header.findIndex((h) => h.toLowerCase() === "payment_date");
    if (i >= 0) for (const r of pay.rows) samples.push(r[i] ?? "");
  }
  return {
    upload,
    invoices,
    suggested,
    dates: detectDateFormat(samples),
    orgs: await importableOrgs(deps, member.id),
  };
}

export interface UploadChoices {
  target: ImportTarget;
  map: ColumnMap;
  dateFormat: DateFormat;
}

/** Checks (writing nothing) or imports the uploaded files with the member's choices; an import drops the files. */
export async function runStaged(
  deps: Deps,
  member: Member,
  id: string,
  choices: UploadChoices,
  mode: "check" | "import",
  onProgress?: CsvImportOptions["onProgress"],
): Promise<ImportUploadResult> {
  const upload = await staged(deps, member, id);
  const result = await importCsvLedger(deps, {
    files: upload.files,
    target: choices.target,
    by: { member },
    map: choices.map,
    dateFormat: choices.dateFormat,
    check: mode === "check",
    onProgress,
  });
  if (mode === "import" && result.ok) await dropUpload(uploadsDir(deps.config), id);
  return result;
}
