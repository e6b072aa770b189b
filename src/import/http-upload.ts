/**
 * CSV import over HTTP (`POST /api/orgs/:slug/imports`), through the same entry point as `creditpulse import`
 * and the browser (`importCsvLedger`, src/import/upload.ts: the same rights, checks, writes and figures): the
 * uploaded files are written to a private temporary folder under their own names (so every bad row is
 * reported as "invoices.csv line 12 ..." exactly as the CLI reports it) and imported from there, as the
 * member who uploaded them.
 * - Workers: the files go to R2 (`deps.uploads`) and one `import` message to the jobs queue; the consumer reads
 *   them back into workerd's in-memory /tmp and imports them there, retried by the queue on a transient failure.
 * - Node: the same steps run at once, in this process.
 * The upload's status (queued, running, done with the summary, failed with the bad rows) is kept in
 * `csv_uploads` for `GET /api/orgs/:slug/imports/:id`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ColumnMap, DATE_FORMATS, type DateFormat, parseColumnMap } from "../../connectors/csv/mapping";
import type { Deps } from "../deps";
import { UserError } from "../errors";
import { currencyCode } from "../model";
import { findUser } from "../store/accounts";
import {
  type CsvUpload,
  createCsvUpload,
  findCsvUpload,
  finishCsvUpload,
  newUploadId,
  startCsvUpload,
} from "../store/csv-uploads";
import { listOrgs, type Organisation } from "../store/orgs";
import { importCsvLedger } from "./upload";

export const UPLOAD_KINDS = ["invoices", "payments", "customers"] as const;
export type UploadKind = (typeof UPLOAD_KINDS)[number];

export interface UploadedFile {
  name: string;
  bytes: ArrayBuffer;
}

export interface UploadOptions {
  currency?: string;
  dateFormat?: string;
  /** `--map` pairs: "customer_id=customerID,issue_date=InvoiceDate". */
  map?: string;
}

/** A message retried this many times (a transient store failure each time) is recorded as failed. */
const MAX_ATTEMPTS = 5;

/** A file name safe to write in the temporary folder and to show back in the issues. */
function safeName(name: string, kind: UploadKind): string {
  const base = name
    .replace(/^.*[\\/]/, "")
    .replace(/[^\w.-]+/g, "_")
    .slice(0, 80);
  return base && base !== "." && base !== ".." ? base : `${kind}.csv`;
}

function checkedOptions(o: UploadOptions): { currency?: string; dateFormat?: DateFormat; map?: ColumnMap } {
  const out: { currency?: string; dateFormat?: DateFormat; map?: ColumnMap } = {};
  if (o.currency) {
    const c = o.currency.toUpperCase();
    if (!currencyCode.safeParse(c).success)
      throw new UserError("bad_currency", `currency "${o.currency}": not an ISO 4217 currency code`, 422);
    out.currency = c;
  }
  if (o.dateFormat) {
    if (!(DATE_FORMATS as readonly string[]).includes(o.dateFormat))
      throw new UserError(
        "bad_date_format",
        `date_format "${o.dateFormat}": use one of ${DATE_FORMATS.join(", ")}`,
        422,
      );
    out.dateFormat = o.dateFormat as DateFormat;
  }
  if (o.map) {
    const r = parseColumnMap(o.map);
    if (r.errors.length) throw new UserError("bad_map", `map: ${r.errors.join("; ")}`, 422);
    out.map = r.map;
  }
  return out;
}

/**
 * Takes an upload for `org` from `userId`: on Workers stores the files and queues the import (the returned
 * upload is "queued"); on Node imports at once (the returned upload is "done" or "failed").
 */
export async function acceptCsvUpload(
  deps: Deps,
  org: Organisation,
  userId: string,
  files: Partial<Record<UploadKind, UploadedFile>>,
  options: UploadOptions,
): Promise<CsvUpload> {
  if (!files.invoices)
    throw new UserError("no_invoices", "send the invoices file (field `invoices`, or a text/csv body)", 422);
  if (org.provider !== "csv")
    throw new UserError(
      "wrong_provider",
      `organisation ${org.slug} is connected to ${org.provider}; CSV import is for CSV organisations`,
      422,
    );
  const opts = checkedOptions(options);
  const id = newUploadId();
  const now = deps.clock.now();
  const queued = Boolean(deps.uploads && deps.enqueue);
  const stored: CsvUpload["files"] = {};
  for (const kind of UPLOAD_KINDS) {
    const f = files[kind];
    if (!f) continue;
    const key = queued ? `uploads/${org.id}/${id}/${kind}` : null;
    if (key) await deps.uploads!.put(key, f.bytes);
    stored[kind] = { name: safeName(f.name, kind), bytes: f.bytes.byteLength, key };
  }
  const upload = await createCsvUpload(
    deps.store.db,
    { id, orgId: org.id, files: stored, options: opts as Record<string, unknown>, requestedBy: userId },
    now,
  );
  if (queued) {
    await deps.enqueue!([{ job: "import", orgId: org.id, uploadId: id, at: now }]);
    return upload;
  }
  const bytes = (kind: UploadKind) => Promise.resolve(files[kind]?.bytes ?? null);
  await importStoredUpload(deps, org, id, bytes);
  return (await findCsvUpload(deps.store.db, org.id, id))!;
}

