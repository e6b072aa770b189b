/**
 * `npx wrangler deploy --dry-run` bundles the Worker with the reminder and digest templates inside it (no
 * filesystem on Workers). Reads the bundle `npm run build:worker` writes; skipped with a note when it is absent
 * (`npm run test:workers` builds it first).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const BUNDLE = new URL("../.worker-build/worker.js", import.meta.url);

describe.runIf(existsSync(BUNDLE))("the Worker bundle", () => {
  it("carries every template's text", () => {
    const bundle = readFileSync(BUNDLE, "utf8");
    for (const dir of ["reminders", "digest"]) {
      const folder = new URL(`../templates/${dir}/`, import.meta.url);
      for (const f of readdirSync(folder)) {
        // A run of plain words from the template: the same however the bundle quotes the text.
        const words = readFileSync(new URL(f, folder), "utf8").match(/[A-Za-z][A-Za-z ]{14,}[A-Za-z]/)?.[0];
        if (words) expect(bundle, `${dir}/${f}`).toContain(words);
      }
    }
  });
});
