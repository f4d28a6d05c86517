// The sync API with strict types (tsc --noEmit against pkg/petrichain.d.ts).
import type {
  Ledger,
  AppendOk,
  AppendRequest,
  Conflict,
  EventPage,
  Head,
  PetrichainError,
  SyncHandle,
  SyncProgress,
  SyncReport,
  SyncStatus,
  SyncTransport,
} from "../../pkg/petrichain.js";

export async function syncDemo(ledger: Ledger): Promise<number> {
  const pages = new Map<string, EventPage>();
  const transport: SyncTransport = {
    name: "mine",
    async pull(stream: string, after: number, limit: number): Promise<EventPage | null> {
      return pages.get(`${stream}:${after}:${limit}`) ?? null;
    },
    async push(_stream: string, request: AppendRequest): Promise<AppendOk | { conflict: Head }> {
      return { head: request.expected, stored: request.events.length, duplicates: 0 };
    },
  };
  const viaUrl: SyncHandle = ledger.sync({
    url: "https://example.invalid/ledger",
    headers: { Authorization: "Bearer x" },
    streams: ["s"],
    interval: 5000,
  });
  const viaJs: SyncHandle = ledger.sync({ transport });
  const off: () => void = viaJs.on("progress", (p: SyncProgress) => {
    if (p.type === "pulled") console.log(p.events, p.head.seq);
  });
  viaJs.on("conflict", (c: Conflict) => console.log(c.code, c.event.action, c.remote.hash));
  viaJs.on("error", (e: PetrichainError) => console.log(e.code));
  off();
  // Untyped callbacks get each kind's value (SyncEvents), not `any`.
  viaJs.on("status", (s) => {
    const known: SyncStatus = s;
    // @ts-expect-error a status is a string union, not a number
    const n: number = s;
    return known.length + n;
  });
  viaJs.on("progress", (p) => (p.type === "stream" ? p.report.pending : 0));
  viaJs.on("conflict", (c) => c.reason.code ?? c.event.seq);
  viaJs.on("error", (e) => {
    // @ts-expect-error an error's code is a PetrichainErrorCode, not a number
    const code: number = e.code;
    return code;
  });
  // @ts-expect-error there is no "done" event
  viaJs.on("done", () => {});
  try {
    const report: SyncReport = await viaJs.now();
    const status: SyncStatus = viaJs.status;
    viaUrl.start();
    viaUrl.stop();
    const conflicts: Conflict[] = await ledger.conflicts("s");
    const cleared: number = await ledger.clearConflicts("s");
    const pending: number = await viaJs.pending();
    return report.streams.length + status.length + conflicts.length + cleared + pending;
  } catch (e) {
    return (e as PetrichainError).code.length;
  }
}
