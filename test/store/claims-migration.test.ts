import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { afterEach, describe, expect, it } from "vitest";
import { MIGRATIONS_FOLDER } from "../../src/store/sqlite";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The committed migrations up to (not including) the one tagged `stopAt`, in a folder of their own. */
function migrationsBefore(stopAt: string): string {
  const dir = mkdtempSync(join(tmpdir(), "creditpulse-migrations-"));
  dirs.push(dir);
  cpSync(MIGRATIONS_FOLDER, dir, { recursive: true });
  const path = join(dir, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(path, "utf8")) as { entries: { tag: string }[] };
  const at = journal.entries.findIndex((e) => e.tag === stopAt);
  expect(at).toBeGreaterThan(0);
  journal.entries = journal.entries.slice(0, at);
  writeFileSync(path, JSON.stringify(journal));
  return dir;
}

describe("migration 0006: claims keyed by day offset", () => {
  it("keeps one claim per (invoice, offset), the one that best records the send, and audits the rest", () => {
    const sqlite = new Database(":memory:");
    const db = drizzle(sqlite);
    migrate(db, { migrationsFolder: migrationsBefore("0006_claims_by_offset") });
    sqlite.exec(`
      insert into organisations (id, slug, name, base_currency, timezone, country, locale, provider, is_demo, created_at, updated_at)
        values ('org_1', 'o', 'O', 'GBP', 'Europe/London', 'GB', 'en-GB', 'csv', 0, 0, 0);
      insert into contacts (id, org_id, external_id, name, emails, excluded, opted_out, hold_state, deleted, created_at, updated_at)
        values ('cus_1', 'org_1', 'C1', 'C', '[]', 0, 0, 'none', 0, 0, 0);
      insert into invoices (id, org_id, contact_id, external_id, number, issue_date, due_date, currency, total_minor,
          amount_paid_minor, amount_credited_minor, amount_due_minor, status, created_at, updated_at)
        values ('inv_1', 'org_1', 'cus_1', 'I1', 'INV-1', '2026-01-01', '2026-02-01', 'GBP', 100, 0, 0, 100, 'authorised', 0, 0);
    `);
    const claim = sqlite.prepare(
      `insert into reminders (id, org_id, contact_id, invoice_id, level, offset_days, template, policy_id, email_id,
         status, attempts, claimed_at, updated_at)
       values (?, 'org_1', 'cus_1', 'inv_1', ?, ?, 'firm', 'pol_1', ?, ?, 1, ?, ?)`,
    );
    claim.run("rem_a", 2, 1, "eml_a", "sent", 10, 10);
    claim.run("rem_b", 3, 7, "eml_b", "sent", 20, 20);
    // The same +7 level claimed again at position 4 after a policy edit (the bug this migration ends).
    claim.run("rem_c", 4, 7, "eml_c", "sent", 30, 30);
    // A failed try at +14, then a sent one at another position.
    claim.run("rem_d", 6, 14, "eml_d", "failed", 40, 40);
    claim.run("rem_e", 5, 14, "eml_e", "sent", 50, 50);

    migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
    expect(
      sqlite.prepare("select id, level, offset_days from reminders order by offset_days").raw().all(),
    ).toEqual([
      ["rem_a", 2, 1],
      ["rem_b", 3, 7],
      ["rem_e", 5, 14],
    ]);
    const merged = sqlite
      .prepare(
        "select actor, action, invoice_id, detail from audit_log order by json_extract(detail, '$.reminderId')",
      )
      .all() as { actor: string; action: string; invoice_id: string; detail: string }[];
    expect(merged.map((m) => [m.actor, m.action, m.invoice_id, JSON.parse(m.detail).reminderId])).toEqual([
      ["migration", "reminder.merged", "inv_1", "rem_c"],
      ["migration", "reminder.merged", "inv_1", "rem_d"],
    ]);
    expect(() => claim.run("rem_f", 6, 7, "eml_f", "claimed", 60, 60)).toThrow(/UNIQUE/);
    sqlite.close();
  });
});
