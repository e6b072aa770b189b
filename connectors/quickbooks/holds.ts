/**
 * Credit holds written back to QuickBooks Online. QBO has no credit-hold flag and no credit limit in its API,
 * so a hold is a dated line in the customer's Notes (at most 2,000 characters; the user's own notes are kept
 * intact, our oldest lines go first), sent as a sparse update with the current SyncToken (on fault 5010, a
 * stale SyncToken, the customer is re-read and the update retried). When the company has a customer type
 * named "Credit Hold", the customer is moved to it and back on release.
 * We never send Active=false: inactivating a customer with a balance makes QBO post a balancing credit memo.
 */
import type { Clock } from "../../src/clock";
import { dateInZone } from "../../src/model";
import { type ConnectionContext, ConnectorError, type HoldNote, type WriteBackResult } from "../connector";
import { faultCodes, type QboApi } from "./client";
import type { QboCustomer } from "./map";

export const NOTES_MAX = 2000;
export const NOTE_MARK = "[Creditpulse]";
export const HOLD_TYPE_NAME = "Credit Hold";
const STALE_SYNC_TOKEN = "5010";
const PREV_TYPE_RE = /\{prev-type:([^}]*)\}\s*$/;

/**
 * The customer's notes with `line` added: the user's text stays as it was; our own lines (a trailing block of
 * lines starting with NOTE_MARK) keep the newest that fit. Null when even our new line cannot fit.
 */
export function mergeHoldNote(
  existing: string | undefined | null,
  line: string,
  max = NOTES_MAX,
): string | null {
  const lines = (existing ?? "").split("\n");
  let start = lines.length;
  while (start > 0 && lines[start - 1]!.startsWith(NOTE_MARK)) start--;
  // Blank lines right after the user's text belong to it only if followed by more of it.
  const user = lines.slice(0, start).join("\n").replace(/\s+$/, "");
  const ours = [...lines.slice(start), line.replace(/\s*\n\s*/g, " ")];
  const join = (o: string[]) => (user ? `${user}\n${o.join("\n")}` : o.join("\n"));
  while (ours.length > 1 && join(ours).length > max) ours.shift();
  if (join(ours).length <= max) return join(ours);
  const room = max - (user ? user.length + 1 : 0);
  if (room < NOTE_MARK.length + 20) return null;
  return join([`${ours[0]!.slice(0, room - 1)}…`]);
}

export interface HoldWriterOptions {
  api: QboApi;
  clock: Clock;
  /** How long the "Credit Hold" customer type lookup is remembered per realm. */
  typeCacheMs?: number;
}

export function createHoldWriter(opts: HoldWriterOptions) {
  const { api, clock } = opts;
  const typeCacheMs = opts.typeCacheMs ?? 3_600_000;
  const holdTypes = new Map<string, { at: number; id: string | null }>();

  async function holdTypeId(ctx: ConnectionContext): Promise<string | null> {
    const cached = holdTypes.get(ctx.tenantId);
    if (cached && clock.now() - cached.at < typeCacheMs) return cached.id;
    let id: string | null = null;
    try {
      const res = await api.query(ctx, `SELECT * FROM CustomerType WHERE Name = '${HOLD_TYPE_NAME}'`);
      const rows = (res.QueryResponse?.CustomerType ?? []) as {
        Id?: string;
        Name?: string;
        Active?: boolean;
      }[];
      id = rows.find((t) => t.Name === HOLD_TYPE_NAME && t.Active !== false)?.Id ?? null;
    } catch (err) {
      // Companies without customer types answer with a validation fault: holds still go into Notes.
      if (!(err instanceof ConnectorError) || err.kind !== "invalid_data") throw err;
    }
    holdTypes.set(ctx.tenantId, { at: clock.now(), id });
    return id;
  }

  async function write(
    ctx: ConnectionContext,
    hold: HoldNote,
    action: "place" | "release",
  ): Promise<WriteBackResult> {
    const typeId = await holdTypeId(ctx);
    const day = dateInZone(clock.now(), "UTC");
    for (let attempt = 1; ; attempt++) {
      const customer = await api.read<QboCustomer>(ctx, "Customer", hold.contactExternalId);
      if (!customer?.Id || customer.SyncToken === undefined)
        throw new ConnectorError(
          "invalid_data",
          `QuickBooks customer ${hold.contactExternalId} was not found`,
          {
            provider: "quickbooks",
          },
        );
      let line = `${NOTE_MARK} ${day} credit hold ${action === "place" ? "placed" : "released"}: ${hold.note.trim()}`;
      const body: Record<string, unknown> = { Id: customer.Id, SyncToken: customer.SyncToken, sparse: true };
      const current = customer.CustomerTypeRef?.value ?? null;
      let typeDetail = "";
      if (typeId && action === "place" && current !== typeId) {
        body.CustomerTypeRef = { value: typeId };
        line += ` {prev-type:${current ?? ""}}`;
        typeDetail = `; customer type set to "${HOLD_TYPE_NAME}"`;
      } else if (typeId && action === "release" && current === typeId) {
        const prev = (customer.Notes ?? "")
          .split("\n")
          .reverse()
          .map((l) => (l.startsWith(NOTE_MARK) ? PREV_TYPE_RE.exec(l)?.[1] : undefined))
          .find((v) => v !== undefined);
        if (prev) {
          body.CustomerTypeRef = { value: prev };
          typeDetail = "; previous customer type restored";
        } else typeDetail = `; customer type left as "${HOLD_TYPE_NAME}" (no earlier type recorded)`;
      }
      const notes = mergeHoldNote(customer.Notes, line);
      if (notes === null)
        return {
          written: false,
          detail: "the customer's Notes are full of the user's own text: nothing written",
        };
      body.Notes = notes;
      try {
        await api.save(ctx, "Customer", body);
        return { written: true, detail: `note added to the customer's Notes in QuickBooks${typeDetail}` };
      } catch (err) {
        if (faultCodes(err).includes(STALE_SYNC_TOKEN) && attempt < 4) continue;
        throw err;
      }
    }
  }

  return {
    placeHold: (ctx: ConnectionContext, hold: HoldNote) => write(ctx, hold, "place"),
    releaseHold: (ctx: ConnectionContext, hold: HoldNote) => write(ctx, hold, "release"),
  };
}
