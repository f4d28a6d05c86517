#!/usr/bin/env bash
# The npm package as a user gets it: npm pack, install the tarball into a
# fresh project, use it from Node and from a Vite-built page in Chromium.
set -euo pipefail
cd "$(dirname "$0")/../.."
node --test tests/package/
