/**
 * Organisations made on the command line are not orphans: `import` and `demo` give what they create to the
 * install's owner (the owner setup created), or to `--owner <email>`; an unknown `--owner` imports nothing.
 */
import { describe, expect, it } from "vitest";
import { fixedClock } from "../../src/clock";
import { createFirstOwner, ensureUser, grant, installOwner, orgsOf } from "../../src/store/accounts";
import type { Store } from "../../src/store/db";
import { listOrgs } from "../../src/store/orgs";
import { runCli } from "../support/cli";
import { useTestStore } from "../support/db";
import { csv, tempFiles } from "../support/files";

const clock = fixedClock("2026-11-20T10:00:00Z");
const INVOICES = csv(
  "customer_id,invoice_number,issue_date,due_date,total",
  "C1,INV-1,2026-10-01,2026-10-31,100.00",
);
const roles = async (store: Store, userId: string) =>
  (await orgsOf(store.db, userId)).map((a) => `${a.org.slug}:${a.role}`);

const t = { store: useTestStore() };

describe("organisations created from the command line", () => {
  it("belong to the owner setup created, or to --owner; an unknown --owner is a usage error that imports nothing", async () => {
    const store = t.store;
    // A fresh install without the demo: setup's owner owns nothing yet.
    const boss = (await createFirstOwner(store, "boss@example.com", "x", null, clock.now()))!;
    const f = tempFiles({ "invoices.csv": INVOICES });

    const imported = await runCli(
      ["import", f["invoices.csv"]!, "--org", "acme", "--currency", "GBP"],
      store,
      clock,
    );
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain("owner: boss@example.com");
    expect(await roles(store, boss.id)).toEqual(["acme:owner"]);

    const demo = await runCli(["demo", "--org", "demo2", "--customers", "3", "--json"], store, clock);
    expect(demo.code).toBe(0);
    expect(await roles(store, boss.id)).toEqual(["acme:owner", "demo2:owner"]);

    const unknown = await runCli(
      ["import", f["invoices.csv"]!, "--org", "beta", "--currency", "GBP", "--owner", "nobody@example.com"],
      store,
      clock,
    );
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--owner nobody@example.com: no user has this email address");
    expect((await listOrgs(store.db)).map((o) => o.slug)).toEqual(["acme", "demo2"]);
    const demoUnknown = await runCli(
      ["demo", "--org", "demo3", "--owner", "nobody@example.com"],
      store,
      clock,
    );
    expect(demoUnknown.code).toBe(2);
    expect((await listOrgs(store.db)).map((o) => o.slug)).not.toContain("demo3");

    const { user: bk } = await ensureUser(store.db, "Books@Example.com", clock.now());
    const given = await runCli(
      [
        "import",
        f["invoices.csv"]!,
        "--org",
        "beta",
        "--currency",
        "GBP",
        "--owner",
        "books@example.com",
        "--json",
      ],
      store,
      clock,
    );
    expect(given.code).toBe(0);
    expect(JSON.parse(given.stdout)).toMatchObject({
      ok: true,
      organisation: { slug: "beta", created: true },
    });
    expect(await roles(store, bk.id)).toEqual(["beta:owner"]);
    expect(await roles(store, boss.id)).toEqual(["acme:owner", "demo2:owner"]);

    // A re-import of an existing organisation changes nobody's role unless --owner says so.
    await runCli(["import", f["invoices.csv"]!, "--org", "acme"], store, clock);
    expect(await roles(store, bk.id)).toEqual(["beta:owner"]);
  });

  it("before setup, stay unowned until setup's owner takes every organisation", async () => {
    const store = t.store;
    const f = tempFiles({ "invoices.csv": INVOICES });
    expect(
      (await runCli(["import", f["invoices.csv"]!, "--org", "early", "--currency", "GBP"], store, clock))
        .code,
    ).toBe(0);
    const boss = (await createFirstOwner(store, "boss@example.com", "x", null, clock.now()))!;
    expect(await roles(store, boss.id)).toEqual(["early:owner"]);
  });

  it("the install's owner is the earliest owner when the first account was only given another role", async () => {
    const store = t.store;
    const f = tempFiles({ "invoices.csv": INVOICES });
    await runCli(["import", f["invoices.csv"]!, "--org", "acme", "--currency", "GBP"], store, clock);
    const [acme] = await listOrgs(store.db);
    const { user: viewer } = await ensureUser(store.db, "viewer@example.com", clock.now());
    await grant(store.db, viewer.id, acme!.id, "viewer", clock.now());
    clock.advance(1000);
    const { user: owner } = await ensureUser(store.db, "owner@example.com", clock.now());
    await grant(store.db, owner.id, acme!.id, "owner", clock.now());
    expect((await installOwner(store.db))?.email).toBe("owner@example.com");
    await runCli(["demo", "--org", "demo2", "--customers", "3"], store, clock);
    expect(await roles(store, owner.id)).toEqual(["acme:owner", "demo2:owner"]);
    expect(await roles(store, viewer.id)).toEqual(["acme:viewer"]);
  });
});
