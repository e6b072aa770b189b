/**
 * HTTP hygiene, tried as an attacker would against a real server: oversized bodies, cached or sniffed
 * responses, notice text smuggled through `?done=`, and customers' page tokens in the logs.
 */

import { fork } from "node:child_process";
import { request } from "node:http";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app";
import { BODY_LIMIT_BYTES } from "../../src/http/limits";
import { createLogger, redactPath } from "../../src/log";
import { issuePageToken } from "../../src/portal/token";
import { findContactByExternalId } from "../../src/store/contacts";
import { findOrgBySlug } from "../../src/store/orgs";
import { testDeps } from "../support/deps";
import { form, startTarget, type Target } from "./target";

let t: Target;
beforeAll(async () => {
  t = await startTarget({ env: { XERO_WEBHOOK_KEY: "webhook-key-0123456789" } });
});
afterAll(async () => {
  await t?.close();
});

const MB = 1024 * 1024;

/**
 * Posts `bytes` of body in 64 KB chunks, streamed (chunked, or with the Content-Length declared up front),
 * and stops sending as soon as the server answers. Resolves with the status.
 */
function postStream(
  base: string,
  path: string,
  bytes: number,
  declared: boolean,
): Promise<{ status: number; sent: number }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    let answered = false;
    const req = request(
      url,
      {
        method: "POST",
        headers: {
          "content-type": path === "/login" ? "application/x-www-form-urlencoded" : "application/json",
          "x-xero-signature": "c2lnbmF0dXJl",
          ...(declared ? { "content-length": String(bytes) } : { "transfer-encoding": "chunked" }),
        },
      },
      (res) => {
        answered = true;
        res.resume();
        res.on("end", () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, sent });
        });
      },
    );
    req.on("error", (err) => {
      if (!answered)
        reject(
          new Error(`${path} ${declared ? "content-length" : "chunked"} after ${sent} bytes: ${err.message}`),
        );
    });
    const pump = () => {
      while (!answered && sent < bytes) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

describe("security: request bodies are bounded", () => {
  it("answers a 60 MB body to /webhooks/xero and to /login with 413, without the server process growing by more than a few MB", async () => {
    // The server runs in its own process, so its memory is measured alone (the client here streams).
    const child = fork(fileURLToPath(new URL("./body-server.ts", import.meta.url)), {
      execArgv: ["--import", "tsx", "--expose-gc"],
      stdio: ["ignore", "pipe", "inherit", "ipc"],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.once("error", reject);
        child.stdout!.once("data", (d: Buffer) => resolve((JSON.parse(String(d)) as { url: string }).url));
      });
      const memory = () =>
        new Promise<NodeJS.MemoryUsage>((resolve) => {
          child.once("message", (m) => resolve(m as NodeJS.MemoryUsage));
          child.send("memory");
        });
      // One round of the same attack first, so routes, sockets and allocator are warm.
      for (const path of ["/webhooks/xero", "/login"])
        for (const declared of [false, true]) await postStream(url, path, 60 * MB, declared);
      const before = await memory();
      let peak = before.rss;
      for (let round = 0; round < 2; round++)
        for (const path of ["/webhooks/xero", "/login"])
          for (const declared of [false, true]) {
            const r = await postStream(url, path, 60 * MB, declared);
            expect(r.status, `${path} ${declared ? "content-length" : "chunked"}`).toBe(413);
            // The server said no long before the 60 MB were sent.
            expect(r.sent).toBeLessThan(20 * MB);
            peak = Math.max(peak, (await memory()).rss);
          }
      const after = await memory();
      const grew = (after.rss - before.rss) / MB;
      const peakGrew = (peak - before.rss) / MB;
      console.log(
        `server rss ${(before.rss / MB).toFixed(1)} MB before 8 x 60 MB bodies, ${grew >= 0 ? "+" : ""}${grew.toFixed(1)} MB after, peak +${peakGrew.toFixed(1)} MB`,
      );
      // 480 MB offered; a server that buffered the bodies would grow by 60 MB or more for each.
      expect(peakGrew).toBeLessThan(5);
      expect(grew).toBeLessThan(5);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      child.send("stop");
      await new Promise((r) => child.once("exit", r));
    }
  });

  it("still takes bodies within the limit (a large template save reaches the template check)", async () => {
    const body = form({ name: "overdue", part: "html", body: "<p>é</p>".repeat(6_000) });
    expect(body.length).toBeLessThan(BODY_LIMIT_BYTES);
    const res = await fetch(`${t.url}/orgs/acme/settings/templates`, {
      method: "POST",
      redirect: "manual",
      headers: t.sessions.bookkeeper.headers({ "content-type": "application/x-www-form-urlencoded" }),
      body,
    });
    expect(res.status).toBe(303);
  });
});

