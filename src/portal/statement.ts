/**
 * The customer's statement as a PDF (pdfkit, built-in Helvetica): the business, the customer, the date, every
 * open invoice with its dates and amounts (and its pay-now link, when it has one), the totals per currency, and
 * the organisation's bank details when an invoice has no link. Only http(s) links reach the PDF (payView).
 * `compress: false` keeps the content streams readable (tests).
 */
import { formatDate, formatMoney } from "../format";
import type { IsoDate } from "../model";
import type { PayView } from "../reminders/pay-links";
import type { PortalInvoice } from "../store/portal";
import { statementTotals } from "./statement-model";

export interface StatementInput {
  orgName: string;
  locale: string;
  customerName: string;
  customerId: string;
  today: IsoDate;
  invoices: readonly PortalInvoice[];
  /** Pay links and bank details (absent: none shown). */
  pay?: PayView;
}

/** The built-in fonts only speak WinAnsi: keep what they can draw. */
const safe = (s: string) => s.replace(/[^\x20-\x7e\xa0-\xff\u20ac]/g, "?");

let pdfkit: Promise<typeof import("pdfkit")> | undefined;

/**
 * pdfkit, loaded on first use (only the statement route needs it). On Workers the bundle gets pdfkit's
 * browser build, which has no font files to read: register the two built-in fonts the statement uses, from
 * pdfkit's own font data modules. The Node build reads them itself.
 */
function loadPdfkit(): Promise<typeof import("pdfkit")> {
  pdfkit ??= (async () => {
    const mod = (await import("pdfkit")) as unknown as {
      default: typeof import("pdfkit");
      registerStdFonts?: (...fonts: unknown[]) => void;
    };
    if (mod.registerStdFonts) {
      const [regular, bold] = await Promise.all([
        import("pdfkit/standard-fonts/Helvetica"),
        import("pdfkit/standard-fonts/HelveticaBold"),
      ]);
      mod.registerStdFonts(regular.default, bold.default);
    }
    return mod.default;
  })();
  return pdfkit;
}

export async function renderStatement(s: StatementInput, opts: { compress?: boolean } = {}): Promise<Buffer> {
  const PDFDocument = await loadPdfkit();
  const doc = new PDFDocument({
    size: "A4",
    margin: 50,
    compress: opts.compress ?? true,
    info: { Title: `Statement for ${s.customerName}`, Author: s.orgName, Creator: "Creditpulse" },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on("data", (c: Buffer) => chunks.push(c));
    doc.on("end", () => resolve(Buffer.concat(chunks)));
    doc.on("error", reject);
  });
  const money = (minor: number, currency: string) => formatMoney({ minor, currency }, s.locale);
  const date = (d: IsoDate) => formatDate(d, s.locale);

  doc.font("Helvetica-Bold").fontSize(18).text(safe(s.orgName));
  doc.moveDown(0.3).font("Helvetica").fontSize(12).text("Statement of account");
  doc.moveDown(0.8).fontSize(10);
  doc.text(`Customer: ${safe(s.customerName)} (${safe(s.customerId)})`);
  doc.text(`Date: ${date(s.today)}`);
  doc.moveDown(1);

  const cols = [50, 150, 240, 330, 430];
  const header = ["Invoice", "Issued", "Due", "Amount", "Amount due"];
  const row = (cells: string[], bold = false) => {
    const y = doc.y;
    doc.font(bold ? "Helvetica-Bold" : "Helvetica");
    cells.forEach((text, i) => {
      const right = i >= 3;
      doc.text(safe(text), cols[i]!, y, {
        width: right ? 95 : 88,
        align: right ? "right" : "left",
        lineBreak: false,
      });
    });
    doc.x = 50;
    doc.y = y + 16;
    if (doc.y > 760) doc.addPage();
  };
  row(header, true);
  doc
    .moveTo(50, doc.y - 3)
    .lineTo(545, doc.y - 3)
    .strokeColor("#999999")
    .stroke();
  if (s.invoices.length === 0) row(["No open invoices."]);
  for (const i of s.invoices) {
    const note = i.disputedAt !== null ? " (disputed)" : "";
    row([
      `${i.number}${note}`,
      date(i.issueDate),
      date(i.dueDate),
      money(i.totalMinor, i.currency),
      money(i.amountDueMinor, i.currency),
    ]);
    const link = s.pay?.links.get(i.id);
    if (link) {
      const y = doc.y - 4;
      doc.font("Helvetica").fontSize(8).fillColor("#0b6bcb");
      doc.text(`Pay online: ${safe(link)}`, 58, y, { width: 480, link, underline: true, lineBreak: false });
      doc.fillColor("#000000").fontSize(10);
      doc.x = 50;
      doc.y = y + 14;
      if (doc.y > 760) doc.addPage();
    }
  }
  doc.moveDown(0.5);
  const { totals, disputed } = statementTotals(s.invoices);
  for (const { currency, minor } of totals)
    row(
      ["", "", "", totals.length > 1 ? `Total due (${currency})` : "Total due", money(minor, currency)],
      true,
    );
  for (const { currency, minor } of disputed)
    row(["", "", "", `Disputed, not included (${currency})`, money(minor, currency)]);
  if (s.pay?.bankDetails && s.invoices.length > 0) {
    doc.moveDown(1).font("Helvetica-Bold").fontSize(10).text("Paying by bank transfer", 50);
    doc.font("Helvetica").text(
      s.pay.bankDetails
        .split(/\r?\n|\r/)
        .map(safe)
        .join("\n"),
      50,
      undefined,
      { width: 495 },
    );
  }
  doc.moveDown(2).font("Helvetica").fontSize(9).fillColor("#555555");
  doc.text(`Questions about this statement? Reply to any reminder from ${safe(s.orgName)}.`, 50);
  doc.end();
  return done;
}
