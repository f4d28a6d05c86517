#!/usr/bin/env bash
# The app in headless Chromium, driven by Playwright (playwright-core, the
# system's /usr/bin/chromium; no browser download). Some tests run the app
# from the reference server as `npm start` does, so it is built first: the
# debug build, which the native step has mostly compiled already (a cold
# release build of the server would add minutes to CI; the pages do not
# measure the server's speed). PETRICHAIN_SERVER picks another binary.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
if [ -z "${PETRICHAIN_SERVER:-}" ]; then
  cargo build -p petrichain-server --quiet
  export PETRICHAIN_SERVER="${CARGO_TARGET_DIR:-$PWD/target}/debug/petrichain-server"
fi
node --test tests/e2e/
