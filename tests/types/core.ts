// `petrichain/core` (js/core/index.d.ts): the store's API with strict types,
// and none of the formats, rendering or analysis that its wasm leaves out.
import { Ledger, Model } from "../../js/core/index.js";

export async function coreDemo(): Promise<number> {
  using ledger = await Ledger.memory();
  const model = Model.fromJson({ places: [{ id: "a", initial: 1 }], transitions: [{ id: "t" }] });
  const stream = await ledger.createStream("s", await ledger.putModel(model));
  const events = await stream.fireBatch([{ action: "t" }]);
  // @ts-expect-error the core build has no file import
  Model.import("<pnml/>");
  // @ts-expect-error nor SVG rendering
  model.renderSvg(model.initialMarking(), {});
  // @ts-expect-error nor analysis
  model.invariants();
  return events.length + (await ledger.verify()).length;
}
