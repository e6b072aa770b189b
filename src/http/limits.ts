/**
 * Request hygiene applied to every request before any route, signature check or CSRF check reads the body:
 *
 * - Bodies are bounded: BODY_LIMIT_BYTES for forms, JSON and webhooks; UPLOAD_BODY_LIMIT_BYTES only on the
 *   routes listed in UPLOAD_ROUTES (file uploads). A larger body gets 413 without being read into memory
 *   (a declared Content-Length is refused at once; a streamed body is counted and cut off at the limit; the
 *   Node adapter then discards what the client still sends, for at most 500 ms, and closes the connection).
 * - Every response says `X-Content-Type-Options: nosniff`; every response to a signed-in request says
 *   `Cache-Control: no-store`, so no shared or browser cache keeps a page of ledger data.
 */
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "./auth";

/** Forms, JSON API calls and webhooks (a template at its largest, url-encoded, fits with room to spare). */
export const BODY_LIMIT_BYTES = 1024 * 1024;
/** Routes that accept file uploads (CSV ledgers), and only those. */
export const UPLOAD_BODY_LIMIT_BYTES = 50 * 1024 * 1024;
/** The browser's CSV import form (`POST /import`, src/http/pages/import.tsx). */
const BROWSER_UPLOAD = /^\/import\/?$/;
/** The upload routes: the JSON import API (R2 + queue on Workers) and the browser's import form. */
export const UPLOAD_ROUTES: readonly RegExp[] = [/^\/api\/orgs\/[^/]+\/imports$/, BROWSER_UPLOAD];

function tooLarge(limit: number) {
  return (c: Context) => {
    const upload = BROWSER_UPLOAD.test(c.req.path);
    const message = upload
      ? `The files are larger than ${Math.round(limit / 1024 / 1024)} MB together, the most one upload may be. Nothing was uploaded. Upload fewer or smaller files (payments and customers can follow in a second upload), or import a large ledger with the command line: npx creditpulse import.`
      : `The request body is larger than ${Math.round(limit / 1024)} KB, the most this address accepts.`;
    const back = upload ? `<p><a href="/import">Back to the import</a></p>` : "";
    return (c.req.header("accept") ?? "").includes("text/html")
      ? c.html(
          `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Too large</title><h1>Too large</h1><p>${message}</p>${back}</html>`,
          413,
        )
      : c.json({ error: { code: "payload_too_large", message } }, 413);
  };
}

export function bodyLimits(): MiddlewareHandler<AppEnv> {
  const small = bodyLimit({ maxSize: BODY_LIMIT_BYTES, onError: tooLarge(BODY_LIMIT_BYTES) });
  const large = bodyLimit({ maxSize: UPLOAD_BODY_LIMIT_BYTES, onError: tooLarge(UPLOAD_BODY_LIMIT_BYTES) });
  return (c, next) => (UPLOAD_ROUTES.some((r) => r.test(c.req.path)) ? large : small)(c, next);
}

export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    try {
      c.res.headers.set("x-content-type-options", "nosniff");
      if (c.get("auth")) c.res.headers.set("cache-control", "no-store");
    } catch {
      // An immutable response (none today): copy it.
      const headers = new Headers(c.res.headers);
      headers.set("x-content-type-options", "nosniff");
      if (c.get("auth")) headers.set("cache-control", "no-store");
      c.res = new Response(c.res.body, { status: c.res.status, headers });
    }
  };
}
