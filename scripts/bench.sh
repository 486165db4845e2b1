#!/usr/bin/env bash
# Protocol-core and cargo benchmarks: Rust (criterion) and relaynet-core (Node) side by side in
# one run, plus OpenSSL's own RSA-2048 figures for scale. Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/interop/setup.sh
echo "=== awala-gateway (criterion)"
cargo bench --bench protocol -- "$@"
echo "=== relaynet-core 1.88.2 (node)"
(cd tests/interop && node bench/relaynet-core.mjs)
echo "=== awala-gateway cargo unwrapping and collection (criterion)"
cargo bench --bench cargo -- "$@"
echo "=== relaynet-core 1.88.2 cargo (node)"
(cd tests/interop && node bench/cargo.mjs)
echo "=== openssl speed rsa2048"
openssl speed -seconds 3 rsa2048 2>/dev/null | tail -3
