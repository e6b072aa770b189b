/**
 * Attacks on the template editor: members trying to read server files through liquidjs partials, to stall
 * the server with a costly template, or to store a template that breaks sending.
 */
import { readFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findOrgBySlug } from "../../src/store/orgs";
import { loadTemplateOverrides } from "../../src/store/reminder-settings";
import { form, startTarget, type Target } from "./target";

let t: Target;
let secret: string;
const pkg = readFileSync(resolve("package.json"), "utf8");

beforeAll(async () => {
  t = await startTarget();
  secret = readFileSync(t.secretPath, "utf8").trim();
});
afterAll(async () => {
  await t?.close();
});

/** Every way of naming the files an attacker wants: relative to the working directory, absolute, "../". */
function targets() {
  const rel = (p: string) => relative(process.cwd(), p);
  return {
    "package.json": [
      "package.json",
      "./package.json",
      resolve("package.json"),
      "../wt-sec-tpl/package.json",
      "templates/../package.json",
    ],
    secret: [rel(t.secretPath), t.secretPath, "data/secret.key", `../../../../../..${t.secretPath}`],
    database: [rel(t.dbPath), t.dbPath, "data/creditpulse.db", `${t.dbPath}-wal`],
  };
}
const TAGS = {
  include: (p: string) => `{% include '${p}' %}`,
  render: (p: string) => `{% render '${p}' %}`,
  layout: (p: string) => `{% layout '${p}' %}x`,
};

/** None of the files' contents, nor the SQLite header, nor the secret, may appear in what comes back. */
function expectNoLeak(text: string, what: string) {
  expect(text, what).not.toContain(secret);
  expect(text, what).not.toContain('"name": "creditpulse"');
  expect(text, what).not.toContain(pkg.slice(0, 200));
  expect(text, what).not.toMatch(/SQLite format 3/);
  expect(text, what).not.toMatch(/scrypt|password_hash/i);
}

async function attempt(
  role: "viewer" | "bookkeeper",
  how: "preview-get" | "preview-post" | "save",
  body: string,
) {
  const s = t.sessions[role];
  const base = `${t.url}/orgs/acme/settings/templates`;
  const fields = { name: "overdue", part: "html", body };
  if (how === "preview-get") return fetch(`${base}/preview?${form(fields)}`, { headers: s.headers() });
  return fetch(how === "save" ? base : `${base}/preview`, {
    method: "POST",
    redirect: "manual",
    headers: s.headers({ "content-type": "application/x-www-form-urlencoded", accept: "text/html" }),
    body: form(fields),
  });
}

