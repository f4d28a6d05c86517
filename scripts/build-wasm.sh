#!/usr/bin/env bash
# Builds the engine for wasm32 and generates the JS bindings into pkg/.
#   scripts/build-wasm.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/wasm-env.sh
profile=wasm-release; profile_flags="--profile wasm-release $WASM_RELEASE_FLAGS"
rustflags="$WASM_RELEASE_RUSTFLAGS"; wrapper="$WASM_RELEASE_WRAPPER"
if [ "${1:-}" = "--dev" ]; then profile=debug; profile_flags=; rustflags=; wrapper="${RUSTC_WRAPPER:-}"; fi
echo "[build] petrichain-web for wasm32 ($profile)"
# shellcheck disable=SC2086
RUSTC_WRAPPER="$wrapper" CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$rustflags" \
  $WASM_CARGO build -p petrichain-web --lib --target wasm32-unknown-unknown $profile_flags $WASM_CARGO_FLAGS
# The cdylib is petrichain_web.wasm; the package keeps the names
# pkg/petrichain.js and pkg/petrichain_bg.wasm.
rm -rf pkg/snippets # wasm-bindgen's copies of web/src/*.js; none stale
wasm-bindgen --target web --out-dir pkg --out-name petrichain \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/$profile/petrichain_web.wasm"
if [ "$profile" = wasm-release ]; then
  # binaryen from npm (setup.sh installs it); Debian's binaryen is too old for rustc 1.96 output.
  wasm_opt=node_modules/.bin/wasm-opt
  [ -x "$wasm_opt" ] || { echo "[build] $wasm_opt missing: run scripts/setup.sh (npm packages)" >&2; exit 1; }
  before=$(wc -c < pkg/petrichain_bg.wasm)
  # -Oz: about 3 KB gzipped smaller than -O3. The speed-critical code keeps
  # rustc's inlining (sha2 is built at opt-level 3).
  "$wasm_opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    pkg/petrichain_bg.wasm -o pkg/petrichain_bg.wasm
  echo "[build] wasm-opt -Oz: $before -> $(wc -c < pkg/petrichain_bg.wasm) bytes"
fi
echo "[build] pkg/petrichain.js, pkg/petrichain_bg.wasm ($(wc -c < pkg/petrichain_bg.wasm) bytes, $(gzip -9c pkg/petrichain_bg.wasm | wc -c) gzipped)"
