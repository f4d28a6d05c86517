#!/usr/bin/env bash
# Rustdoc with warnings denied (broken intra-doc links, bare URLs, invalid
# code-block attributes ...): every crate of the workspace natively, then
# petrichain-web for wasm32, where its code is (natively it is empty).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUSTDOCFLAGS="${RUSTDOCFLAGS:-} -D warnings" cargo doc --workspace --no-deps --quiet
. scripts/wasm-env.sh
# shellcheck disable=SC2086
RUSTDOCFLAGS="${RUSTDOCFLAGS:-} -D warnings" \
  $WASM_CARGO doc -p petrichain-web --no-deps --quiet --target wasm32-unknown-unknown $WASM_CARGO_FLAGS
