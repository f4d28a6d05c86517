// Compiled with `tsc --noEmit` against the generated declarations: the
// event-store API (Ledger, Stream) with strict types, without casts.
import {
  Ledger,
  type Model,
  type Stream,
  type Change,
  type Event,
  type RawEvent,
  type Head,
  type ImportReport,
  type Marking,
  type StreamInfo,
  type Verified,
  type PlaceProof,
  verifyPlaceProof,
} from "../../pkg/petrichain.js";

export async function ledgerDemo(model: Model): Promise<number> {
  const ledger: Ledger = await Ledger.open("shop");
  const memory: Ledger = await Ledger.memory();
  const deviceKey: string = memory.deviceKey;
  const id: string = await ledger.putModel(model);
  const stored: Model = await ledger.model(id);
  const stream: Stream = await ledger.createStream("till-1", id);
  const e: Event = await stream.fire("sell", { actor: "ann", roles: ["clerk"], payload: { sku: 7 }, multiple: 2 });
  const e2: Event = await stream.fire("sell");
  const batch: Event[] = await stream.fireBatch([{ action: "sell" }, { action: "sell", payload: "{}" }]);
  const head: Head = stream.head;
  const marking: Marking = stream.marking;
  const enabled: string[] = stream.enabled(["clerk"]).concat(stream.enabled());
  const events: Event[] = await stream.events({ after: 1, limit: 10 });
  const all: Event[] = await stream.events();
  const raw: RawEvent[] = await stream.events({ after: 1, payloadText: true });
  const rawText: string = raw[0].payload;
  const exact: Event = await stream.fire("sell", { payloadText: '{"n": 12345678901234567890}' });
  // A payload comes out as a value to narrow, not as text to parse.
  // @ts-expect-error Event.payload is unknown, not a string
  const notText: string = exact.payload;
  const value = e.payload as { sku: number };
  await stream.refresh();
  const infos: StreamInfo[] = await ledger.streams();
  const { event: proved, proof }: { event: Event; proof: PlaceProof } = await stream.prove("stock", 1);
  const holds: boolean = verifyPlaceProof(proof, proved.root) && proof.path.length >= 0;
  const verified: Verified[] = await ledger.verify();
  const one: Verified[] = await ledger.verify("till-1");
  const text: string = await ledger.exportJsonl("till-1");
  const report: ImportReport = await memory.importJsonl(text);
  const unsubscribe: () => void = ledger.subscribe("till-1", (change: Change) => change.seq);
  unsubscribe();
  ledger.close();
  const persisted: boolean = ledger.persisted;
  return (
    e.seq +
    e2.delta.length +
    e2.delta[0][1] +
    (e.signer === deviceKey ? 1 : 0) +
    e.nonce.length +
    e.root.length +
    (e.sig?.length ?? 0) + // absent inside a signature run
    e.v +
    verified[0].root.length +
    report.version +
    infos[0].state.length +
    batch.length +
    head.seq +
    (marking.stock ?? 0) +
    enabled.length +
    events.length +
    all.length +
    infos.length +
    verified.length +
    one.length +
    report.added +
    value.sku +
    rawText.length +
    notText.length +
    (persisted ? 1 : 0) +
    (holds ? proof.count : 0) +
    stored.places.length
  );
}
