// Compiled with `tsc --noEmit` against the generated declarations: the public
// API must be usable with strict types, without casts.
import init, { Model, type Marking, type PetrichainError, type Place } from "../../pkg/petrichain.js";

export async function demo(): Promise<number> {
  await init();
  const model: Model = Model.fromJson({ places: [{ id: "a", initial: 1 }], transitions: [{ id: "t" }] });
  const places: Place[] = model.places;
  let marking: Marking = model.initialMarking();
  const enabled: string[] = model.enabled(marking, ["*"]);
  try {
    marking = model.fire(marking, enabled[0] ?? "t", { multiple: 1, roles: ["*"] });
  } catch (e) {
    const err = e as PetrichainError;
    const code: string = err.code;
    return code.length;
  }
  return places.length + (marking.a ?? 0) + model.id.length;
}
