/** pdfkit's standard-font data modules (its browser/Workers build needs them registered; see portal/statement). */
declare module "pdfkit/standard-fonts/Helvetica" {
  const font: unknown;
  export default font;
}
declare module "pdfkit/standard-fonts/HelveticaBold" {
  const font: unknown;
  export default font;
}