describe("security: response headers", () => {
  it("sends nosniff on every response and no-store on every signed-in one", async () => {
    const s = t.sessions.bookkeeper;
    const cases: [string, RequestInit, boolean][] = [
      ["/healthz", {}, false],
      ["/login", {}, false],
      ["/no-such-page", {}, false],
      ["/api/orgs", {}, false],
      ["/api/orgs", { headers: s.headers() }, true],
      ["/api/orgs/acme", { headers: s.headers() }, true],
      ["/api/orgs/unknown", { headers: s.headers() }, true],
      ["/orgs/acme", { headers: s.headers() }, true],
      ["/orgs/acme/settings", { headers: s.headers() }, true],
      ["/account", { headers: s.headers() }, true],
    ];
    for (const [path, init, signedIn] of cases) {
      const res = await fetch(`${t.url}${path}`, { redirect: "manual", ...init });
      await res.arrayBuffer();
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
      if (signedIn) expect(res.headers.get("cache-control"), path).toBe("no-store");
    }
    // (A connection that carried a refused body is closed by the server shortly after: not reused here.)
    const tooBig = await fetch(`${t.url}/webhooks/xero`, {
      method: "POST",
      headers: { connection: "close" },
      body: "x".repeat(BODY_LIMIT_BYTES + 1),
    });
    expect(tooBig.status).toBe(413);
    expect(tooBig.headers.get("x-content-type-options")).toBe("nosniff");
  });
});

describe("security: ?done= shows only the product's own words", () => {
  it("ignores text put in ?done= and shows the fixed text of a known code", async () => {
    const s = t.sessions.bookkeeper;
    const evil = "Your account is locked: call +1 555 0100 now";
    for (const path of [
      "/orgs/acme/settings",
      "/orgs/acme/reminders",
      "/orgs/acme/customers/C1",
      "/account",
    ]) {
      const html = await (
        await fetch(`${t.url}${path}?done=${encodeURIComponent(evil)}`, { headers: s.headers() })
      ).text();
      expect(html, path).not.toContain("call +1 555");
    }
    const ok = await (
      await fetch(`${t.url}/orgs/acme/settings?done=template_saved`, { headers: s.headers() })
    ).text();
    expect(ok).toContain("Template saved.");
    const counts = await (
      await fetch(`${t.url}/orgs/acme/reminders?done=reminders_run&sent=3&failed=<b>x</b>`, {
        headers: s.headers(),
      })
    ).text();
    expect(counts).toContain("Reminders run: 3 sent, 0 failed.");
  });
});

describe("security: customers' page tokens stay out of the logs", () => {
  it("redacts /c/<token> and /unsubscribe/<token> in error logs", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const deps = { ...(await testDeps()), log: createLogger("info", sink) };
    const { importCsv } = await import("../../src/import/csv-import");
    const { csv, tempFiles } = await import("../support/files");
    const f = tempFiles({
      "i.csv": csv(
        "customer_id,customer_name,customer_email,invoice_number,issue_date,due_date,total",
        "C1,Acme,ap@acme.example,A-1,2026-09-01,2026-10-01,10.00",
      ),
    });
    await importCsv(deps.store, {
      org: "acme",
      invoices: f["i.csv"]!,
      currency: "GBP",
      now: deps.clock.now(),
    });
    const org = (await findOrgBySlug(deps.store.db, "acme"))!;
    const contact = (await findContactByExternalId(deps.store.db, org.id, "C1"))!;
    const token = await issuePageToken(
      deps.store.db,
      deps.secret,
      { orgId: org.id, contactId: contact.id },
      deps.clock.now(),
      45,
    );
    const app = createApp(deps);
    // The store fails under the request: the error is logged with the path.
    await deps.store.close();
    for (const path of [`/c/${token}`, `/c/${token}/statement.pdf`, `/c/${token}/unsubscribe`]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(500);
    }
    const log = lines.join("");
    expect(log).toMatch(/request failed/);
    expect(log).toContain("/c/[redacted]");
    expect(log).not.toContain(token);
    expect(log).not.toContain(token.slice(0, 20));
    expect(redactPath(`GET https://cp.example.com/unsubscribe/${token}?x=1`)).toBe(
      "GET https://cp.example.com/unsubscribe/[redacted]?x=1",
    );
  });
});
