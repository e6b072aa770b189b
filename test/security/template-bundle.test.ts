/**
 * The product's templates reach the renderer only through the generated in-memory bundle. This fails while
 * src/templates/bundle.gen.ts is stale: run `npm run templates:bundle` after editing templates/.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUNDLE_PATH, bundleSource } from "../../src/templates/build-bundle";
import { TEMPLATE_BUNDLE } from "../../src/templates/bundle.gen";
import { bundled, sandboxedLiquid } from "../../src/templates/sandbox";

describe("security: the template bundle", () => {
  it("is up to date with templates/ (run `npm run templates:bundle` after editing a template)", () => {
    expect(readFileSync(BUNDLE_PATH, "utf8")).toBe(bundleSource());
    expect(TEMPLATE_BUNDLE["reminders/overdue.html"]).toBe(
      readFileSync("templates/reminders/overdue.html.liquid", "utf8"),
    );
    expect(TEMPLATE_BUNDLE["digest/text"]).toBe(readFileSync("templates/digest/text.liquid", "utf8"));
  });

  it("keeps the rendering modules away from the file system, and every engine sandboxed", () => {
    for (const f of ["src/templates/sandbox.ts", "src/reminders/render.ts", "src/digest/send.ts"])
      expect(readFileSync(f, "utf8"), f).not.toMatch(/from\s+["'](node:)?(fs|fs\/promises|path)["']/);
    const sources = readdirSync("src", { recursive: true })
      .map(String)
      .filter((f) => /\.tsx?$/.test(f) && f !== join("templates", "sandbox.ts"));
    expect(sources.length).toBeGreaterThan(50);
    for (const f of sources)
      expect(readFileSync(join("src", f), "utf8"), f).not.toMatch(
        /new Liquid\(|\.renderFile\(|\.parseFile\(/,
      );
  });

  it("gives an engine no file but the named partials it was handed", async () => {
    const engine = sandboxedLiquid({ partials: bundled("reminders"), html: false });
    await expect(engine.parseAndRender("{% include 'package.json' %}")).rejects.toThrow(/ENOENT/);
    await expect(engine.parseAndRender("{% render '/etc/passwd' %}")).rejects.toThrow(/ENOENT/);
    await expect(engine.parseAndRender("{% layout '../../package.json' %}x")).rejects.toThrow(/ENOENT/);
    await expect(engine.renderFile("package.json")).rejects.toThrow(/ENOENT/);
    const own = await engine.parseAndRender("{% include 'overdue.subject' %}", {
      invoice_count: 1,
      invoices: [{ number: "INV-1" }],
      org: { name: "Acme" },
      total_due: "£1.00",
    });
    expect(own).toMatch(/INV-1/);
  });
});
