/**
 * Who is on the other end of a request: the client's address and whether it reached us over https, taking
 * `X-Forwarded-For` / `X-Forwarded-Proto` only from proxies the administrator trusts (`TRUST_PROXY`).
 *
 * The setting's two forms are described in src/trust-proxy.ts. Unset (the default) trusts no header: the client
 * is the socket peer.
 */
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import { isTrustedProxy, type TrustProxy } from "../trust-proxy";

/** `::ffff:1.2.3.4` (an IPv4 client on a dual-stack socket) as `1.2.3.4`; brackets and ports removed. */
function normalise(address: string): string {
  let a = address.trim();
  if (a.startsWith("[")) a = a.slice(1, a.indexOf("]") > 0 ? a.indexOf("]") : undefined);
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(":"));
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return (mapped?.[1] ?? a).toLowerCase();
}

/** The address of the socket peer (on Workers, Cloudflare's own `cf-connecting-ip`). */
function peerAddress(c: Context): string {
  try {
    const a = getConnInfo(c).remote.address;
    if (a) return normalise(a);
  } catch {
    // Not behind the Node server (Workers, in-process tests).
  }
  return normalise(c.req.header("cf-connecting-ip") ?? "unknown");
}

function forwardedFor(c: Context): string[] {
  return (c.req.header("x-forwarded-for") ?? "").split(",").map(normalise).filter(Boolean);
}

/** Whether the socket peer is one of our trusted proxies (so its X-Forwarded-* headers count). */
function peerTrusted(c: Context, trust: TrustProxy | undefined): boolean {
  if (!trust) return false;
  if ("hops" in trust) return trust.hops > 0;
  return isTrustedProxy(trust.proxies, peerAddress(c));
}

/** The client's address, for per-IP limits. */
export function clientAddress(c: Context, trust: TrustProxy | undefined): string {
  const peer = peerAddress(c);
  if (!trust || !peerTrusted(c, trust)) return peer;
  const chain = [...forwardedFor(c), peer];
  if ("hops" in trust) return chain[Math.max(0, chain.length - 1 - trust.hops)] ?? peer;
  for (let i = chain.length - 1; i >= 0; i--) {
    const a = chain[i] ?? "";
    if (!isTrustedProxy(trust.proxies, a)) return a;
  }
  return chain[0] ?? peer;
}

/**
 * Whether the browser reached us over https: PUBLIC_URL is https, the request itself is, or a trusted proxy
 * says so in X-Forwarded-Proto (never believed from anyone else).
 */
export function requestIsSecure(
  c: Context,
  config: { PUBLIC_URL?: string; TRUST_PROXY?: TrustProxy },
): boolean {
  if (config.PUBLIC_URL?.startsWith("https:")) return true;
  if (new URL(c.req.url).protocol === "https:") return true;
  if (!peerTrusted(c, config.TRUST_PROXY)) return false;
  const proto = (c.req.header("x-forwarded-proto") ?? "").split(",")[0]?.trim().toLowerCase();
  return proto === "https";
}
