/**
 * Global set-up of the Workers suite, run in Node (not workerd): a real SMTP server (smtp-server) on a local port,
 * and a small HTTP answer listing what it received, for test-workers/mail.test.ts to send to from inside workerd.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    smtpPort: number;
    /** The same server offering STARTTLS (smtp-server's built-in self-signed certificate). */
    smtpTlsPort: number;
    smtpInboxUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const received: { from: string; to: string[]; raw: string; secure: boolean }[] = [];
  const server = (starttls: boolean) =>
    new SMTPServer({
      authOptional: true,
      disabledCommands: starttls ? [] : ["STARTTLS"],
      logger: false,
      onData(stream, session, callback) {
        let raw = "";
        stream.setEncoding("utf8");
        stream.on("data", (chunk: string) => {
          raw += chunk;
        });
        stream.on("end", () => {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            to: session.envelope.rcptTo.map((r) => r.address),
            raw,
            secure: session.secure,
          });
          callback();
        });
      },
    });
  const smtp = server(false);
  const tls = server(true);
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  await new Promise<void>((resolve) => tls.listen(0, "127.0.0.1", resolve));
  const web = createServer((_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(received));
  });
  await new Promise<void>((resolve) => web.listen(0, "127.0.0.1", resolve));
  project.provide("smtpPort", (smtp.server.address() as AddressInfo).port);
  project.provide("smtpTlsPort", (tls.server.address() as AddressInfo).port);
  project.provide("smtpInboxUrl", `http://127.0.0.1:${(web.address() as AddressInfo).port}`);
  return async () => {
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    await new Promise<void>((resolve) => tls.close(() => resolve()));
    await new Promise<void>((resolve) => web.close(() => resolve()));
  };
}
