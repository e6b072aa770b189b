/** The first-run checklist on `/` (data: src/dashboard/onboarding.ts). */
import type { Checklist } from "../../dashboard/onboarding";

export function ChecklistPanel(props: { checklist: Checklist }) {
  const { items, done } = props.checklist;
  const complete = done === items.length;
  return (
    <details class="checklist" open={!complete} data-testid="checklist">
      <summary>
        <strong>Getting started</strong>{" "}
        <span class="muted">
          {done} of {items.length} done
        </span>
      </summary>
      <ol>
        {items.map((i) => (
          <li data-item={i.key} data-done={i.done ? "yes" : "no"}>
            <span class={i.done ? "ok" : "muted"} aria-hidden="true">
              {i.done ? "✓" : "○"}
            </span>{" "}
            <a href={i.href}>{i.label}</a>{" "}
            <span class="visually-hidden">{i.done ? "(done)" : "(not done)"}</span>
            <br />
            <small class="muted">{i.hint}</small>
          </li>
        ))}
      </ol>
    </details>
  );
}

export const CHECKLIST_CSS = `
.checklist { border:1px solid var(--line); border-radius:8px; padding:.5rem 1rem; margin:0 0 1rem; }
.checklist summary { cursor:pointer; }
.checklist ol { list-style:none; padding:0; margin:.5rem 0 0; display:grid; gap:.5rem; grid-template-columns:repeat(auto-fit, minmax(14rem, 1fr)); }
.checklist li { border:1px solid var(--line); border-radius:6px; padding:.5rem .75rem; }
.checklist li[data-done="yes"] { background:#f3faf5; }
.visually-hidden { position:absolute; width:1px; height:1px; overflow:hidden; clip:rect(0 0 0 0); white-space:nowrap; }
`;
