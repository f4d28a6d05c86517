#!/usr/bin/env bash
# Builds the engine for wasm32 and generates the JS bindings into pkg/.
#   scripts/build-wasm.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/wasm-env.sh
profile=release; profile_flag=--release
if [ "${1:-}" = "--dev" ]; then profile=debug; profile_flag=; fi
echo "[build] petrichain for wasm32 ($profile)"
# shellcheck disable=SC2086
$WASM_CARGO build -p petrichain --lib --target wasm32-unknown-unknown $profile_flag $WASM_CARGO_FLAGS
wasm-bindgen --target web --out-dir pkg --out-name petrichain \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/$profile/petrichain.wasm"
echo "[build] pkg/petrichain.js, pkg/petrichain_bg.wasm ($(wc -c < pkg/petrichain_bg.wasm) bytes, $(gzip -9c pkg/petrichain_bg.wasm | wc -c) gzipped)"
