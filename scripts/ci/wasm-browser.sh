#!/usr/bin/env bash
# wasm-bindgen tests (web/tests/web_*.rs) in headless Chromium: the
# JS-facing API and IndexedDB, in a real browser.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/wasm-env.sh
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/web/webdriver.json"
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-120}"
tests=()
for f in web/tests/web_*.rs; do tests+=(--test "$(basename "$f" .rs)"); done
[ ${#tests[@]} -gt 0 ] || { echo "no browser test files (web/tests/web_*.rs)"; exit 1; }
# shellcheck disable=SC2086
$WASM_CARGO test -p petrichain-web --target wasm32-unknown-unknown $WASM_CARGO_FLAGS "${tests[@]}"
