/** Shared set-up for the customers' page tests: one store, a real SMTP inbox, the page routes, reminder runs. */
import { inflateSync } from "node:zlib";
import { Hono } from "hono";
import { fixedClock } from "../../src/clock";
import type { Deps } from "../../src/deps";
import { portalRoutes } from "../../src/http/portal";
import { silentLogger } from "../../src/log";
import { createSmtpMailer } from "../../src/mail/smtp-mailer";
import { runReminders } from "../../src/reminders/dispatch";
import type { Store } from "../../src/store/db";
import type { Organisation } from "../../src/store/orgs";
import { TEST_ENV, testConfig } from "../reminders/factories";
import { testStore } from "../support/db";
import { testDeps } from "../support/deps";
import type { TestInbox } from "../support/smtp";

export const OWNER = "owner@acme.example";
export const SECRET = TEST_ENV.CREDITPULSE_SECRET;

export interface World {
  store: Store;
  clock: ReturnType<typeof fixedClock>;
  deps: Deps;
  app: Hono;
  /** One reminder run at the clock's instant. */
  remind(org: Organisation): ReturnType<typeof runReminders>;
  close(): Promise<void>;
}

export async function world(
  inbox: TestInbox | null,
  start: string,
  env: Record<string, string> = {},
): Promise<World> {
  const store = testStore();
  const clock = fixedClock(start);
  const config = testConfig(inbox ?? undefined, { OWNER_EMAIL: OWNER, ...env });
  const deps = await testDeps({ store, clock, config });
  const app = new Hono();
  app.route("/", portalRoutes(deps));
  const mailer = inbox ? createSmtpMailer({ url: inbox.url, timeoutMs: 5_000 }) : undefined;
  return {
    store,
    clock,
    deps,
    app,
    remind: (org) =>
      runReminders(
        { store, config, log: silentLogger, secret: SECRET, mailer },
        { org, at: { kind: "instant", at: clock.now() }, now: clock.now() },
      ),
    close: async () => {
      await mailer?.close();
      await store.close();
    },
  };
}

/** The customers' page path (`/c/<token>`) in a received reminder's text part. */
export function pagePathIn(text: string): string {
  const m = /https:\/\/creditpulse\.example(\/c\/[\w.-]+)/.exec(text);
  if (!m) throw new Error("no customers' page link in the message");
  return m[1]!.replace(/\/unsubscribe$/, "");
}

export function csrfIn(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error("no CSRF field on the page");
  return m[1]!;
}

export function invoiceIdIn(html: string, number: string): string {
  const re = new RegExp(`data-invoice="${number}"[\\s\\S]*?name="invoice" value="(inv_[0-9a-z]+)"`);
  const m = re.exec(html);
  if (!m) throw new Error(`no form for ${number}`);
  return m[1]!;
}

export function post(app: Hono, path: string, fields: Record<string, string>, env?: unknown) {
  return app.request(
    path,
    {
      method: "POST",
      body: new URLSearchParams(fields).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    },
    env,
  );
}

/** The env the Node server gives a request from `address` (what getConnInfo reads). */
export const fromIp = (address: string) => ({ incoming: { socket: { remoteAddress: address } } });

/** Text drawn by pdfkit in an uncompressed PDF (hex strings inside TJ arrays). */
export function pdfText(pdf: Buffer): string {
  const src = pdf.toString("latin1");
  let out = "";
  for (const m of src.matchAll(/\[([^\]]*)\]\s*TJ/g))
    for (const h of m[1]!.matchAll(/<([0-9a-fA-F]+)>/g)) out += Buffer.from(h[1]!, "hex").toString("latin1");
  return out;
}

/** Text of a compressed pdfkit PDF: inflate each content stream, then read its text operators. */
export function compressedPdfText(pdf: Buffer): string {
  const src = pdf.toString("latin1");
  let out = "";
  for (const m of src.matchAll(/stream\r?\n([\s\S]*?)\r?\nendstream/g)) {
    try {
      out += pdfText(inflateSync(Buffer.from(m[1]!, "latin1")));
    } catch {
      // not a deflated content stream (fonts, images)
    }
  }
  // WinAnsi draws the euro sign as byte 0x80.
  return out.replace(/\x80/g, "€");
}
