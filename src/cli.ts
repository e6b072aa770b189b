/**
 * The `creditpulse` command line. `run(argv)` returns the exit code, so tests drive it in-process:
 * 0 success, 1 the work failed (e.g. bad rows in an import), 2 a usage or configuration error.
 */

import { readFileSync } from "node:fs";
import { getPriority, setPriority } from "node:os";
import { SingleBar } from "cli-progress";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { type ColumnMap, DATE_FORMATS, type DateFormat, parseColumnMap } from "../connectors/csv/mapping";
import { formatIssue } from "../connectors/csv/parse";
import { giveOwnership, ownerForCommand } from "./auth/org-owner";
import { systemClock } from "./clock";
import { registerCharges } from "./commands/charges";
import type { CliIo, CommandContext } from "./commands/context";
import { registerDigest } from "./commands/digest";
import { registerForecastCommand } from "./commands/forecast";
import { registerHolds } from "./commands/holds";
import { registerPreview } from "./commands/preview";
import { registerReconcile } from "./commands/reconcile";
import { registerRemind } from "./commands/remind";
import { registerScoreCommand } from "./commands/score";
import { registerStatements } from "./commands/statements";
import { registerSync } from "./commands/sync";
import { registerUser } from "./commands/user";
import { type Config, ConfigError, loadConfig } from "./config";
import { UserError } from "./errors";
import { seedDemo } from "./import/demo";
import { importCsvLedger } from "./import/upload";
import { createLogger } from "./log";
import { loadOrCreateSecret } from "./secret-key";
import { isBusyError } from "./store/busy";
import { warmTodaysSummary } from "./store/dashboard-summary";
import type { Store } from "./store/db";
import { findOrgBySlug } from "./store/orgs";
import { sealerFromSecret } from "./store/secrets";
import { openSqliteStore } from "./store/sqlite";

const defaultIo = (): CliIo => ({
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  progress: Boolean(process.stderr.isTTY),
});

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("expected a positive whole number");
  return n;
}

/** `--map` and `--map-file` merged (`--map` wins); a bad pair is a usage error naming it. */
function readColumnMap(pairs: string | undefined, file: string | undefined): ColumnMap | undefined {
  if (pairs === undefined && file === undefined) return undefined;
  const map: ColumnMap = {};
  const errors: string[] = [];
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new UserError("bad_map", `--map-file ${file}: ${(e as Error).message}`);
    }
    const r = parseColumnMap(text);
    Object.assign(map, r.map);
    errors.push(...r.errors.map((e) => `--map-file ${file}: ${e}`));
  }
  if (pairs !== undefined) {
    const r = parseColumnMap(pairs);
    Object.assign(map, r.map);
    errors.push(...r.errors.map((e) => `--map: ${e}`));
  }
  if (errors.length) throw new UserError("bad_map", errors.join("\n"));
  return map;
}

function counts(c: { created: number; updated: number; unchanged: number }): string {
  return `${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged`;
}

/** Command modules (src/commands/*) register themselves here, in help order. */
const COMMANDS: ((program: Command, ctx: CommandContext) => void)[] = [
  registerScoreCommand,
  registerForecastCommand,
  registerRemind,
  registerPreview,
  registerHolds,
  registerCharges,
  registerStatements,
  registerSync,
  registerReconcile,
  registerUser,
  registerDigest,
];

/** The dashboard's figures after an import or a demo seed, so its pages open warm (a failure only warns). */
async function warmAfterWrite(store: Store, slug: string, now: number, err: (line?: string) => void) {
  const org = await findOrgBySlug(store.db, slug);
  if (!org) return;
  try {
    await warmTodaysSummary(store, org, now);
  } catch (e) {
    err(`Warning: the dashboard figures were not recomputed (${e instanceof Error ? e.message : String(e)})`);
  }
}

