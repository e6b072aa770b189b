import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { JOBS } from "../src/jobs";

describe("jobs table", () => {
  it("keeps wrangler.toml's cron triggers equal to the jobs table", () => {
    const toml = readFileSync(new URL("../wrangler.toml", import.meta.url), "utf8");
    const crons = JSON.parse(toml.match(/^crons\s*=\s*(\[.*\])/m)?.[1] ?? "[]");
    expect([...crons].sort()).toEqual(JOBS.map((j) => j.cron).sort());
  });

  it("gives every job a distinct cron so the Worker can tell them apart", () => {
    expect(new Set(JOBS.map((j) => j.cron)).size).toBe(JOBS.length);
  });
});
