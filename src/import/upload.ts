/**
 * The one entry point of a CSV ledger import, whoever starts it: the command line (`creditpulse import`), the
 * browser (`/import`) and a queue consumer (uploads kept elsewhere, read from files on this machine). It checks
 * who may import where, runs the same validation and writes (src/import/csv-import.ts), decides who owns an
 * organisation the import creates, and warms the dashboard's figures.
 *
 * - A member (the browser) imports into an existing CSV organisation only as its owner or bookkeeper (a viewer
 *   is refused; an organisation they do not belong to is "not found"), or creates a new one and owns it.
 * - The command line imports anywhere; what it creates belongs to `--owner`, else the install's owner.
 * - `check: true` validates every row of every file and counts what would be imported, writing nothing.
 */
import type { ColumnMap, DateFormat } from "../../connectors/csv/mapping";
import { giveOwnership, ownerForCommand } from "../auth/org-owner";
import type { Deps } from "../deps";
import { NotFoundError, UserError } from "../errors";
import { orgForUser, type User } from "../store/accounts";
import { warmTodaysSummary } from "../store/dashboard-summary";
import { findOrgBySlug } from "../store/orgs";
import { freeSlug } from "../sync/connect";
import { type CsvImportResult, checkCsv, importCsv } from "./csv-import";
import type { CsvImportOptions } from "./csv-types";

/** What an import needs of the process: the store and the clock (the command line has no more). */
export type ImportDeps = Pick<Deps, "store" | "clock">;

/** Files on this machine (paths); their base names are the names bad rows are reported under. */
export interface UploadFiles {
  invoices: string;
  payments?: string;
  customers?: string;
}

/** Where to import: an organisation by slug (created when new), or a new one named by a person. */
export type ImportTarget =
  | { slug: string; name?: string; currency?: string; timezone?: string }
  | { newName: string; currency?: string; timezone?: string };

export type Importer =
  /** A signed-in person (the browser, or a queued upload they started). */
  | { member: { id: string; email: string } }
  /** The command line: what it creates goes to `ownerEmail`'s user, else to the install's owner. */
  | { command: { ownerEmail?: string } };

export interface ImportUploadRequest {
  files: UploadFiles;
  target: ImportTarget;
  by: Importer;
  map?: ColumnMap;
  dateFormat?: DateFormat;
  /** Validate and count only; nothing is written. */
  check?: boolean;
  onProgress?: CsvImportOptions["onProgress"];
  /** The CLI's bounds and pacing knobs, passed through. */
  tuning?: Pick<CsvImportOptions, "maxIssues" | "chunkSize" | "pace" | "diffLimit">;
}

export type ImportUploadResult = CsvImportResult & {
  /** The organisation imported into (after a successful import). */
  orgId?: string;
  /** Who owns the organisation the import created (or `--owner` named), when anyone was made owner. */
  owner?: string;
  /** Things that went wrong after the import succeeded (it stands): e.g. the figures were not recomputed. */
  warnings?: string[];
};

/** Resolves the target to a slug, checking the member's rights on an existing organisation. */
async function slugFor(deps: ImportDeps, req: ImportUploadRequest): Promise<string> {
  const t = req.target;
  if ("newName" in t) {
    const name = t.newName.trim();
    if (!name) throw new UserError("bad_name", "give the new organisation a name");
    return freeSlug(deps, name);
  }
  if ("member" in req.by) {
    const existing = await findOrgBySlug(deps.store.db, t.slug);
    if (existing) {
      const access = await orgForUser(deps.store.db, req.by.member.id, t.slug);
      if (!access) throw new NotFoundError("organisation");
      if (access.role === "viewer")
        throw new UserError(
          "forbidden",
          `Your role in ${access.org.name} (viewer) cannot import: ask an owner or bookkeeper.`,
          403,
        );
    }
  }
  return t.slug;
}

export async function importCsvLedger(
  deps: ImportDeps,
  req: ImportUploadRequest,
): Promise<ImportUploadResult> {
  const now = deps.clock.now();
  const t = req.target;
  // Who will own a new organisation, settled before anything is read (a bad --owner imports nothing).
  let owner: User | undefined;
  if ("command" in req.by) owner = await ownerForCommand(deps.store, req.by.command.ownerEmail);
  const slug = await slugFor(deps, req);
  const opts: CsvImportOptions = {
    org: slug,
    invoices: req.files.invoices,
    payments: req.files.payments,
    customers: req.files.customers,
    currency: t.currency?.trim().toUpperCase() || undefined,
    timezone: t.timezone || undefined,
    name: "newName" in t ? t.newName.trim() : t.name,
    map: req.map,
    dateFormat: req.dateFormat,
    now,
    onProgress: req.onProgress,
    ...("member" in req.by ? { member: req.by.member } : {}),
    ...req.tuning,
  };
  if (req.check) return checkCsv(deps.store, opts);
  const result = await importCsv(deps.store, opts);
  if (!result.ok) return result;
  const out: ImportUploadResult = { ...result, warnings: [] };
  const created = result.summary.organisation.created;
  if ("member" in req.by) {
    if (created) {
      await giveOwnership(deps.store, slug, req.by.member.id, now);
      out.owner = req.by.member.email;
    }
  } else if (owner && (created || req.by.command.ownerEmail !== undefined)) {
    await giveOwnership(deps.store, slug, owner.id, now);
    out.owner = owner.email;
  }
  const org = await findOrgBySlug(deps.store.db, slug);
  if (org) {
    out.orgId = org.id;
    try {
      await warmTodaysSummary(deps.store, org, now);
    } catch (e) {
      out.warnings!.push(
        `the dashboard figures were not recomputed (${e instanceof Error ? e.message : String(e)})`,
      );
    }
  }
  return out;
}