/**
 * With `--json`, a command that fails before printing still prints JSON (`{"ok":false,"error":{code,message}}`)
 * on standard output, so `... --json | node -e 'JSON.parse(...)'` always parses; the message also goes to
 * standard error as usual.
 */
function jsonFailure(argv: string[], printed: boolean, e: unknown, out: (line: string) => void) {
  if (printed || !argv.includes("--json")) return;
  if (e instanceof CommanderError && e.exitCode === 0) return;
  const code =
    e instanceof UserError
      ? e.code
      : e instanceof ConfigError
        ? "config"
        : e instanceof CommanderError
          ? "usage"
          : isBusyError(e)
            ? "busy"
            : "failed";
  const message = e instanceof Error ? e.message.replace(/^error: /, "") : String(e);
  out(JSON.stringify({ ok: false, error: { code, message } }));
}

export async function run(argv: string[], ioIn: Partial<CliIo> = {}): Promise<number> {
  const io: CliIo = { ...defaultIo(), ...ioIn };
  let printed = false;
  const out = (line = "") => {
    printed = true;
    io.stdout(`${line}\n`);
  };
  const err = (line = "") => io.stderr(`${line}\n`);
  let exitCode = 0;
  let config: Config | undefined;
  const getConfig = () => {
    config ??= loadConfig(io.env);
    return config;
  };
  const stores: Store[] = [];
  const getStore = () => {
    if (io.store) return io.store;
    const s = openSqliteStore(getConfig().CREDITPULSE_DB);
    stores.push(s);
    return s;
  };
  const clock = io.clock ?? systemClock;

  const program = new Command()
    .name("creditpulse")
    .description("Credit control for Xero, QuickBooks Online and CSV ledgers.")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError("(run with --help for usage)");

  program
    .command("serve")
    .description("Run the dashboard, the webhooks and the scheduler on the embedded store")
    .option("--port <port>", "port to listen on (default PORT or 3000)")
    .action(async (opts: { port?: string }) => {
      const { startServer } = await import("./node");
      const cfg = opts.port ? loadConfig({ ...io.env, PORT: opts.port }) : getConfig();
      const log = io.log ?? createLogger(cfg.LOG_LEVEL);
      const server = await startServer(cfg, { log, clock, ...(io.store ? { store: io.store } : {}) });
      out(`Creditpulse dashboard: ${server.url}`);
      if (server.setupUrl)
        out(`No accounts yet. Create the owner account (one-time link, 24 hours): ${server.setupUrl}`);
      const stopped =
        io.untilStopped ??
        new Promise<void>((resolve) => {
          process.once("SIGINT", () => resolve());
          process.once("SIGTERM", () => resolve());
        });
      await stopped;
      await server.close();
    });

  program
    .command("setup-link")
    .description(
      "Print the first owner's one-time setup link for a deployment (Workers): signed with CREDITPULSE_SECRET",
    )
    .requiredOption("--url <url>", "the deployment's public address, e.g. https://creditpulse.example.com")
    .action(async (opts: { url: string }) => {
      const secret = getConfig().CREDITPULSE_SECRET;
      if (!secret) throw new UserError("no_secret", "set CREDITPULSE_SECRET to the deployment's secret");
      if (!/^https?:\/\//.test(opts.url))
        throw new UserError("bad_url", `--url must start with https:// (got ${opts.url})`);
      const { signedSetupLink } = await import("./auth/setup");
      out(await signedSetupLink(secret, opts.url, clock.now()));
      out("It works once, for 24 hours, while the deployment has no accounts.");
    });

  program
    .command("migrate")
    .description("Apply the database migrations (they also run automatically at start)")
    .action(() => {
      getStore();
      out(`Database ${io.store ? "(in-process)" : getConfig().CREDITPULSE_DB} is up to date.`);
    });

  program
    .command("import")
    .description("Import a receivables ledger from CSV files (see README: CSV import)")
    .argument("<invoices.csv>", "invoices file")
    .requiredOption("--org <slug>", "organisation to import into (created when new)")
    .option("--payments <file>", "payments.csv: one row per payment; when given it is the payment truth")
    .option("--customers <file>", "customers.csv: names, emails, credit limits, timezones")
    .option("--currency <code>", "base currency of a new organisation; currency of rows that leave it empty")
    .option("--timezone <tz>", "timezone of a new organisation (IANA, default UTC)")
    .option("--name <name>", "display name of a new organisation")
    .option(
      "--map <pairs>",
      'invoices.csv columns under other names: "customer_id=customerID,issue_date=InvoiceDate,..."',
    )
    .option("--map-file <file>", "the same pairs in a file, one per line (or a JSON object)")
    .addOption(
      new Option("--date-format <format>", "how dates are written in the files").choices([...DATE_FORMATS]),
    )
    .option("--owner <email>", "who owns a new organisation (default: the install's owner, who set it up)")
    .option("--json", "print the summary (or the errors) as JSON")
    .action(
      async (
        invoices: string,
        opts: {
          org: string;
          payments?: string;
          customers?: string;
          currency?: string;
          timezone?: string;
          name?: string;
          map?: string;
          mapFile?: string;
          dateFormat?: DateFormat;
          owner?: string;
          json?: boolean;
        },
      ) => {
        const map = readColumnMap(opts.map, opts.mapFile);
        // A batch job: yield the CPU to a server on the same machine (best effort).
        if (!io.store) {
          try {
            setPriority(Math.max(getPriority(), 10));
          } catch {
            // not allowed here: run at the normal priority
          }
        }
        const store = getStore();
        const bar =
          io.progress && !opts.json
            ? new SingleBar({ format: "{phase} {value} rows", hideCursor: true })
            : null;
        let phase = "";
        const result = await importCsvLedger(
          { store, clock },
          {
            files: { invoices, payments: opts.payments, customers: opts.customers },
            target: { slug: opts.org, name: opts.name, currency: opts.currency, timezone: opts.timezone },
            by: { command: { ownerEmail: opts.owner } },
            map,
            dateFormat: opts.dateFormat,
            onProgress: bar
              ? (p) => {
                  if (p.phase !== phase) {
                    if (phase) bar.stop();
                    phase = p.phase;
                    bar.start(0, 0, { phase: p.phase === "validate" ? "Checking" : "Writing" });
                  }
                  bar.update(p.rows);
                }
              : undefined,
          },
        );
        if (phase) bar?.stop();
        if (!result.ok) {
          exitCode = 1;
          if (opts.json) {
            out(
              JSON.stringify({ ok: false, error_count: result.issueCount, errors: result.issues }, null, 2),
            );
          } else {
            err(`Nothing was imported: ${result.issueCount} problem(s) found.`);
            for (const i of result.issues) err(`  ${formatIssue(i)}`);
            if (result.issueCount > result.issues.length)
              err(`  ... and ${result.issueCount - result.issues.length} more`);
          }
          return;
        }
        const s = result.summary;
        for (const w of result.warnings ?? []) err(`Warning: ${w}`);
        if (opts.json) {
          const { ignoredColumns, ...rest } = s;
          out(JSON.stringify({ ok: true, ...rest, ignored_columns: ignoredColumns }, null, 2));
        } else {
          out(
            `${s.organisation.created ? "Created" : "Updated"} organisation ${s.organisation.slug} (${s.organisation.name})`,
          );
          out(
            `  rows:      ${s.rows.read} read: ${s.rows.created} created, ${s.rows.updated} updated, ${s.rows.unchanged} unchanged, ${s.rows.ignored} ignored (empty)`,
          );
          out(`  customers: ${counts(s.customers)}`);
          out(`  invoices:  ${counts(s.invoices)}`);
          out(`  payments:  ${counts(s.payments)}`);
          if (s.ignoredColumns.length) out(`  columns not imported: ${s.ignoredColumns.join(", ")}`);
          for (const d of s.defaults) out(`  defaulted: ${d}`);
          if (result.owner) out(`  owner: ${result.owner}`);
        }
      },
    );

  program
    .command("demo")
    .description("Create or refresh a demo organisation with a generated two-year ledger")
    .option("--org <slug>", "organisation slug", "demo")
    .addOption(new Option("--customers <n>", "number of customers").argParser(positiveInt).default(60))
    .option("--seed <seed>", "generator seed: the same seed gives the same ledger", "1")
    .option("--json", "print the summary as JSON")
    .option(
      "--url <url>",
      "seed a deployment (Workers + D1) instead: its address; signed with CREDITPULSE_SECRET",
    )
    .option(
      "--owner <email>",
      "an existing user made owner of the demo organisation (default: the install's owner)",
    )
    .action(
      async (opts: {
        org: string;
        customers: number;
        seed: string;
        json?: boolean;
        url?: string;
        owner?: string;
      }) => {
        if (opts.url) {
          const { seedDeploymentDemo } = await import("./commands/demo-remote");
          const secret = getConfig().CREDITPULSE_SECRET;
          if (!secret) throw new UserError("no_secret", "set CREDITPULSE_SECRET to the deployment's secret");
          const r = await seedDeploymentDemo(
            secret,
            opts.url,
            { slug: opts.org, customers: opts.customers, seed: opts.seed, owner: opts.owner },
            clock.now(),
          );
          if (opts.json) out(JSON.stringify(r.body, null, 2));
          else out(r.message);
          if (!r.ok) exitCode = 1;
          return;
        }
        const store = getStore();
        const now = clock.now();
        const owner = await ownerForCommand(store, opts.owner);
        const r = await seedDemo(store, {
          slug: opts.org,
          customers: opts.customers,
          seed: opts.seed,
          now,
        });
        if (owner && (r.organisation.created || opts.owner !== undefined))
          await giveOwnership(store, r.organisation.slug, owner.id, now);
        await warmAfterWrite(store, r.organisation.slug, now, err);
        if (opts.json) out(JSON.stringify(r, null, 2));
        else {
          out(
            `${r.organisation.created ? "Created" : "Refreshed"} demo organisation ${r.organisation.slug} as of ${r.asOf}`,
          );
          out(`  customers: ${counts(r.counts.contacts)}`);
          out(`  invoices:  ${counts(r.counts.invoices)}`);
          out(`  payments:  ${counts(r.counts.payments)}`);
          out(`  credit notes: ${counts(r.counts.creditNotes)}`);
        }
      },
    );

  const ctx: CommandContext = {
    io,
    out,
    err,
    config: getConfig,
    store: getStore,
    clock,
    fail: (code) => {
      exitCode = code;
    },
    async deps() {
      const config = getConfig();
      const secret = loadOrCreateSecret(config);
      return {
        store: getStore(),
        clock,
        config,
        log: io.log ?? createLogger(config.LOG_LEVEL === "info" ? "warn" : config.LOG_LEVEL),
        secret,
        sealer: await sealerFromSecret(secret),
      };
    },
  };
  for (const register of COMMANDS) register(program, ctx);

  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (e) {
    jsonFailure(argv, printed, e, out);
    if (e instanceof CommanderError) {
      exitCode = e.exitCode === 0 ? 0 : 2;
    } else if (e instanceof ConfigError) {
      err(e.message);
      exitCode = 2;
    } else if (e instanceof UserError) {
      err(`Error: ${e.message}`);
      exitCode = 2;
    } else if (isBusyError(e)) {
      err("Error: the database is busy (another process is writing to it): try again shortly");
      exitCode = 1;
    } else {
      err(`Error: ${e instanceof Error ? e.message : String(e)}`);
      exitCode = 1;
    }
  } finally {
    for (const s of stores) await s.close();
  }
  return exitCode;
}
