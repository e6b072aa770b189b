/**
 * Attacker-style security tests: a real server on port 0 (in-memory store, fixed clock) and "browsers" with
 * their own cookie jars talking to it over the network.
 */

import { hashPassword } from "../../src/auth/password";
import { type Clock, fixedClock } from "../../src/clock";
import { loadConfig } from "../../src/config";
import type { Deps } from "../../src/deps";
import { type Server, startServer } from "../../src/node";
import { ensureUser, grant } from "../../src/store/accounts";
import type { Store } from "../../src/store/db";
import { ensureOrg } from "../../src/store/orgs";
import { testStore } from "../support/db";
import { testDeps } from "../support/deps";

export interface Running {
  server: Server;
  url: string;
  store: Store;
  clock: ReturnType<typeof fixedClock>;
  deps: Deps;
  close(): Promise<void>;
}

export async function runServer(
  env: Record<string, string> = {},
  clock?: Clock,
  store: Store = testStore(),
): Promise<Running> {
  const c = (clock as ReturnType<typeof fixedClock>) ?? fixedClock("2026-11-20T10:00:00Z");
  const config = loadConfig({
    CREDITPULSE_DB: ":memory:",
    PORT: "0",
    CREDITPULSE_SCHEDULER: "0",
    CREDITPULSE_DEMO: "0",
    LOG_LEVEL: "silent",
    ...env,
  });
  const deps = await testDeps({ store, clock: c, config });
  const server = await startServer(config, deps);
  return {
    server,
    url: server.url,
    store,
    clock: c,
    deps,
    async close() {
      await server.close();
      await store.close();
    },
  };
}

/** A user with a password, owner of a fresh organisation `acme`. */
export async function addUser(deps: Deps, email: string, password: string) {
  const now = deps.clock.now();
  const { user } = await ensureUser(deps.store.db, email, now, {
    passwordHash: await hashPassword(password),
  });
  const { org } = await ensureOrg(
    deps.store.db,
    { slug: "acme", name: "Acme", baseCurrency: "GBP", timezone: "UTC", provider: "csv" },
    now,
  );
  await grant(deps.store.db, user.id, org.id, "owner", now);
  return { user, org };
}

/** A browser: a cookie jar, manual redirects, optional extra headers on every request. */
export class Browser {
  jar = new Map<string, string>();
  constructor(
    readonly base: string,
    readonly extra: Record<string, string> = {},
  ) {}

  cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  async fetch(path: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
    const res = await fetch(this.base + path, {
      redirect: "manual",
      ...init,
      headers: { ...this.extra, cookie: this.cookieHeader(), ...(init.headers ?? {}) },
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair = "", ...attrs] = line.split(";");
      const i = pair.indexOf("=");
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1);
      const gone = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (gone || value === "") this.jar.delete(name);
      else this.jar.set(name, value);
    }
    return res;
  }

  /** GETs a page and returns the CSRF token its forms carry. */
  async csrfFrom(path: string): Promise<string> {
    const html = await (await this.fetch(path)).text();
    return html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? "";
  }

  post(path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
    return this.fetch(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams(fields).toString(),
    });
  }

  async signIn(email: string, password: string, next = "/") {
    const csrf = await this.csrfFrom("/login");
    return this.post("/login", { _csrf: csrf, email, password, next });
  }
}
