import { closeSync, openSync, writeSync } from "node:fs";

/**
 * Writes a large invoices.csv (100 invoices per customer, two in three paid) in 1 MB chunks, without holding it in
 * memory: the import-under-load test and bench/import-signin.ts share it.
 */
export function writeInvoices(path: string, n: number): void {
  const fd = openSync(path, "w");
  writeSync(fd, "customer_id,customer_name,invoice_number,issue_date,due_date,currency,total,paid_date\n");
  let buf = "";
  for (let i = 0; i < n; i++) {
    const c = Math.floor(i / 100);
    const mm = String(1 + (i % 12)).padStart(2, "0");
    const dd = String(1 + (i % 28)).padStart(2, "0");
    buf += `C${c},Customer ${c},INV-${i},2024-${mm}-${dd},2024-${mm}-${dd},GBP,${100 + (i % 9000)}.${String(i % 100).padStart(2, "0")},${i % 3 ? `2025-${mm}-${dd}` : ""}\n`;
    if (buf.length > 1 << 20) {
      writeSync(fd, buf);
      buf = "";
    }
  }
  writeSync(fd, buf);
  closeSync(fd);
}
