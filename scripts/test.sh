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
# The RabbitMQ queue conformance suite and fault tests.
export AWALA_TEST_AMQP_URL="${AWALA_TEST_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"

step "deployment manifests (deploy/: Dockerfile, compose, Helm chart, systemd unit)"
bash deploy/validate.sh

step "format and lints"
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings

step "tests"
cargo test --all-targets --locked
