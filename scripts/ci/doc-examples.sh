#!/usr/bin/env bash
# Every code block of README.md and docs/*.md: TypeScript type-checked against
# the built package's types (pkg/petrichain.d.ts, so after wasm-build), JSON
# parsed, shell commands' npm scripts / script files / cargo targets looked
# up, Rust blocks required to be in the crate's doctest module (run by
# `cargo test --doc` in the native step), anything else marked with a reason.
# See scripts/ci/doc-examples.mjs.
set -euo pipefail
cd "$(dirname "$0")/../.."
node scripts/ci/doc-examples.mjs
