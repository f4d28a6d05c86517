#!/usr/bin/env bash
# RUSTC_WRAPPER for the shipped wasm build on the build-std route (set by
# scripts/wasm-env.sh as WASM_RELEASE_WRAPPER; build-wasm.sh and bench.sh use
# it). That build's RUSTFLAGS mark every function of every wasm32 crate (std
# included) as inlinable across crates (-Zcross-crate-inline-threshold=always,
# in RUSTFLAGS so that cargo's fingerprints see it); this wrapper puts sha2
# back to rustc's default (100).
#
# Why: the core and the web edge are two crates since the house split, which
# left about 6 KB gzipped of duplicated or differently inlined code; cross-crate
# inlining gives it back and more (see BENCHMARKS.md, "House refactor: the
# wasm build"). sha2 is left out because its compression function would
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
*" --crate-name sha2 "*) exec "$rustc" "$@" -Zcross-crate-inline-threshold=100 ;;
*) exec "$rustc" "$@" ;;
esac
