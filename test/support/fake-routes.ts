/**
 * Route tables for the fake providers, served two ways: as msw handlers (most connector tests) and by a real
 * HTTP server on a local port (the end-to-end test, which reaches the fakes only through the configurable
 * provider endpoints, with no request interception).
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { http } from "msw";

export type RouteResolver = (info: {
  request: Request;
  params: Record<string, string>;
}) => Response | Promise<Response>;

export interface Route {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** Absolute URL pattern with `:name` path parameters (msw's syntax). */
  pattern: string;
  resolver: RouteResolver;
}

/** Route builders that record each route in `routes` and return the equivalent msw handler. */
export function routeBuilder(routes: Route[]) {
  const add =
    (method: Route["method"], make: typeof http.get) => (pattern: string, resolver: RouteResolver) => {
      routes.push({ method, pattern, resolver });
      return make(pattern, resolver as Parameters<typeof http.get>[1]);
    };
  return {
    get: add("GET", http.get),
    post: add("POST", http.post),
    put: add("PUT", http.put),
    delete: add("DELETE", http.delete),
  };
}

function matcher(pattern: string): RegExp {
  const escaped = pattern
    .split(/(:[A-Za-z]+)/)
    .map((part) =>
      part.startsWith(":") ? `(?<${part.slice(1)}>[^/]+)` : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
    )
    .join("");
  return new RegExp(`^${escaped}/?$`);
}

/** Finds the route for a request and runs it; 404 when none matches. */
export async function dispatch(routes: Route[], request: Request): Promise<Response> {
  const url = new URL(request.url);
  const target = `${url.origin}${url.pathname}`;
  for (const r of routes) {
    if (r.method !== request.method) continue;
    const m = matcher(r.pattern).exec(target);
    if (!m) continue;
    const params = Object.fromEntries(
      Object.entries(m.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)]),
    );
    return r.resolver({ request, params });
  }
  return Response.json({ error: `no fake route for ${request.method} ${url.pathname}` }, { status: 404 });
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Starts a real HTTP server on 127.0.0.1 (port 0) that answers from the route tables `routes()` returns at
 * request time. Returns its origin and a close function.
 */
export async function serveRoutes(
  routes: () => Route[],
): Promise<{ origin: string; close(): Promise<void> }> {
  let origin = "";
  const server: Server = createServer(async (req, res) => {
    try {
      const raw = await body(req);
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers))
        if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
      const request = new Request(`${origin}${req.url}`, {
        method: req.method,
        headers,
        body:
          req.method === "GET" || req.method === "HEAD" || raw.length === 0 ? undefined : new Uint8Array(raw),
      });
      const answer = await dispatch(routes(), request);
      const out = Buffer.from(await answer.arrayBuffer());
      const h: Record<string, string> = {};
      answer.headers.forEach((v, k) => {
        h[k] = v;
      });
      res.writeHead(answer.status, h);
      res.end(out);
    } catch (err) {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(err));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  if (!addr || typeof addr === "string") throw new Error("no port");
  origin = `http://127.0.0.1:${addr.port}`;
  return {
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
