// Compiled with `tsc --noEmit` against the generated declarations: keyed
// places and parameterized transitions (fire args, count, keys, the new
// fields of events, places, transitions and arcs), without casts.
import {
  type Event,
  type KeyProof,
  type KeysOptions,
  type KeysPage,
  type Model,
  type PlaceProof,
  type Stream,
  type TopOptions,
  verifyKeyProof,
} from "../../pkg/petrichain.js";

export async function bankDemo(model: Model, stream: Stream): Promise<number> {
  const keyed: boolean = model.places.some((p) => p.keyed === true);
  const params: string[] = model.transitions.flatMap((t) => t.params ?? []);
  const distinct: [string, string][] = model.transitions.flatMap((t) => t.distinct ?? []);
  const keys: (string | { const: string } | undefined)[] = model.arcs.map((a) => a.key);
  const signer: string[] = model.transitions.flatMap((t) => t.signer ?? []);
  const { event: at, proof }: { event: Event; proof: KeyProof } = await stream.prove("balance", {
    key: "alice",
    seq: 2,
  });
  const held: boolean = verifyKeyProof(proof, at.root);
  const nearest: [string, number] | undefined = proof.nearest;
  const unkeyed: PlaceProof = (await stream.prove("registered", 1)).proof;
  const e: Event = await stream.fire("transfer", { args: { from: "alice", to: "bob" }, multiple: 30 });
  const args: [string, string][] = e.args ?? [];
  const changed: [string, string, number][] = e.keys ?? [];
  const alice: number = await stream.count("balance", "alice");
  const page: KeysPage = await stream.keys("balance", { after: "alice", limit: 10 });
  const first: { key: string; count: number } | undefined = page.keys[0];
  const search: KeysOptions = { prefix: "al", after: "alice", limit: 20 };
  const found: KeysPage = await stream.keys("balance", search);
  const options: TopOptions = { limit: 20 };
  const top: KeysPage = await stream.top("balance", options);
  // @ts-expect-error a prefix is a string
  await stream.keys("balance", { prefix: 1 });
  // @ts-expect-error args are keys (strings), not numbers
  await stream.fire("transfer", { args: { from: 1 } });
  const svg: string = model.renderSvg(stream.marking, { keys: { balance: page.count } });
  return (
    Number(keyed) +
    params.length +
    distinct.length +
    keys.length +
    signer.length +
    Number(held) +
    (nearest?.[1] ?? 0) +
    unkeyed.count +
    args.length +
    changed.length +
    alice +
    page.total +
    found.count +
    (top.keys[0]?.count ?? 0) +
    (first?.count ?? 0) +
    svg.length
  );
}
