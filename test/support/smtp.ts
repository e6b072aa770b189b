/**
 * A real SMTP inbox for tests: smtp-server on 127.0.0.1 (random port, no auth needed), every message parsed
 * with mailparser. It can be told to refuse (4xx/5xx at MAIL FROM, RCPT TO or end of DATA) or be stopped and
 * started again on the same port (an outage), or receive a whole message and then drop the connection, or
 * never answer it (outcome unknown to the sender).
 */
import type { AddressInfo } from "node:net";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, beforeEach } from "vitest";

export interface ReceivedMessage {
  envelope: { from: string; to: string[] };
  raw: string;
  parsed: ParsedMail;
}

export type FailStage = "mail" | "rcpt" | "data";

export interface TestInbox {
  url: string;
  port: number;
  messages: ReceivedMessage[];
  /** Refuse every message with this SMTP code at this stage (null: accept again). */
  failWith(code: number | null, stage?: FailStage, text?: string): void;
  /**
   * After receiving a whole message (it counts as delivered: a real server would deliver it), "drop" closes
   * the connection without a reply; "silent" never replies. "drop-at-rcpt" closes it at RCPT TO (before any
   * message data). null: answer normally again.
   */
  misbehave(mode: "drop" | "silent" | "drop-at-rcpt" | null): void;
  /** Stop listening: connections are refused until start(). */
  stop(): Promise<void>;
  start(): Promise<void>;
  clear(): void;
  close(): Promise<void>;
}

function smtpError(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

export async function startInbox(): Promise<TestInbox> {
  const messages: ReceivedMessage[] = [];
  let failure: { code: number; stage: FailStage; text: string } | null = null;
  let mode: "drop" | "silent" | "drop-at-rcpt" | null = null;
  let server: SMTPServer | null = null;
  let port = 0;

  const failAt = (stage: FailStage) => (failure && failure.stage === stage ? failure : null);

  /** Closes the TCP connection of a session without a word. */
  function dropSession(s: SMTPServer, id: string) {
    const conns = (s as unknown as { connections: Set<{ id: string; _socket: { destroy(): void } }> })
      .connections;
    for (const c of conns) if (c.id === id) c._socket.destroy();
  }

  function create(): SMTPServer {
    const s: SMTPServer = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS", "AUTH"],
      logger: false,
      disableReverseLookup: true,
      onMailFrom(_address, _session, cb) {
        const f = failAt("mail");
        cb(f ? smtpError(f.code, f.text) : undefined);
      },
      onRcptTo(_address, session, cb) {
        if (mode === "drop-at-rcpt") return dropSession(s, session.id);
        const f = failAt("rcpt");
        cb(f ? smtpError(f.code, f.text) : undefined);
      },
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          const f = failAt("data");
          if (f) return cb(smtpError(f.code, f.text));
          const raw = Buffer.concat(chunks).toString("utf8");
          const misbehaving = mode;
          simpleParser(raw)
            .then((parsed) => {
              const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
              messages.push({
                envelope: { from, to: session.envelope.rcptTo.map((r) => r.address) },
                raw,
                parsed,
              });
              if (misbehaving === "drop") return dropSession(s, session.id);
              if (misbehaving === "silent") return;
              cb();
            })
            .catch((err: Error) => cb(err));
        });
      },
    });
    return s;
  }

  async function listen(): Promise<void> {
    const s = create();
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => resolve());
    });
    s.on("error", () => {});
    const addr = s.server.address() as AddressInfo;
    port = addr.port;
    server = s;
  }

  async function stop(): Promise<void> {
    const s = server;
    server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  await listen();
  return {
    get url() {
      return `smtp://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    messages,
    failWith(code, stage = "rcpt", text) {
      failure =
        code === null ? null : { code, stage, text: text ?? (code >= 500 ? "Rejected" : "Try again later") };
    },
    misbehave(m) {
      mode = m;
    },
    stop,
    start: listen,
    clear() {
      messages.length = 0;
    },
    close: stop,
  };
}

/** Stands for the value `current()` returns when it is used (a file-level handle to what its hooks create). */
export function lateBound<T extends object>(current: () => T | undefined, what: string): T {
  return new Proxy({} as T, {
    get(_, key) {
      const target = current();
      if (!target) throw new Error(`${what} is created by the test file's hooks: use it inside a test`);
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * One real inbox for a test file: started before its tests, closed after them, and before each test emptied and
 * answering normally again. Call it at the top level of the file.
 */
export function useInbox(): TestInbox {
  let inbox: TestInbox | undefined;
  beforeAll(async () => {
    inbox = await startInbox();
  });
  afterAll(async () => {
    await inbox?.close();
  });
  beforeEach(() => {
    inbox!.clear();
    inbox!.failWith(null);
    inbox!.misbehave(null);
  });
  return lateBound(() => inbox, "the test inbox");
}
