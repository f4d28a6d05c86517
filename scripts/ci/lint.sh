#!/usr/bin/env bash
# Formatting and clippy: the native build of the workspace (petrichain-web is
# wasm32 only and compiles natively as an empty crate), then petrichain-web
# for wasm32-unknown-unknown, where its code actually is.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
. scripts/wasm-env.sh
# On the Debian route the clippy next to that cargo (rust-web-clippy), not rustup's.
case "$WASM_CARGO" in /*) PATH="$(dirname "$WASM_CARGO"):$PATH" ;; esac
# shellcheck disable=SC2086
$WASM_CARGO clippy -p petrichain-web --all-targets --target wasm32-unknown-unknown $WASM_CARGO_FLAGS --quiet -- -D warnings
# ... and the `petrichain/core` build (pkg/core/: no formats, render, analysis).
# shellcheck disable=SC2086
$WASM_CARGO clippy -p petrichain-web --lib --no-default-features --features sync --target wasm32-unknown-unknown $WASM_CARGO_FLAGS --quiet -- -D warnings
# ... and the smallest build an app can make (no feature at all: no sync either).
# shellcheck disable=SC2086
$WASM_CARGO clippy -p petrichain-web --lib --no-default-features --target wasm32-unknown-unknown $WASM_CARGO_FLAGS --quiet -- -D warnings
