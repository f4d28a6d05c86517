// The analysis API with strict types (tsc --noEmit against pkg/petrichain.d.ts).
import type {
  Model,
  Deadlock,
  FiringCounts,
  Invariant,
  NetInvariants,
  Reachability,
  StateSpace,
} from "../../pkg/petrichain.js";

export function sentences(model: Model): string[] {
  const inv: NetInvariants = model.invariants();
  const all: Invariant[] = [...inv.places.invariants, ...inv.transitions.invariants];
  return all.map((i) => i.sentence);
}

export function firstDeadlock(model: Model): string[] | undefined {
  const space: StateSpace = model.explore({ maxStates: 10_000, maxMillis: 500 });
  if (!space.complete && space.stopped?.limit === "time") return undefined;
  const d: Deadlock | undefined = space.deadlocks[0];
  return d?.sequence;
}

export function reach(model: Model): string {
  const r: Reachability = model.isReachable(model.initialMarking(), { maxStates: 10 });
  switch (r.answer) {
    case "reachable":
      return r.sequence.join(" ");
    case "unreachable":
      return r.reason;
    case "unknown":
      return r.summary;
  }
}

export function csv(model: Model, events: { seq: number; action: string; multiple: number }[]): string {
  const counts: FiringCounts = model.firingCounts(events);
  return `${model.eventsCsv(events)}${counts.events}`;
}
