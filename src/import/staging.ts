/**
 * Files uploaded in the browser wait here between the upload, the column mapper, the check and the import:
 * one folder per upload (random id) under the data folder's `uploads/` (the system's temporary folder when
 * the database is in memory), readable only by this process's user, usable only by the person who uploaded
 * them, and deleted after the import or after a day.
 */
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import type { Config } from "../config";
import type { UploadFiles } from "./upload";

export const UPLOAD_KINDS = ["invoices", "payments", "customers"] as const;
export type UploadKind = (typeof UPLOAD_KINDS)[number];
export const STAGED_TTL_MS = 24 * 3600_000;
const ID_RE = /^[A-Za-z0-9_-]{16,64}$/;

export interface StagedUpload {
  id: string;
  userId: string;
  createdAt: number;
  /** The file names as uploaded. */
  names: Partial<Record<UploadKind, string>>;
  files: UploadFiles;
}

export function uploadsDir(config: Pick<Config, "CREDITPULSE_DB">): string {
  const db = config.CREDITPULSE_DB;
  return db === ":memory:" ? join(tmpdir(), "creditpulse-uploads") : join(dirname(db), "uploads");
}

/** A file name safe to keep on disk that still reads as the user's own in error reports ("sales.csv:12"). */
function safeName(name: string, kind: UploadKind): string {
  const base = basename(name.replace(/\\/g, "/"))
    .replace(/[^A-Za-z0-9._ -]/g, "_")
    .replace(/^\.+/, "")
    .slice(0, 80);
  return base || `${kind}.csv`;
}

interface Meta {
  userId: string;
  createdAt: number;
  names: Partial<Record<UploadKind, string>>;
}

/** Keeps the uploaded files; the invoices file is required. Old uploads (past their day) are swept first. */
export async function stageUpload(
  dir: string,
  userId: string,
  now: number,
  files: Partial<Record<UploadKind, { name: string; data: Uint8Array }>>,
): Promise<StagedUpload> {
  await sweep(dir, now);
  const id = crypto.randomUUID().replace(/-/g, "");
  const names: Meta["names"] = {};
  for (const kind of UPLOAD_KINDS) {
    const f = files[kind];
    if (!f) continue;
    const name = safeName(f.name, kind);
    await mkdir(join(dir, id, kind), { recursive: true, mode: 0o700 });
    await writeFile(join(dir, id, kind, name), f.data, { mode: 0o600 });
    names[kind] = name;
  }
  const meta: Meta = { userId, createdAt: now, names };
  await writeFile(join(dir, id, "meta.json"), JSON.stringify(meta), { mode: 0o600 });
  return toStaged(dir, id, meta);
}

function toStaged(dir: string, id: string, meta: Meta): StagedUpload {
  const path = (k: UploadKind) => (meta.names[k] ? join(dir, id, k, meta.names[k]!) : undefined);
  return {
    id,
    userId: meta.userId,
    createdAt: meta.createdAt,
    names: meta.names,
    files: { invoices: path("invoices")!, payments: path("payments"), customers: path("customers") },
  };
}

/** The upload with this id, when it is this user's and not past its day; otherwise undefined. */
export async function stagedUpload(
  dir: string,
  id: string,
  userId: string,
  now: number,
): Promise<StagedUpload | undefined> {
  if (!ID_RE.test(id)) return undefined;
  let meta: Meta;
  try {
    meta = JSON.parse(await readFile(join(dir, id, "meta.json"), "utf8")) as Meta;
  } catch {
    return undefined;
  }
  if (meta.userId !== userId || now - meta.createdAt > STAGED_TTL_MS || !meta.names.invoices)
    return undefined;
  return toStaged(dir, id, meta);
}

export async function dropUpload(dir: string, id: string): Promise<void> {
  if (ID_RE.test(id)) await rm(join(dir, id), { recursive: true, force: true });
}

/** Deletes uploads older than a day (an upload nobody imported). */
async function sweep(dir: string, now: number): Promise<void> {
  let ids: string[];
  try {
    ids = await readdir(dir);
  } catch {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return;
  }
  for (const id of ids) {
    if (!ID_RE.test(id)) continue;
    try {
      const meta = JSON.parse(await readFile(join(dir, id, "meta.json"), "utf8")) as Meta;
      if (now - meta.createdAt > STAGED_TTL_MS) await dropUpload(dir, id);
    } catch {
      // being written, or gone meanwhile
    }
  }
}
