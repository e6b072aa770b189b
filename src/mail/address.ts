/**
 * Which of a contact's addresses a message may go to. Deliberately strict: one plain `local@domain.tld`
 * address per entry, no display names, no header-breaking characters.
 *
 * PURE.
 */
const ADDRESS_RE =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export function isValidAddress(address: string): boolean {
  if (address.length > 254) return false;
  if (!ADDRESS_RE.test(address)) return false;
  const local = address.slice(0, address.lastIndexOf("@"));
  return local.length <= 64 && !local.startsWith(".") && !local.endsWith(".") && !local.includes("..");
}

/** The valid addresses, trimmed and de-duplicated (case-insensitively), in their order. */
export function validAddresses(addresses: readonly string[]): string[] {
  if (addresses.length === 1) {
    const a = addresses[0]!.trim();
    return isValidAddress(a) ? [a] : [];
  }
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of addresses) {
    const a = raw.trim();
    const key = a.toLowerCase();
    if (!isValidAddress(a) || seen.has(key)) continue;
    seen.add(key);
    out.push(a);
  }
  return out;
}

/** The domain of an address ("example.com" of "billing@example.com"), for Message-IDs. */
export function domainOf(address: string): string {
  const m = /@([^>\s]+)>?\s*$/.exec(address);
  return m?.[1]?.toLowerCase() ?? "localhost";
}

/**
 * The bare address of a header value that may carry a display name ("Acme <billing@acme.example>" ->
 * "billing@acme.example"), or null when there is no valid one.
 */
export function bareAddress(value: string): string | null {
  const m = /<([^<>]+)>\s*$/.exec(value);
  const a = (m ? m[1]! : value).trim();
  return isValidAddress(a) ? a : null;
}
