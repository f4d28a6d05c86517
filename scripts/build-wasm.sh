#!/usr/bin/env bash
# Builds the engine for wasm32 and generates the JS bindings:
#   pkg/       everything (the package's main entry, `petrichain`)
#   pkg/core/  without the file formats, SVG rendering and analysis (the
#              `petrichain/core` entry: a smaller wasm, BENCHMARKS.md "Bundle");
#              both keep `sync`, the one feature an app may still drop
#   scripts/build-wasm.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/wasm-env.sh
profile=wasm-release; profile_flags="--profile wasm-release $WASM_RELEASE_FLAGS"
rustflags="$WASM_RELEASE_RUSTFLAGS"; wrapper="$WASM_RELEASE_WRAPPER"
if [ "${1:-}" = "--dev" ]; then profile=debug; profile_flags=; rustflags=; wrapper="${RUSTC_WRAPPER:-}"; fi
if [ "$profile" = wasm-release ]; then
  # binaryen from npm (setup.sh installs it); Debian's binaryen is too old for rustc 1.96 output.
  wasm_opt=node_modules/.bin/wasm-opt
  [ -x "$wasm_opt" ] || { echo "[build] $wasm_opt missing: run scripts/setup.sh (npm packages)" >&2; exit 1; }
fi

# build OUT_DIR [cargo feature flags]
build() {
  local out=$1; shift
  echo "[build] petrichain-web for wasm32 ($profile${*:+, $*}) -> $out/"
  # shellcheck disable=SC2086
  RUSTC_WRAPPER="$wrapper" CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$rustflags" \
    $WASM_CARGO build -p petrichain-web --lib --target wasm32-unknown-unknown $profile_flags $WASM_CARGO_FLAGS "$@"
  # The cdylib is petrichain_web.wasm; the package keeps the names
  # petrichain.js and petrichain_bg.wasm.
  rm -rf "$out/snippets" # wasm-bindgen's copies of web/src/*.js; none stale
  wasm-bindgen --target web --out-dir "$out" --out-name petrichain \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/$profile/petrichain_web.wasm"
  if [ "$profile" = wasm-release ]; then
    local before
    before=$(wc -c < "$out/petrichain_bg.wasm")
    # -Oz: about 3 KB gzipped smaller than -O3. The speed-critical code keeps
    # rustc's inlining (sha2 is built at opt-level 3).
    "$wasm_opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
      --enable-mutable-globals --enable-reference-types --enable-multivalue \
      "$out/petrichain_bg.wasm" -o "$out/petrichain_bg.wasm"
    echo "[build] wasm-opt -Oz: $before -> $(wc -c < "$out/petrichain_bg.wasm") bytes"
  fi
  echo "[build] $out/petrichain.js, $out/petrichain_bg.wasm ($(wc -c < "$out/petrichain_bg.wasm") bytes, $(gzip -9c "$out/petrichain_bg.wasm" | wc -c) gzipped)"
}

# The lean build first: the full one is what the target dir keeps for the
# wasm-bindgen tests and benches that follow.
build pkg/core --no-default-features --features sync
build pkg
