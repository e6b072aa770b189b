/**
 * The header and first rows of a CSV file, for the column mapper: read as the import reads (BOM, trimmed
 * values, blank lines skipped) and stopped after `rows` records, so a 50 MB file costs a few kilobytes here.
 */
import { createReadStream } from "node:fs";
import { parse } from "csv-parse";

export interface CsvSample {
  header: string[];
  rows: string[][];
  /** Why the file could not be read (unreadable CSV, empty file); the import reports the same per line. */
  problem?: string;
}

export async function readCsvSample(path: string, rows = 200): Promise<CsvSample> {
  const parser = parse({ bom: true, skip_empty_lines: true, relax_column_count: true, trim: true });
  const input = createReadStream(path);
  input.on("error", (err) => parser.destroy(err));
  input.pipe(parser);
  const out: CsvSample = { header: [], rows: [] };
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (out.header.length === 0) out.header = record.map((c) => c.trim());
      else out.rows.push(record);
      if (out.rows.length >= rows) break;
    }
  } catch (err) {
    out.problem = `unreadable CSV: ${(err as Error).message}`;
  } finally {
    input.destroy();
    parser.destroy();
  }
  if (!out.problem && out.header.length === 0) out.problem = "the file is empty: no header row";
  return out;
}
