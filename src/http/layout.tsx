import type { Child } from "hono/jsx";

const CSS = `
:root { --fg:#1c2430; --muted:#5b6675; --line:#dde3ea; --accent:#0b6bcb; --bad:#b42318; --warn:#b54708; --ok:#067647; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); margin: 0; }
header { display:flex; gap:1rem; align-items:center; padding:.75rem 1.25rem; border-bottom:1px solid var(--line); }
header a.brand { font-weight:700; color:var(--fg); text-decoration:none; }
main { padding: 1rem 1.25rem; max-width: 1200px; margin: 0 auto; }
a { color: var(--accent); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; }
.demo { background:#fff7e6; border:1px solid #f5c26b; padding:.5rem .75rem; border-radius:6px; margin:.5rem 0 1rem; }
.muted { color: var(--muted); }
.bad { color: var(--bad); }
.tag { font-size:.8rem; padding:.1rem .4rem; border-radius:4px; background:#fde8e8; color:var(--bad); }
.cards { display:flex; flex-wrap:wrap; gap:1rem; margin:1rem 0; }
.card { border:1px solid var(--line); border-radius:8px; padding:.75rem 1rem; min-width: 12rem; }
.card .v { font-size:1.3rem; font-weight:600; }
@media (max-width: 700px) { .hide-sm { display:none; } }
`;

export function Layout(props: { title: string; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title} · Creditpulse</title>
        <style dangerouslySetInnerHTML={{ __html: CSS }} />
      </head>
      <body>
        <header>
          <a class="brand" href="/">
            Creditpulse
          </a>
          <nav aria-label="Main">
            <a href="/">Organisations</a>
          </nav>
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  );
}
