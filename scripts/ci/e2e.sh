#!/usr/bin/env bash
# The app in headless Chromium, driven by Playwright (playwright-core, the
# system's /usr/bin/chromium; no browser download).
set -euo pipefail
cd "$(dirname "$0")/../.."
node --test tests/e2e/
