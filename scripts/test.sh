#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need, then runs them.
# README's second command and .ci/run both call this script.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

step "interop harnesses (npm packages pinned by lockfile, Bouncy Castle from Debian)"
bash tests/interop/setup.sh
bash tests/jvm/setup.sh

step "backing services"
bash scripts/services.sh
# The PostgreSQL metadata conformance suite runs against the server services.sh made sure of.
export AWALA_TEST_POSTGRES_URL="${AWALA_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
# The Redis notifier and S3 object-store suites run against the Redis and moto servers it started.
export AWALA_TEST_REDIS_URL="${AWALA_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
export AWALA_TEST_S3_URL="${AWALA_TEST_S3_URL:-s3://awala-test?endpoint=http://127.0.0.1:9000&region=us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"

step "format and lints"
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings

step "tests"
cargo test --all-targets --locked
