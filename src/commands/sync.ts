/**
 * `creditpulse sync --org <slug> [--full] [--json]`: runs a ledger sync by hand, for any provider the registry
 * knows (Xero, QuickBooks). Draws a progress bar on a terminal for long backfills.
 * Exit codes: 0 synced (or paused for the day's API budget), 1 the sync failed or needs a reconnect.
 */
import { MultiBar, Presets } from "cli-progress";
import type { Command } from "commander";
import type { Deps } from "../deps";
import { UserError } from "../errors";
import { createLogger } from "../log";
import { loadOrCreateSecret } from "../secret-key";
import { connectionForOrg } from "../store/connections";
import { sealerFromSecret } from "../store/secrets";
import type { SyncOptions, SyncReport } from "../sync/run-sync";
import { syncConnection } from "../sync/sync-connections";
import { type CommandContext, orgOption } from "./context";

function line(name: string, e: SyncReport["entities"]["contacts"]): string {
  const q = e.quarantined ? `, ${e.quarantined} quarantined` : "";
  return `  ${name.padEnd(13)} ${e.created} created, ${e.updated} updated, ${e.unchanged} unchanged${q} (${e.pages} pages)`;
}

export function registerSync(program: Command, ctx: CommandContext): void {
  program
    .command("sync")
    .description("Sync an organisation's ledger from Xero or QuickBooks now")
    .requiredOption("--org <slug>", "organisation to sync")
    .option("--full", "ignore the saved cursors and re-read everything (a backfill)")
    .option("--json", "print the report as JSON")
    .action(async (opts: { org: string; full?: boolean; json?: boolean }) => {
      const store = ctx.store();
      const config = ctx.config();
      const org = await orgOption(store.db, opts.org);
      const connection = await connectionForOrg(store.db, org.id);
      if (!connection)
        throw new UserError(
          "not_connected",
          `${org.slug} has no ledger connection (it is a ${org.provider} ledger)`,
        );
      if (connection.status !== "active")
        throw new UserError(
          "not_connected",
          `${org.slug}'s ${connection.provider} connection is ${connection.status}`,
        );
      const secret = loadOrCreateSecret(config);
      const deps: Deps = {
        store,
        clock: ctx.clock,
        config,
        log: ctx.io.log ?? createLogger(config.LOG_LEVEL === "info" ? "warn" : config.LOG_LEVEL),
        secret,
        sealer: await sealerFromSecret(secret),
      };
      const bars =
        ctx.io.progress && !opts.json
          ? new MultiBar(
              { hideCursor: true, format: " {entity} |{bar}| {value}/{total} records" },
              Presets.shades_classic,
            )
          : null;
      const byEntity = new Map<string, ReturnType<MultiBar["create"]>>();
      const syncOpts: SyncOptions = {
        full: opts.full,
        onPage: bars
          ? (p) => {
              let bar = byEntity.get(p.entity);
              const total = Math.max(p.estimatedTotal ?? p.records, p.records);
              if (!bar) {
                bar = bars.create(total, 0, { entity: p.entity.padEnd(12) });
                byEntity.set(p.entity, bar);
              }
              bar.setTotal(total);
              bar.update(p.records);
            }
          : undefined,
      };
      let report: SyncReport;
      try {
        report = await syncConnection(deps, connection, syncOpts);
      } finally {
        bars?.stop();
      }
      if (report.status === "needs_reconnect" || report.status === "failed") ctx.fail(1);
      if (opts.json) {
        ctx.out(JSON.stringify({ org: org.slug, provider: connection.provider, ...report }, null, 2));
        return;
      }
      const head =
        report.status === "ok"
          ? `Synced ${org.slug} from ${connection.provider}`
          : report.status === "paused"
            ? `Paused ${org.slug}: ${report.error}; it resumes in about ${Math.ceil((report.resumeAfterMs ?? 0) / 3_600_000)} h`
            : report.status === "needs_reconnect"
              ? `${org.slug} needs to be reconnected to ${connection.provider}: ${report.error}`
              : `Sync of ${org.slug} failed: ${report.error}`;
      (report.status === "ok" || report.status === "paused" ? ctx.out : ctx.err)(head);
      ctx.out(line("customers:", report.entities.contacts));
      ctx.out(line("invoices:", report.entities.invoices));
      ctx.out(line("payments:", report.entities.payments));
      ctx.out(line("credit notes:", report.entities.credit_notes));
      if (report.sweep) ctx.out(line("open sweep:", report.sweep));
    });
}
