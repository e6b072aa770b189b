/**
 * A local stand-in for Twilio's Messages API on a real port (the sender reaches it through TWILIO_API_URL),
 * answering in its recorded shapes: 201 with a message sid, or a Twilio error body. Every request is kept.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeTwilio {
  url: string;
  messages: { to: string; from: string; body: string }[];
  /** Answers the next requests with these (status, code, message) instead of accepting them. */
  failNext: { status: number; code: number; message: string }[];
  close(): Promise<void>;
}

export async function startFakeTwilio(): Promise<FakeTwilio> {
  const fake: FakeTwilio = { url: "", messages: [], failNext: [], close: async () => {} };
  let n = 0;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      const form = Object.fromEntries(new URLSearchParams(body));
      const fail = fake.failNext.shift();
      res.setHeader("content-type", "application/json");
      if (fail) {
        res.writeHead(fail.status);
        res.end(JSON.stringify({ code: fail.code, message: fail.message, status: fail.status }));
        return;
      }
      fake.messages.push({
        to: form.To ?? "",
        from: form.From ?? form.MessagingServiceSid ?? "",
        body: form.Body ?? "",
      });
      res.writeHead(201);
      const sid = `SM${String(++n).padStart(32, "0")}`;
      res.end(JSON.stringify({ sid, status: "queued", to: form.To, body: form.Body }));
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = async () => {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  };
  return fake;
}
