/**
 * A fake of Postmark's email API (`POST /email`, server token header) at http://postmark.fake, answering the
 * Worker's fetch in this isolate: keeps every accepted message, answers in Postmark's recorded shape.
 */
export interface PostmarkMessage {
  From: string;
  To: string;
  Subject: string;
  HtmlBody: string;
  TextBody: string;
  Headers?: { Name: string; Value: string }[];
  Attachments?: { Name: string; Content: string; ContentType: string; ContentID?: string }[];
}

export function installFakePostmark(token: string) {
  const real = globalThis.fetch;
  const inbox: PostmarkMessage[] = [];
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.hostname !== "postmark.fake") return real(input, init);
    if (request.method !== "POST" || url.pathname !== "/email")
      return Response.json({ ErrorCode: 404, Message: "not found" }, { status: 404 });
    if (request.headers.get("x-postmark-server-token") !== token)
      return Response.json({ ErrorCode: 10, Message: "Bad or missing Server API token." }, { status: 401 });
    const m = (await request.json()) as PostmarkMessage;
    inbox.push(m);
    return Response.json({
      To: m.To,
      SubmittedAt: new Date().toISOString(),
      MessageID: crypto.randomUUID(),
      ErrorCode: 0,
      Message: "OK",
    });
  }) as typeof fetch;
  return {
    inbox,
    restore: () => {
      globalThis.fetch = real;
    },
  };
}
