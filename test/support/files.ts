import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

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
