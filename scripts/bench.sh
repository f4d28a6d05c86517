#!/usr/bin/env bash
# Benchmarks: criterion natively, then the in-browser wasm harnesses
# (web/tests/bench_web_*.rs, the shipped wasm-release profile, headless Chromium),
# then the peers page (bench/peers/: petrichain, Dexie, PouchDB, RxDB and a raw
# IndexedDB loop in one page, on the pkg/ that scripts/build-wasm.sh built).
#   scripts/bench.sh [native|wasm|editor|peers|adapters] [peers options: --n 10000 --singles 200 --rounds 3 --json FILE]
#   (default: all five)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
[ $# -gt 0 ] && shift
bash scripts/setup.sh --test
if [ "$what" = all ] || [ "$what" = native ]; then
  cargo bench -p petrichain
fi
if [ "$what" = all ] || [ "$what" = wasm ]; then
  # bench_web_sync.rs pulls from the reference server (release build).
  . scripts/ci/sync-servers.sh
  start_sync_servers release
  . scripts/wasm-env.sh
  export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
  export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/web/webdriver.json"
  export WASM_BINDGEN_TEST_TIMEOUT=600
  benches=()
  for f in web/tests/bench_web_*.rs; do benches+=(--test "$(basename "$f" .rs)"); done
  # The BENCH lines are repeated at the end; a harness that fails fails the
  # command (its status is the cargo's, not the grep's).
  log="$(mktemp)"
  status=0
  # shellcheck disable=SC2086
  RUSTC_WRAPPER="$WASM_RELEASE_WRAPPER" CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$WASM_RELEASE_RUSTFLAGS" \
  $WASM_CARGO test -p petrichain-web --profile wasm-release --target wasm32-unknown-unknown $WASM_CARGO_FLAGS $WASM_RELEASE_FLAGS "${benches[@]}" -- --nocapture 2>&1 \
    | tee "$log" >&2 || status=$?
  grep -E '^BENCH' "$log" || true
  rm -f "$log"
  if [ "$status" -ne 0 ]; then
    echo "bench.sh: a wasm benchmark harness failed (status $status): see its output above" >&2
    exit "$status"
  fi
fi
if [ "$what" = all ] || [ "$what" = editor ]; then
  # The app's net editor in headless Chromium (scripts/bench-editor.mjs).
  node scripts/bench-editor.mjs
fi
if [ "$what" = all ] || [ "$what" = peers ]; then
  cargo build --release -p petrichain-server --quiet
  [ -f pkg/petrichain_bg.wasm ] || bash scripts/build-wasm.sh
  node bench/peers/run.mjs "$@"
fi
if [ "$what" = all ] || [ "$what" = adapters ]; then
  # The sync adapters against their local servers, beside the reference server.
  cargo build --release -p petrichain-server --quiet
  bash scripts/ci/adapters.sh --install-only
  [ -f pkg/petrichain_bg.wasm ] || bash scripts/build-wasm.sh
  node scripts/bench-adapters.mjs
fi
