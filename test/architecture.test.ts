/**
 * The house rules, checked on the source text. ARCHITECTURE.md explains them; this test is what keeps them true:
 *
 * - pure modules (monitor, demo generator, the reminder planner, the digest builder) read no clock, no store,
 *   no HTTP, no connector and no Node built-in;
 * - only `src/store` imports drizzle-orm or the schema, and the store imports nothing above it;
 * - connectors only talk to providers: nothing from the store, sync, HTTP or the deps wiring;
 * - the HTTP layer only translates: no query written in `src/http`;
 * - no import cycles among `src` and `connectors`, type-only imports included;
 * - no file in `src` over 500 lines except the schema and generated files;
 * - provider SDKs stay in their connector's client, environment variables in the config and entry points.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";

const root = new URL("..", import.meta.url).pathname;

function files(dir: string): string[] {
  let out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(join(root, dir));
  } catch {
    return [];
  }
  for (const e of entries) {
    const rel = join(dir, e);
    if (statSync(join(root, rel)).isDirectory()) out = out.concat(files(rel));
    else if (/\.tsx?$/.test(e) && !e.endsWith(".d.ts")) out.push(rel);
  }
  return out;
}

const text = (file: string) => readFileSync(join(root, file), "utf8");

/** Every module specifier a file names: static imports and re-exports (type-only included), side-effect
 * imports and dynamic `import("…")`. */
const importsOf = (file: string): string[] => {
  const src = text(file);
  return [
    ...src.matchAll(/^\s*(?:import|export)\s[^'"]*?\sfrom\s+["']([^"']+)["']/gm),
    ...src.matchAll(/^\s*import\s+["']([^"']+)["']/gm),
    ...src.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g),
  ].map((m) => m[1]!);
};

/** A relative specifier resolved to a project file (`src/x/y.ts`), or undefined for packages. */
function resolve(from: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const base = normalize(join(dirname(from), spec)).replace(/\.js$/, "");
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, `${base}/index.ts`, `${base}/index.tsx`]) {
    if (/\.tsx?$/.test(candidate) && existsSync(join(root, candidate))) return candidate;
  }
  return undefined;
}

const SRC = files("src");
const CONNECTORS = files("connectors");
const ALL = [...SRC, ...CONNECTORS];
const edges = new Map(
  ALL.map((f) => [f, importsOf(f).map((s) => ({ spec: s, target: resolve(f, s) }))] as const),
);

/** Violations as "file imports target" lines, so a failure lists every one of them at once. */
function violations(
  from: (file: string) => boolean,
  bad: (target: string, spec: string) => boolean,
): string[] {
  const out: string[] = [];
  for (const [file, list] of edges) {
    if (!from(file)) continue;
    for (const { spec, target } of list)
      if (bad(target ?? spec, spec)) out.push(`${file} imports ${target ?? spec}`);
  }
  return out;
}

const under =
  (...dirs: string[]) =>
  (f: string) =>
    dirs.some((d) => f === d || f.startsWith(`${d}/`));

/** A query written in place: a call on a database handle, or a raw SQL template. Handing `deps.store.db` to a
 * store function is how routes reach the store, so that alone is not one. */
const DB_CALL =
  /\bdb\.(select|selectDistinct|insert|update|delete|all|get|run|values|batch|transaction|query)\b|\bsql`/;

const PURE = [
  "src/monitor",
  "src/demo",
  "src/reminders/policy.ts",
  "src/reminders/plan.ts",
  "src/reminders/plan-cache.ts",
  "src/days.ts",
  "src/reminders/holds.ts",
  "src/reminders/charges.ts",
  "src/reminders/charge-plan.ts",
  "src/reminders/pay-links.ts",
  "src/statements/schedule.ts",
  "src/digest/build.ts",
];

describe("architecture", () => {
  const pureFiles = SRC.filter(under(...PURE));

  it("keeps pure modules free of the store, HTTP, connectors and node built-ins", () => {
    expect(pureFiles.length).toBeGreaterThan(5);
    const found = violations(
      (f) => pureFiles.includes(f),
      (target) =>
        /^node:|^src\/store\/|^src\/http\/|^connectors\/|^better-sqlite3|^nodemailer|^drizzle-orm/.test(
          target,
        ),
    );
    expect(found).toEqual([]);
  });

  it("keeps pure modules from reading the clock", () => {
    for (const f of pureFiles) {
      expect(text(f), f).not.toMatch(/Date\.now\(\)|new Date\(\)|Math\.random\(\)/);
    }
  });

  it("lets only src/store import drizzle-orm or the schema", () => {
    const found = violations(
      (f) => !f.startsWith("src/store/"),
      (target) => /^drizzle-orm(\/|$)/.test(target) || target === "src/store/schema.ts",
    );
    expect(found).toEqual([]);
  });

  it("keeps the store from importing anything above it", () => {
    const above = under(
      "src/monitor",
      "src/reminders",
      "src/portal",
      "src/sync",
      "src/http",
      "src/digest",
      "src/scoring",
      "src/import",
      "src/auth",
      "src/commands",
      "src/demo",
      "src/mail",
      "src/workers",
      "src/jobs.ts",
      "src/deps.ts",
      "src/cli.ts",
      "src/node.ts",
      "src/worker.ts",
      "connectors",
    );
    expect(violations(under("src/store"), (target) => above(target))).toEqual([]);
  });

  it("lets connectors talk only to providers: nothing from the store, sync, HTTP or deps", () => {
    const found = violations(under("connectors"), (target) =>
      under("src/store", "src/sync", "src/http", "src/deps.ts")(target),
    );
    expect(found).toEqual([]);
  });

  it("keeps queries out of the HTTP layer: no db.select/insert/…, no sql`…`", () => {
    const found = SRC.filter(under("src/http")).flatMap((f) =>
      text(f)
        .split("\n")
        .map((line, i) => ({ line, i }))
        .filter(({ line }) => DB_CALL.test(line) && !/^\s*(\/\/|\*)/.test(line))
        .map(({ line, i }) => `${f}:${i + 1}: ${line.trim()}`),
    );
    expect(found).toEqual([]);
  });

  it("has no import cycles among src and connectors", () => {
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, "open");
      stack.push(f);
      for (const { target } of edges.get(f) ?? []) {
        if (!target || !edges.has(target)) continue;
        if (state.get(target) === "open") {
          cycles.push([...stack.slice(stack.indexOf(target)), target].join(" -> "));
        } else if (!state.has(target)) visit(target);
      }
      stack.pop();
      state.set(f, "done");
    };
    for (const f of ALL) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it("keeps every file in src under 500 lines, except the schema and generated files", () => {
    const long = SRC.filter((f) => f !== "src/store/schema.ts" && !f.endsWith(".gen.ts"))
      .map((f) => ({ f, lines: text(f).split("\n").length }))
      .filter(({ lines }) => lines > 500)
      .map(({ f, lines }) => `${f}: ${lines} lines`);
    expect(long).toEqual([]);
  });

  it("keeps provider SDKs inside their connector's client.ts", () => {
    for (const [f, list] of edges) {
      for (const { spec } of list) {
        if (spec === "xero-node") expect(f).toBe("connectors/xero/client.ts");
        if (spec === "intuit-oauth") expect(f).toBe("connectors/quickbooks/client.ts");
      }
    }
  });

  it("reads environment variables only in src/config.ts and the entry points", () => {
    const allowed = new Set(["src/config.ts", "src/cli.ts", "src/worker.ts"]);
    for (const f of ALL) {
      if (allowed.has(f)) continue;
      expect(text(f), f).not.toMatch(/process\.env/);
    }
  });
});
