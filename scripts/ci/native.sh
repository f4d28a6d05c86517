#!/usr/bin/env bash
# Unit, property, integration and doc tests of every crate, natively, then
# the transfers load tool at a small size.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo test --workspace
# The load tool of issue 14 at a small size on SQLite (loopback, bounded):
# 8 clients, 400 transfers among 50 users through the in-process server;
# exits non-zero when a check fails (sum of balances, acknowledged
# transfers in the chain exactly once, refused ones absent, verification).
cargo run -p petrichain-server --example transfers --quiet -- -c 8 -t 400 -u 50 --pending 5 --timeout 300