/** The `import` job: the queued upload's files from R2, imported. A duplicate delivery does nothing. */
export async function runCsvUpload(deps: Deps, orgId: string, uploadId: string): Promise<void> {
  const org = (await listOrgs(deps.store.db)).find((o) => o.id === orgId);
  if (!org) return; // deleted since the upload
  const upload = await findCsvUpload(deps.store.db, orgId, uploadId);
  if (!upload) return;
  await importStoredUpload(deps, org, uploadId, async (kind) => {
    const key = upload.files[kind]?.key;
    return key && deps.uploads ? deps.uploads.get(key) : null;
  });
}

/** Imports a stored upload's files (once: a finished upload is left alone) and records the outcome. */
async function importStoredUpload(
  deps: Deps,
  org: Organisation,
  uploadId: string,
  bytesOf: (kind: UploadKind) => Promise<ArrayBuffer | null>,
): Promise<void> {
  const { store, log } = deps;
  const now = deps.clock.now();
  const upload = await startCsvUpload(store.db, uploadId, now);
  if (!upload) return; // already done or failed
  const dir = mkdtempSync(join(tmpdir(), "creditpulse-upload-"));
  const finalOutcome = async (status: "done" | "failed", result: Record<string, unknown>) => {
    await finishCsvUpload(store.db, uploadId, status, result, deps.clock.now());
    const keys = Object.values(upload.files).flatMap((f) => (f.key ? [f.key] : []));
    if (keys.length && deps.uploads) await deps.uploads.delete(keys);
  };
  try {
    const paths: Partial<Record<UploadKind, string>> = {};
    for (const kind of UPLOAD_KINDS) {
      const f = upload.files[kind];
      if (!f) continue;
      const bytes = await bytesOf(kind);
      if (!bytes) {
        await finalOutcome("failed", {
          error: `the uploaded ${kind} file is gone from storage; upload it again`,
        });
        return;
      }
      paths[kind] = join(dir, f.name);
      // Two kinds under one name would overwrite each other: prefix the later ones.
      if (Object.entries(paths).some(([k, p]) => k !== kind && p === paths[kind]))
        paths[kind] = join(dir, `${kind}-${f.name}`);
      writeFileSync(paths[kind]!, new Uint8Array(bytes));
    }
    const o = upload.options as ReturnType<typeof checkedOptions>;
    const member = await findUser(store.db, upload.requestedBy);
    if (!member)
      throw new UserError("not_found", "the member who uploaded these files is no longer a user", 404);
    const result = await importCsvLedger(deps, {
      files: { invoices: paths.invoices!, payments: paths.payments, customers: paths.customers },
      target: { slug: org.slug, currency: o.currency },
      by: { member: { id: member.id, email: member.email } },
      map: o.map,
      dateFormat: o.dateFormat,
    });
    if (!result.ok) {
      await finalOutcome("failed", { ok: false, error_count: result.issueCount, errors: result.issues });
      return;
    }
    const { ignoredColumns, ...rest } = result.summary;
    await finalOutcome("done", { ok: true, ...rest, ignored_columns: ignoredColumns });
    for (const warning of result.warnings ?? []) log.warn({ org: org.slug, upload: uploadId }, warning);
    log.info({ org: org.slug, upload: uploadId, rows: rest.rows.read }, "CSV upload imported");
  } catch (err) {
    if (err instanceof UserError) {
      await finalOutcome("failed", { ok: false, error: err.message, code: err.code });
      return;
    }
    if (upload.attempts >= MAX_ATTEMPTS) {
      await finalOutcome("failed", { ok: false, error: "the import kept failing; upload the files again" });
      log.error({ err, org: org.slug, upload: uploadId }, "CSV upload failed for good");
      return;
    }
    throw err; // the queue retries it (the row stays "running"; a re-import converges)
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What `GET /api/orgs/:slug/imports/:id` answers. */
export function uploadJson(u: CsvUpload) {
  return {
    id: u.id,
    status: u.status,
    files: Object.fromEntries(Object.entries(u.files).map(([k, f]) => [k, { name: f.name, bytes: f.bytes }])),
    result: u.result ?? null,
    created_at: new Date(u.createdAt).toISOString(),
    updated_at: new Date(u.updatedAt).toISOString(),
  };
}

export async function csvUploadStatus(deps: Deps, org: Organisation, id: string) {
  const u = await findCsvUpload(deps.store.db, org.id, id);
  if (!u) throw new UserError("not_found", "no such upload", 404);
  return uploadJson(u);
}
