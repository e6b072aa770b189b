/**
 * The HTTP mail provider (Postmark's email API) against a local fake on a real port: the request it sends,
 * and what each failure means for the never-resend rule (classifySendError).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createPostmarkMailer } from "../../src/mail/http-mailer";
import { classifySendError, type OutgoingMail } from "../../src/mail/mailer";

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

describe("Postmark mailer", () => {
  let server: Server;
  let url: string;
  const received: Received[] = [];
  let answer: { status: number; body: unknown } | "drop" = { status: 200, body: {} };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let data = "";
      req.on("data", (c) => {
        data += c;
      });
      req.on("end", () => {
        received.push({ headers: req.headers, body: JSON.parse(data) });
        if (answer === "drop") return req.socket.destroy();
        res.writeHead(answer.status, { "content-type": "application/json" });
        res.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    received.length = 0;
    answer = {
      status: 200,
      body: {
        To: "ap@buyer.test",
        SubmittedAt: "2026-11-24T10:00:00Z",
        MessageID: "pm-1",
        ErrorCode: 0,
        Message: "OK",
      },
    };
  });

  const mail: OutgoingMail = {
    from: "Credit Control <credit@acme.test>",
    to: ["ap@buyer.test"],
    bcc: ["owner@acme.test"],
    replyTo: "accounts@acme.test",
    subject: "Invoice INV-1 is overdue",
    html: "<p>Hello</p>",
    text: "Hello",
    messageId: "<r1@creditpulse>",
    date: new Date("2026-11-24T10:00:00Z"),
    headers: { "List-Unsubscribe": "<https://x.test/u>" },
  };

  it("posts the message with the server token and reports it accepted", async () => {
    const mailer = createPostmarkMailer({ serverToken: "tok-1", apiUrl: url });
    const sent = await mailer.send(mail);
    expect(sent).toMatchObject({
      messageId: "<r1@creditpulse>",
      accepted: ["ap@buyer.test", "owner@acme.test"],
    });
    const [r] = received;
    expect(r!.headers["x-postmark-server-token"]).toBe("tok-1");
    expect(r!.body).toMatchObject({
      From: mail.from,
      To: "ap@buyer.test",
      Bcc: "owner@acme.test",
      ReplyTo: "accounts@acme.test",
      Subject: mail.subject,
      HtmlBody: "<p>Hello</p>",
      TextBody: "Hello",
      MessageStream: "outbound",
    });
    expect(r!.body.Headers).toEqual(
      expect.arrayContaining([
        { Name: "Message-ID", Value: "<r1@creditpulse>" },
        { Name: "List-Unsubscribe", Value: "<https://x.test/u>" },
      ]),
    );
  });

  it("sends inline attachments base64-encoded with their content id", async () => {
    const mailer = createPostmarkMailer({ serverToken: "tok-1", apiUrl: url });
    await mailer.sendWithAttachments(mail, [
      {
        filename: "chart.png",
        content: new Uint8Array([1, 2, 3]),
        contentType: "image/png",
        cid: "aging-0@cp",
      },
    ]);
    expect(received[0]!.body.Attachments).toEqual([
      { Name: "chart.png", Content: "AQID", ContentType: "image/png", ContentID: "cid:aging-0@cp" },
    ]);
  });

  it("a refused token or rate limit is certainly not sent: retry", async () => {
    const mailer = createPostmarkMailer({ serverToken: "bad", apiUrl: url });
    for (const status of [401, 429]) {
      answer = { status, body: { ErrorCode: 10, Message: "Bad or missing Server API token." } };
      const err = await mailer.send(mail).catch((e) => e);
      expect(classifySendError(err)).toBe("retry");
    }
  });

  it("an invalid recipient is refused for good: rejected, never retried", async () => {
    answer = {
      status: 422,
      body: { ErrorCode: 406, Message: "You tried to send to a recipient that has been marked as inactive." },
    };
    const err = await createPostmarkMailer({ serverToken: "t", apiUrl: url })
      .send(mail)
      .catch((e) => e);
    expect(err.message).toContain("inactive");
    expect(classifySendError(err)).toBe("rejected");
  });

  it("a server error or a dropped connection may have been accepted: unknown, left for review", async () => {
    answer = { status: 500, body: { ErrorCode: 0, Message: "internal" } };
    const mailer = createPostmarkMailer({ serverToken: "t", apiUrl: url });
    expect(classifySendError(await mailer.send(mail).catch((e) => e))).toBe("unknown");
    answer = "drop";
    expect(classifySendError(await mailer.send(mail).catch((e) => e))).toBe("unknown");
  });
});
