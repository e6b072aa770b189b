/**
 * Connect Xero / Connect QuickBooks when this install has no app keys for the provider: the exact steps, the
 * redirect URL to register (PUBLIC_URL, else the address this page was reached on) and the settings to set,
 * instead of an error.
 */
import type { Context } from "hono";
import type { Config } from "../../config";
import { Layout } from "../layout";

/** Where the provider sends people back: PUBLIC_URL's, else this request's own origin. */
export function publicBase(config: Pick<Config, "PUBLIC_URL">, c: Context): string {
  return (config.PUBLIC_URL ?? new URL(c.req.url).origin).replace(/\/+$/, "");
}

function Copyable(props: { id: string; label: string; value: string }) {
  return (
    <p class="field">
      <label for={props.id}>{props.label}</label>
      <input id={props.id} readonly value={props.value} />
    </p>
  );
}

function Env(props: { lines: string[] }) {
  return <pre class="env">{props.lines.join("\n")}</pre>;
}

const CSS = `pre.env { background:#f5f7fa; border:1px solid var(--line); border-radius:6px; padding:.5rem .75rem; overflow-x:auto; }
ol.steps li { margin:.4rem 0; } input[readonly] { width:100%; max-width:40rem; font-family: ui-monospace, monospace; } code { overflow-wrap:anywhere; }`;

function Page(props: { title: string; children: unknown; email?: string }) {
  return (
    <Layout
      title={props.title}
      email={props.email}
      head={<style dangerouslySetInnerHTML={{ __html: CSS }} />}
    >
      <h1>{props.title}</h1>
      {props.children as never}
      <p>
        <a href="/">Back to the organisations</a> · or <a href="/import">import a CSV file</a> instead
      </p>
    </Layout>
  );
}

export function XeroSetupHelp(props: { base: string; publicUrlSet: boolean; email?: string }) {
  const redirect = `${props.base}/connect/xero/callback`;
  return (
    <Page title="Connect Xero: register Creditpulse with Xero first" email={props.email}>
      <p>
        This install has no Xero app keys yet. Registering takes about five minutes and is done once; then{" "}
        <strong>Connect Xero</strong> signs you in to Xero and lets you choose the organisations.
      </p>
      <ol class="steps">
        <li>
          Sign in at <strong>developer.xero.com</strong> and open <strong>My Apps</strong> →{" "}
          <strong>New app</strong>.
        </li>
        <li>
          Choose the integration type <strong>Web app</strong>, give it a name (for example "Creditpulse") and
          your company's URL.
        </li>
        <li>
          <Copyable id="xero-redirect" label="Redirect URI (copy it exactly)" value={redirect} />
        </li>
        <li>
          Create the app, open <strong>Configuration</strong>, copy the <strong>Client id</strong> and{" "}
          <strong>Generate a secret</strong>.
        </li>
        <li>
          Set them in Creditpulse's environment (the <code>.env</code> file beside it, or your host's
          settings) and restart it:
          <Env lines={["XERO_CLIENT_ID=<the client id>", "XERO_CLIENT_SECRET=<the secret>"]} />
        </li>
        <li>
          Optional, for changes to arrive within seconds: under <strong>Webhooks</strong> add the delivery URL{" "}
          <code>{props.base}/webhooks/xero</code> for Contacts and Invoices and set{" "}
          <code>XERO_WEBHOOK_KEY=&lt;the webhook key&gt;</code>.
        </li>
      </ol>
      {props.publicUrlSet ? null : (
        <p class="muted">
          The redirect URI above is the address you reached this page on. If people reach Creditpulse at
          another address (a domain name, https), set <code>PUBLIC_URL</code> to it and register that address
          instead: Xero only sends people back to the exact URI registered.
        </p>
      )}
    </Page>
  );
}

export function QuickbooksSetupHelp(props: { base: string; publicUrlSet: boolean; email?: string }) {
  const redirect = `${props.base}/connect/quickbooks/callback`;
  return (
    <Page title="Connect QuickBooks: register Creditpulse with Intuit first" email={props.email}>
      <p>
        This install has no QuickBooks Online app keys yet. Registering is done once; then{" "}
        <strong>Connect QuickBooks</strong> signs you in to Intuit and connects the company you choose.
      </p>
      <ol class="steps">
        <li>
          Sign in at <strong>developer.intuit.com</strong>, open the <strong>Dashboard</strong> and create an
          app for <strong>QuickBooks Online and Payments</strong> with the <strong>Accounting</strong> scope.
        </li>
        <li>
          Under <strong>Keys &amp; credentials</strong> (Development for the sandbox, Production for real
          companies) add the redirect URI:
          <Copyable id="qbo-redirect" label="Redirect URI (copy it exactly)" value={redirect} />
        </li>
        <li>
          Copy the <strong>Client ID</strong> and <strong>Client Secret</strong> and set them in Creditpulse's
          environment, then restart it:
          <Env
            lines={[
              "QBO_CLIENT_ID=<the client id>",
              "QBO_CLIENT_SECRET=<the client secret>",
              "QBO_ENVIRONMENT=sandbox   # or production for real companies",
            ]}
          />
        </li>
        <li>
          Optional, for changes to arrive within seconds: under <strong>Webhooks</strong> set the endpoint{" "}
          <code>{props.base}/webhooks/quickbooks</code> and{" "}
          <code>QBO_WEBHOOK_VERIFIER=&lt;the verifier token&gt;</code>.
        </li>
      </ol>
      {props.publicUrlSet ? null : (
        <p class="muted">
          The redirect URI above is the address you reached this page on. If people reach Creditpulse at
          another address, set <code>PUBLIC_URL</code> to it and register that address instead: Intuit only
          sends people back to the exact URI registered.
        </p>
      )}
    </Page>
  );
}

/** The QuickBooks page for a route module written without JSX (src/http/quickbooks.ts). */
export function quickbooksSetupPage(config: Pick<Config, "PUBLIC_URL">, c: Context) {
  return <QuickbooksSetupHelp base={publicBase(config, c)} publicUrlSet={!!config.PUBLIC_URL} />;
}
