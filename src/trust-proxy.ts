/**
 * The TRUST_PROXY setting: which reverse proxies in front of the server are believed when they say who the
 * client is (X-Forwarded-For) and whether it used https (X-Forwarded-Proto). Plain code, no node:net, so the
 * same parsing runs on Node and on Workers.
 *
 * - a number of hops N (0-10): the last N addresses of the chain `X-Forwarded-For..., <socket peer>` are our
 *   own proxies, so the client is the address N places from the right;
 * - a comma-separated list of proxy addresses and CIDR ranges (`loopback` and `private` name the usual ones):
 *   walking the chain from the right, the client is the first address that is not one of them.
 */
export type TrustProxy = { hops: number } | { proxies: string[] };

const NAMED: Record<string, string[]> = {
  loopback: ["127.0.0.0/8", "::1/128"],
  private: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "fc00::/7", "fe80::/10"],
};

/** An IP address as 16 bytes (IPv4 as IPv4-mapped IPv6), or null when it is not one. */
export function ipBytes(text: string): Uint8Array | null {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    if (parts.some((p) => p > 255)) return null;
    return new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...parts]);
  }
  if (!text.includes(":") || !/^[0-9a-f:.]+$/i.test(text)) return null;
  let head = text;
  let tail4: number[] = [];
  if (text.includes(".")) {
    const cut = text.lastIndexOf(":");
    const b = ipBytes(text.slice(cut + 1));
    if (!b) return null;
    tail4 = [...b.slice(12)];
    head = text.slice(0, cut + 1);
    if (!head.endsWith("::")) head = head.slice(0, -1);
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const group = (s: string) => (s === "" ? [] : s.split(":"));
  const left = group(halves[0] ?? "");
  const right = halves.length === 2 ? group(halves[1] ?? "") : [];
  const want = 8 - tail4.length / 2;
  const missing = want - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...right];
  const out = new Uint8Array(16);
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i] ?? "";
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
    const n = Number.parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  }
  out.set(tail4, 12);
  return out;
}

interface Range {
  bytes: Uint8Array;
  bits: number;
}

function parseRange(text: string): Range | string {
  const [addr = "", bits, extra] = text.split("/");
  const bytes = ipBytes(addr);
  if (!bytes || extra !== undefined)
    return `"${text}" is not an IP address, a CIDR range, "loopback" or "private"`;
  const v4 = addr.includes(".") && !addr.includes(":");
  if (bits === undefined) return { bytes, bits: 128 };
  const n = Number(bits);
  if (!/^\d{1,3}$/.test(bits) || n > (v4 ? 32 : 128)) return `"${text}" has a bad prefix length`;
  return { bytes, bits: v4 ? n + 96 : n };
}

/** Parses TRUST_PROXY: the setting, or a message saying what is wrong with it. */
export function parseTrustProxy(raw: string): TrustProxy | string {
  const text = raw.trim();
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    return hops <= 10 ? { hops } : "a number of proxy hops must be between 0 and 10";
  }
  const proxies = text
    .split(",")
    .map((p) => p.trim().toLowerCase())
    .filter(Boolean);
  if (!proxies.length) return "give a number of proxy hops or a comma-separated list of proxy addresses";
  for (const p of proxies) {
    if (NAMED[p]) continue;
    const r = parseRange(p);
    if (typeof r === "string") return r;
  }
  return { proxies };
}

const compiled = new Map<string, Range[]>();

/** Whether `address` is one of the listed proxies. */
export function isTrustedProxy(proxies: string[], address: string): boolean {
  const key = proxies.join(",");
  let ranges = compiled.get(key);
  if (!ranges) {
    ranges = proxies
      .flatMap((p) => NAMED[p] ?? [p])
      .map(parseRange)
      .filter((r): r is Range => typeof r !== "string");
    compiled.set(key, ranges);
  }
  const bytes = ipBytes(address);
  if (!bytes) return false;
  return ranges.some((r) => {
    for (let bit = 0; bit < r.bits; bit++) {
      const i = bit >> 3;
      const mask = 0x80 >> (bit & 7);
      if (((bytes[i] ?? 0) & mask) !== ((r.bytes[i] ?? 0) & mask)) return false;
    }
    return true;
  });
}
