#!/usr/bin/env bash
# The app in headless Chromium, driven by Playwright (playwright-core, the
# system's /usr/bin/chromium; no browser download). Some tests run the app
# from the reference server as `npm start` does, so it is built first.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release -p petrichain-server --quiet
node --test tests/e2e/
