import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Deps } from "../../src/deps";
import { importCsv } from "../../src/import/csv-import";

/** Writes files into a new temporary folder and returns their paths by name. */
export function tempFiles(files: Record<string, string>): Record<string, string> & { dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "creditpulse-test-"));
  const out: Record<string, string> = {};
  for (const [name, text] of Object.entries(files)) {
    const path = join(dir, name);
    writeFileSync(path, text);
    out[name] = path;
  }
  return Object.assign(out, { dir });
}

/** Builds CSV text from a header and rows. */
export function csv(header: string, ...rows: string[]): string {
  return `${[header, ...rows].join("\n")}\n`;
}

/**
 * Imports an invoices.csv (header and rows) into the CSV organisation "acme" (created in GBP when new), as
 * `creditpulse import` would; any bad row fails the test with the import's issues.
 */
export async function importInvoices(deps: Pick<Deps, "store" | "clock">, header: string, ...rows: string[]) {
  const f = tempFiles({ "invoices.csv": csv(header, ...rows) });
  const r = await importCsv(deps.store, {
    org: "acme",
    invoices: f["invoices.csv"]!,
    currency: "GBP",
    now: deps.clock.now(),
  });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
}
