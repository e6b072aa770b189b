/** Whether `err` (or what it wraps) is SQLite saying the database stayed locked past busy_timeout. */
export function isBusyError(err: unknown): boolean {
  for (let e = err, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")))
      return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === "string" && /\bdatabase (table )?is (locked|busy)\b/i.test(message)) return true;
  }
  return false;
}
