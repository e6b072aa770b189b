import { raw } from "hono/html";
import type { Child } from "hono/jsx";

const CSS = `
:root { --fg:#1c2430; --muted:#5b6675; --line:#dde3ea; --accent:#0b6bcb; --bad:#b42318; --warn:#b54708; --ok:#067647; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); margin: 0; }
header { display:flex; flex-wrap:wrap; gap:1rem; align-items:center; padding:.75rem 1.25rem; border-bottom:1px solid var(--line); }
header a.brand { font-weight:700; color:var(--fg); text-decoration:none; }
header nav { display:flex; gap:1rem; flex-wrap:wrap; }
header .who { margin-left:auto; display:flex; gap:.5rem; align-items:center; }
main { padding: 1rem 1.25rem; max-width: 1320px; margin: 0 auto; }
img, svg, iframe, table { max-width:100%; }
h1, h2, p, li, td, th, dd { overflow-wrap:break-word; }
a { color: var(--accent); }
a:focus, button:focus, input:focus, select:focus, textarea:focus { outline: 2px solid var(--accent); outline-offset: 2px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; }
.table-wrap { overflow-x: auto; }
.demo { background:#fff7e6; border:1px solid #f5c26b; padding:.5rem .75rem; border-radius:6px; margin:.5rem 0 1rem; }
.muted { color: var(--muted); }
.bad { color: var(--bad); }
.ok { color: var(--ok); }
.tag { font-size:.8rem; padding:.1rem .4rem; border-radius:4px; background:#fde8e8; color:var(--bad); }
.grade { font-weight:700; display:inline-block; min-width:1.6rem; text-align:center; border-radius:4px; padding:0 .3rem; background:#eef2f6; }
.grade-D, .grade-E { background:#fde8e8; color:var(--bad); }
.grade-A, .grade-B { background:#e7f6ec; color:var(--ok); }
.cards { display:flex; flex-wrap:wrap; gap:1rem; margin:1rem 0; }
.card { border:1px solid var(--line); border-radius:8px; padding:.75rem 1rem; min-width: 12rem; }
.card .v { font-size:1.3rem; font-weight:600; }
.grid2 { display:grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1rem; }
.chart { width:100%; height:auto; max-width:640px; }
.chart .bar { fill:#7aa7d9; } .chart .bar.bad { fill:#e08a80; }
.chart .axis, .chart .val { font-size:13px; fill:var(--muted); }
figure { margin:0; } figure.aging figcaption { font-weight:600; margin:.25rem 0; }
.hbars { display:grid; grid-template-columns: max-content minmax(3rem, 1fr) max-content; gap:.3rem .6rem; align-items:center; font-size:13px; color:var(--muted); max-width:640px; margin:.25rem 0 1rem; }
.hbar { display:contents; } .hbar-label { text-align:right; } .hbar-val { font-variant-numeric: tabular-nums; text-align:right; }
.hbar-track { display:block; height:1.1rem; } .hbar-fill { display:block; height:100%; background:#7aa7d9; } .hbar-fill.bad { background:#e08a80; }
.chart .grid { stroke:var(--line); } .chart .line { fill:none; stroke:var(--accent); stroke-width:2; }
.chart .dot { fill:var(--accent); } .chart .dot.bad { fill:var(--bad); } .chart .trend { stroke:var(--warn); stroke-width:2; stroke-dasharray:6 4; }
form.inline { display:inline-flex; flex-wrap:wrap; gap:.5rem; align-items:end; margin:.25rem 0; }
form.narrow { max-width: 26rem; }
.field { display:flex; flex-direction:column; gap:.2rem; margin:.5rem 0; }
input, select, textarea, button { font: inherit; padding:.35rem .5rem; max-width:100%; }
form.inline > * { max-width:100%; min-width:0; }
button { cursor:pointer; border:1px solid var(--accent); background:var(--accent); color:#fff; border-radius:6px; }
button.secondary { background:#fff; color:var(--accent); }
.sr-only { position:absolute; width:1px; height:1px; padding:0; margin:-1px; overflow:hidden; clip:rect(0 0 0 0); white-space:nowrap; border:0; }
.row-actions { white-space:nowrap; } .row-actions button { padding:.2rem .45rem; }
.hint { font-size:.85rem; }
.field-error { display:block; color: var(--bad); font-size:.9rem; }
button:disabled { opacity:.45; cursor:default; }
@media (max-width: 700px) {
  table.levels thead { display:none; }
  table.levels, table.levels tbody, table.levels tr, table.levels td { display:block; width:100%; }
  table.levels tr { border:1px solid var(--line); border-radius:8px; padding:.5rem; margin:.5rem 0; }
  table.levels td { border:0; padding:.2rem 0; }
  table.levels td:first-child::before { content:"Level "; font-weight:600; }
  table.levels td:first-child { font-weight:600; }
  table.levels td label.sr-only { position:static; width:auto; height:auto; margin:0; overflow:visible; clip:auto; white-space:normal; display:block; font-size:.85rem; color:var(--muted); }
  table.levels input[name="offset"], table.levels input[name="label"], table.levels select { width:100%; }
}
.field.invalid input, .field.invalid select, .field.invalid textarea, td.invalid input, td.invalid select { border:2px solid var(--bad); }
.problem { background:#fde8e8; border:1px solid #f3b5ae; padding:.5rem .75rem; border-radius:6px; }
.notice { background:#e7f6ec; border:1px solid #9fd6b2; padding:.5rem .75rem; border-radius:6px; }
.filters { display:flex; flex-wrap:wrap; gap:.75rem; align-items:end; margin:.5rem 0 1rem; }
.timeline { list-style:none; padding:0; } .timeline li { padding:.35rem 0; border-bottom:1px solid var(--line); }
.timeline time { display:inline-block; min-width:7rem; color:var(--muted); font-variant-numeric: tabular-nums; }
iframe.preview { width:100%; min-height:420px; border:1px solid var(--line); border-radius:6px; }
textarea { width:100%; min-height:16rem; font-family: ui-monospace, monospace; font-size: 13px; }
.subnav { display:flex; gap:1rem; flex-wrap:wrap; margin:.25rem 0 1rem; }
.subnav a[aria-current="page"] { font-weight:700; color:var(--fg); text-decoration:none; }
.sr-only { position:absolute; width:1px; height:1px; overflow:hidden; clip:rect(0 0 0 0); white-space:nowrap; }
.trend { white-space:nowrap; }
table.risk { font-size:14px; }
table.risk caption { text-align:left; }
.risk th, .risk td { white-space:nowrap; }
.risk td.name { white-space:normal; min-width:12rem; max-width:18rem; overflow-wrap:anywhere; }
.risk td.why { white-space:normal; width:100%; min-width:14rem; }
table.risk[data-aging="shown"] { font-size:13px; }
.risk[data-aging="shown"] td.name { min-width:9rem; max-width:13rem; }
.risk[data-aging="shown"] td.why { min-width:12rem; }
.risk[data-aging="shown"] th, .risk[data-aging="shown"] td { padding:.4rem .35rem; }
.risk summary { cursor:pointer; }
.risk summary .clamp { display:-webkit-box; -webkit-line-clamp:2; -webkit-box-orient:vertical; overflow:hidden; vertical-align:top; }
.risk summary { display:flex; gap:.3rem; } .risk summary::before { content:"▸"; color:var(--accent); }
.risk summary::-webkit-details-marker { display:none; } .risk summary { list-style:none; }
.risk details[open] summary::before { content:"▾"; } .risk details[open] .clamp { -webkit-line-clamp:unset; display:block; }
.risk ul.reasons { margin:.25rem 0 0; padding-left:1.6rem; }
code, pre { overflow-wrap:anywhere; white-space:pre-wrap; }
@media (max-width: 700px) {
  .hide-sm { display:none; } main { padding: .75rem; }
  header { padding:.5rem .75rem; gap:.5rem; } header .who { margin-left:0; flex-wrap:wrap; }
  .chart .axis, .chart .val { font-size:22px; } .chart .axis.minor { display:none; }
  .hbars { font-size:14px; }
  .card { min-width:0; flex:1 1 10rem; }
  .grid2 { grid-template-columns: minmax(0, 1fr); }
  input, select, textarea { max-width:100%; }
  form.inline { display:flex; }
  .filters .field { flex:1 1 8rem; }
  /* Tables become stacked cards: each row a card, each cell labelled by data-label. */
  table.stack thead { position:absolute; width:1px; height:1px; overflow:hidden; clip:rect(0 0 0 0); }
  table.stack, table.stack tbody, table.stack tfoot, table.stack caption { display:block; }
  table.stack tr { display:flex; flex-wrap:wrap; gap:.15rem .9rem; border:1px solid var(--line); border-radius:8px; padding:.5rem .65rem; margin:.5rem 0; }
  table.stack td, table.stack th { display:block; border:0; padding:0; text-align:left; white-space:normal; min-width:0; max-width:100%; overflow-wrap:anywhere; }
  table.stack td[data-label]::before { content:attr(data-label) ": "; color:var(--muted); font-size:.85em; }
  table.stack td.name, table.stack td.wide { flex:1 1 60%; font-weight:600; }
  table.stack td.why, table.stack td.full { flex-basis:100%; font-weight:normal; }
  table.risk { font-size:15px; }
  table.risk td.num { font-variant-numeric: tabular-nums; }
}
`;

