#!/usr/bin/env bash
# Unit, property, integration and doc tests of every crate, natively.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo test --workspace
