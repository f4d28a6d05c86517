#!/usr/bin/env bash
# RUSTC_WRAPPER for the shipped wasm build on the build-std route (set by
# scripts/wasm-env.sh as WASM_RELEASE_WRAPPER; build-wasm.sh and bench.sh use
# it). It marks every function of every wasm32 crate (std included) as
# inlinable across crates, except sha2's.
#
# Why: the core and the web edge are two crates since the house split, which
# left about 6 KB gzipped of duplicated or differently inlined code; cross-crate
# inlining gives it back and more (2026-12-01: 297.3 -> 289.0 KB gzipped, the
# store, verification and firing benchmarks unchanged or faster, see
# BENCHMARKS.md). sha2 is left out because its compression function would
# otherwise be compiled inside the callers at opt-level "z" instead of sha2's
# own opt-level 3: chain verification fell from 280 k to 208 k events/s when
# every crate had the flag.
#
# Why a wrapper and not cargo: per-package rustflags in a profile need the
# unstable `profile-rustflags` cargo feature declared in Cargo.toml, which
# stable cargo refuses to read; a wrapper keeps the manifest stable.
set -euo pipefail
rustc="$1"
shift
case " $* " in
*" --crate-name sha2 "*) exec "$rustc" "$@" ;;
*" --target wasm32-unknown-unknown "*) exec "$rustc" "$@" -Zcross-crate-inline-threshold=always ;;
*) exec "$rustc" "$@" ;;
esac
