import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
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
    else if (/\.tsx?$/.test(e)) out.push(rel);
  }
  return out;
}

const importsOf = (file: string) =>
  [
    ...readFileSync(join(root, file), "utf8").matchAll(
      /^\s*(?:import|export)[^'"]*from\s+["']([^"']+)["']/gm,
    ),
  ].map((m) => m[1]!);

const PURE = [
  "src/monitor",
  "src/demo",
  "src/reminders/policy.ts",
  "src/reminders/plan.ts",
  "src/reminders/holds.ts",
  "src/digest/build.ts",
];

describe("architecture", () => {
  const pureFiles = PURE.flatMap((p) =>
    p.endsWith(".ts") ? (files(p.replace(/\/[^/]+$/, "")).includes(p) ? [p] : []) : files(p),
  );

  it("keeps pure modules free of the store, HTTP, connectors and node built-ins", () => {
    for (const f of pureFiles) {
      for (const spec of importsOf(f)) {
        expect(spec, `${f} imports ${spec}`).not.toMatch(
          /^node:|\/store\/|\/http\/|connectors\/|^better-sqlite3|^nodemailer/,
        );
      }
    }
  });

  it("keeps pure modules from reading the clock", () => {
    for (const f of pureFiles) {
      const text = readFileSync(join(root, f), "utf8");
      expect(text, f).not.toMatch(/Date\.now\(\)|new Date\(\)|Math\.random\(\)/);
    }
  });

  it("keeps provider SDKs inside their connector's client.ts", () => {
    const all = [...files("src"), ...files("connectors")];
    for (const f of all) {
      for (const spec of importsOf(f)) {
        if (spec === "xero-node") expect(f).toBe("connectors/xero/client.ts");
        if (spec === "node-quickbooks" || spec === "intuit-oauth")
          expect(f).toBe("connectors/quickbooks/client.ts");
      }
    }
  });

  it("reads environment variables only in src/config.ts and the entry points", () => {
    const allowed = new Set(["src/config.ts", "src/cli.ts", "src/worker.ts"]);
    for (const f of [...files("src"), ...files("connectors")]) {
      if (allowed.has(f)) continue;
      expect(readFileSync(join(root, f), "utf8"), f).not.toMatch(/process\.env/);
    }
  });
});