describe("security: templates cannot read server files", () => {
  it("refuses a viewer's preview and save outright, whatever the template", async () => {
    for (const [what, paths] of Object.entries(targets()))
      for (const [tag, make] of Object.entries(TAGS))
        for (const how of ["preview-get", "preview-post", "save"] as const) {
          const res = await attempt("viewer", how, make(paths[0]!));
          const text = await res.text();
          expect(res.status, `${how} ${tag} ${what}`).toBe(403);
          expectNoLeak(text, `${how} ${tag} ${what}`);
        }
  });

  it("answers a bookkeeper's include/render/layout of package.json, the secret and the database with an error, never the file", async () => {
    const org = await findOrgBySlug(t.deps.store.db, "acme");
    for (const [what, paths] of Object.entries(targets()))
      for (const p of paths)
        for (const [tag, make] of Object.entries(TAGS)) {
          const label = `${tag} ${p}`;
          const preview = await attempt("bookkeeper", "preview-post", make(p));
          const text = await preview.text();
          expect(preview.status, label).toBe(200);
          expect(text, label).toMatch(/This template does not render: .*ENOENT/);
          expectNoLeak(text, `${what} preview ${label}`);

          const saved = await attempt("bookkeeper", "save", make(p));
          const page = await saved.text();
          expect(saved.status, `save ${label}`).toBe(422);
          expect(page, label).toMatch(/Not saved: this template does not render\..*ENOENT/s);
          // The text the member typed is kept in the form (escaped), so nothing they wrote is lost.
          expect(page, label).toContain(make(p).replace(/'/g, "&#39;"));
          expectNoLeak(page, `${what} save ${label}`);
        }
    // Nothing was stored, and the database is intact (no file was opened, so no lock was dropped).
    expect(await loadTemplateOverrides(t.deps.store.db, org!.id)).toEqual(new Map());
    const check = new Database(t.dbPath, { readonly: true });
    try {
      expect(check.pragma("integrity_check", { simple: true })).toBe("ok");
    } finally {
      check.close();
    }
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });

  it("still lets templates use the product's own named partials", async () => {
    const res = await fetch(`${t.url}/orgs/acme/settings/templates/preview`, {
      method: "POST",
      headers: t.sessions.bookkeeper.headers({ "content-type": "application/x-www-form-urlencoded" }),
      body: form({ name: "overdue", part: "text", body: "Hello.\n{% include 'firm.text' %}" }),
    });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toContain("Hello.");
    expect(text).toMatch(/Sample Customer Ltd/);
    expect(text).not.toMatch(/does not render/);
  });
});

describe("security: a template cannot stall the server", () => {
  const NESTED = "{% for i in (1..6000) %}{% for j in (1..5000) %}{% endfor %}{% endfor %}";

  it("stops the nested-loop template in the preview and on save while /healthz keeps answering within a second", async () => {
    let stop = false;
    const health: number[] = [];
    const poll = (async () => {
      while (!stop) {
        const start = performance.now();
        const res = await fetch(`${t.url}/healthz`);
        expect(res.status).toBe(200);
        health.push(performance.now() - start);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        const preview = await attempt("bookkeeper", "preview-post", NESTED);
        expect(await preview.text()).toMatch(/does not render: .*limit exceeded/);
        const saved = await attempt("bookkeeper", "save", NESTED);
        expect(saved.status).toBe(422);
        expect(await saved.text()).toMatch(/limit exceeded, line:1/);
        // Each email has one render budget (a quarter second), not the 20 s this template would take.
        expect(performance.now() - started).toBeLessThan(5_000);
      }
    } finally {
      stop = true;
      await poll;
    }
    expect(health.length).toBeGreaterThanOrEqual(3);
    console.log(
      `/healthz answered ${health.length} times during the attack, slowest ${Math.max(...health).toFixed(0)} ms`,
    );
    expect(Math.max(...health)).toBeLessThan(1_000);
  });

  it("refuses a template too large to be a template", async () => {
    const res = await attempt("bookkeeper", "save", "x".repeat(70_000));
    expect(res.status).toBe(422);
    expect(await res.text()).toMatch(/the most allowed is 65536/);
  });
});

describe("security: a template is checked on save against several sample customers", () => {
  it("names liquidjs's message and line, and which sample failed, keeping the typed text", async () => {
    const body = "<p>Hello {{ customer.name }}</p>\n<p>ok</p>\n<p>{{ invoices[2].number }}</p>";
    const res = await attempt("bookkeeper", "save", body);
    expect(res.status).toBe(422);
    const page = await res.text();
    expect(page).toMatch(/line:3/);
    expect(page).toMatch(/sample: 1 invoice in GBP/);
    expect(page).toContain("{{ invoices[2].number }}");

    const syntax = await attempt("bookkeeper", "save", "<p>\n{% if %}\n</p>");
    expect(syntax.status).toBe(422);
    expect(await syntax.text()).toMatch(/line:2/);

    const good = await attempt(
      "bookkeeper",
      "save",
      "<p>{% for i in invoices %}{{ i.amount_due }} {% endfor %}</p>",
    );
    expect(good.status).toBe(303);
    expect(good.headers.get("location")).toMatch(/done=/);
  });
});
