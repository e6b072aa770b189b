/**
 * CSV import over HTTP, for scripts and the upload page: `POST /api/orgs/:slug/imports` (owners and
 * bookkeepers) takes the invoices file as a raw `text/csv` body, or a multipart form with the files `invoices`
 * (required), `payments` and `customers` and the fields `currency`, `date_format` and `map` (as the CLI's
 * flags). On Workers the answer is 202 and the import runs from the jobs queue; on Node it runs at once (200
 * done, 422 with the bad rows). `GET /api/orgs/:slug/imports/:id` (any member) says how it went.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { Deps } from "../deps";
import {
  acceptCsvUpload,
  csvUploadStatus,
  UPLOAD_KINDS,
  type UploadedFile,
  type UploadKind,
  uploadJson,
} from "../import/http-upload";
import { type AppEnv, currentUser, orgAccess, requireRole } from "./auth";
import { parseInput, text } from "./input";

const options = z.object({ currency: text, date_format: text, map: text });

export function importRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();

  app.post("/api/orgs/:slug/imports", async (c) => {
    const access = await orgAccess(c, deps);
    requireRole(access, "bookkeeper");
    const files: Partial<Record<UploadKind, UploadedFile>> = {};
    let fields: unknown = Object.fromEntries(new URL(c.req.url).searchParams);
    if ((c.req.header("content-type") ?? "").includes("multipart/form-data")) {
      const body = await c.req.parseBody();
      for (const kind of UPLOAD_KINDS) {
        const f = body[kind];
        if (f instanceof File) files[kind] = { name: f.name || `${kind}.csv`, bytes: await f.arrayBuffer() };
      }
      fields = body;
    } else {
      files.invoices = { name: c.req.query("name") || "invoices.csv", bytes: await c.req.arrayBuffer() };
    }
    const o = parseInput(options, fields);
    const upload = await acceptCsvUpload(deps, access.org, currentUser(c).id, files, {
      currency: o.currency || undefined,
      dateFormat: o.date_format || undefined,
      map: o.map || undefined,
    });
    const status = upload.status === "queued" ? 202 : upload.status === "done" ? 200 : 422;
    return c.json(
      { ...uploadJson(upload), status_url: `/api/orgs/${access.org.slug}/imports/${upload.id}` },
      status,
    );
  });

  app.get("/api/orgs/:slug/imports/:id", async (c) => {
    const access = await orgAccess(c, deps);
    return c.json(await csvUploadStatus(deps, access.org, c.req.param("id")));
  });

  return app;
}
