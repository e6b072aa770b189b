/**
 * The import step of `/import` with live progress: the page is streamed, and each batch the importer reports
 * adds a progress line (CSS shows only the latest, so it works without JavaScript), then the result. The check
 * pass ran before, so a file with bad rows never gets here: it is re-shown with every bad row and a 422.
 *
 * A streamed page cannot be rewritten after the fact, so it sets its own security headers and adds the CSRF
 * field to its POST forms (the sign-out button) itself, as authMiddleware does for buffered pages.
 */
import type { Context } from "hono";
import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import type { CsvImportOptions } from "../../import/csv-types";
import type { ImportUploadResult } from "../../import/upload";
import { type AppEnv, DASHBOARD_CSP, withCsrfFields } from "../auth";
import { signed } from "../components";
import { Layout } from "../layout";

const SLOT = "<!--import-progress-->";
const AFTER = "<!--import-result-->";

const STYLE = `<style>.import-progress>p:not(:last-child){display:none}.import-progress progress{width:100%;max-width:28rem;height:1.25rem}</style>`;

/**
 * One progress line: rows the import has worked through (read for payments' totals, or written) against the rows
 * the check pass read; capped at the total, since a payments row can be counted when read and when written.
 */
export function progressLine(done: number, total: number): string {
  const max = Math.max(total, 1);
  const value = Math.min(done, max);
  const pct = Math.round((value / max) * 100);
  const n = (x: number) => x.toLocaleString("en-GB");
  return `<p role="status" data-testid="import-progress"><progress value="${value}" max="${max}">${pct}%</progress><br>${n(value)} of ${n(total)} rows imported (${pct}%)</p>`;
}

/**
 * Streams the import page: `run` performs the import, calling `onProgress` per batch; `done` renders the result
 * panel (or the problem) once it returns. `total` is the row count the check pass read.
 */
export async function streamImport(
  c: Context<AppEnv>,
  total: number,
  run: (onProgress: NonNullable<CsvImportOptions["onProgress"]>) => Promise<ImportUploadResult>,
  done: (result: ImportUploadResult | Error) => Child | Promise<Child>,
): Promise<Response> {
  const shell = String(
    await (
      <Layout title="Importing" {...signed(c)}>
        <h1>Importing</h1>
        <div class="import-progress" aria-live="polite">
          {raw(SLOT)}
        </div>
        {raw(AFTER)}
      </Layout>
    ).toString(),
  );
  const csrf = c.get("auth")?.csrf;
  const withCsrf = (html: string) => (csrf ? withCsrfFields(html, csrf) : html);
  const at = shell.indexOf(SLOT);
  const after = shell.indexOf(AFTER);
  const head = withCsrf(shell.slice(0, at));
  const between = shell.slice(at + SLOT.length, after);
  const tail = withCsrf(shell.slice(after + AFTER.length));
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async start(ctl) {
      const send = (s: string) => ctl.enqueue(enc.encode(s));
      send(head.replace("</head>", `${STYLE}</head>`));
      send(progressLine(0, total));
      let outcome: ImportUploadResult | Error;
      try {
        outcome = await run((p) => send(progressLine(p.rows, total)));
      } catch (err) {
        outcome = err instanceof Error ? err : new Error(String(err));
      }
      send(between);
      send(withCsrf(String(await ((await done(outcome)) as { toString(): unknown }).toString())));
      send(tail);
      ctl.close();
    },
  });
  return new Response(body, {
    status: 200,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "x-frame-options": "SAMEORIGIN",
      "referrer-policy": "same-origin",
      "content-security-policy": DASHBOARD_CSP,
    },
  });
}
