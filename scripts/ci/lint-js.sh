#!/usr/bin/env bash
# Biome over the JavaScript and TypeScript of js/, www/, tests/ and scripts/
# (biome.json): formatting and lint, read-only; warnings fail too.
# To fix what it reports: npx biome check --write (or npm run format).
set -euo pipefail
cd "$(dirname "$0")/../.."
npx biome ci --error-on-warnings
