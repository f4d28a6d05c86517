// The error-code union and the isPetrichainError guard, with strict types.
import { isPetrichainError, type Model, type PetrichainError, type PetrichainErrorCode } from "../../pkg/petrichain.js";

/** What an app shows for a refusal: a switch over the literal codes. */
export function explain(code: PetrichainErrorCode): string {
  switch (code) {
    case "NOT_ENABLED":
      return "not enough tokens";
    case "ROLE_DENIED":
      return "not allowed";
    case "BAD_ARGUMENT":
      return "bad call";
    case "BAD_SIGNATURE":
      return "an event was not signed by its signer";
    case "COMMITMENT_MISMATCH":
      return "an event's marking root is wrong";
    default:
      return code;
  }
}

export function attempt(model: Model): string {
  try {
    model.fire(model.initialMarking(), "t", {});
    return "fired";
  } catch (e: unknown) {
    if (isPetrichainError(e)) {
      // Narrowed without a cast.
      const err: PetrichainError = e;
      const code: PetrichainErrorCode = err.code;
      return explain(code);
    }
    return "not ours";
  }
}

// @ts-expect-error: not one of the codes
export const wrong: PetrichainErrorCode = "NOT_A_CODE";
