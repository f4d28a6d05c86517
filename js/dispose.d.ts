// The bindings' classes implement `[Symbol.dispose]()` (explicit resource
// management: `using ledger = ...`). TypeScript's lib declares
// `Symbol.dispose` only from "esnext" / "es2025" (esnext.disposable); declare
// it for projects on an older lib, as @types/node does, so the package's
// types check with any lib from es2022 up.
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}
export {};