/** The site icon: a pulse line on the brand blue, served at /favicon.svg and /favicon.ico (app.ts). */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#0b6bcb"/><path d="M4 17h6l3-7 5 13 3-6h7" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/></svg>`;

export function Layout(props: {
  title: string;
  children: Child;
  signedIn?: boolean;
  email?: string;
  head?: Child;
}) {
  // The doctype keeps browsers in standards mode (without it tables lay out in quirks mode).
  return (
    <>
      {raw("<!doctype html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{props.title} · Creditpulse</title>
          <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
          <style dangerouslySetInnerHTML={{ __html: CSS }} />
          {props.head}
        </head>
        <body>
          <header>
            <a class="brand" href="/">
              Creditpulse
            </a>
            {props.signedIn === false ? null : (
              <nav aria-label="Main">
                <a href="/">Organisations</a>
                <a href="/team">Team</a>
              </nav>
            )}
            {props.signedIn === false ? null : (
              <div class="who">
                {props.email ? <span class="muted">{props.email}</span> : null}
                <a href="/account">Your account</a>
                <form method="post" action="/logout">
                  <button type="submit" class="secondary">
                    Sign out
                  </button>
                </form>
              </div>
            )}
          </header>
          <main>{props.children}</main>
        </body>
      </html>
    </>
  );
}

/** Links between an organisation's pages. */
export function OrgNav(props: { slug: string; current: "overview" | "reminders" | "holds" | "settings" }) {
  const link = (key: typeof props.current, href: string, text: string) => (
    <a href={href} aria-current={props.current === key ? "page" : undefined}>
      {text}
    </a>
  );
  return (
    <nav class="subnav" aria-label="Organisation">
      {link("overview", `/orgs/${props.slug}`, "Customers")}
      {link("reminders", `/orgs/${props.slug}/reminders`, "Reminders")}
      {link("holds", `/orgs/${props.slug}/holds`, "Credit holds")}
      {link("settings", `/orgs/${props.slug}/settings`, "Settings")}
    </nav>
  );
}
