#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need, then runs them.
# README's second command and .ci/run both call this script.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

step "interop harnesses (npm packages pinned by lockfile, Bouncy Castle from Debian)"
bash tests/interop/setup.sh
bash tests/jvm/setup.sh

step "headless Chromium for the status-page test (Debian's chromium)"
if ! command -v chromium >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/dev/null \
    || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/dev/null; }
fi
export AWALA_TEST_REQUIRE_CHROMIUM=1

step "backing services"
bash scripts/services.sh
# The PostgreSQL metadata conformance suite runs against the server services.sh made sure of.
export AWALA_TEST_POSTGRES_URL="${AWALA_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
# The Redis notifier and S3 object-store suites run against the Redis and moto servers it started.
export AWALA_TEST_REDIS_URL="${AWALA_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
export AWALA_TEST_S3_URL="${AWALA_TEST_S3_URL:-s3://awala-test?endpoint=http://127.0.0.1:9000&region=us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
# The RabbitMQ queue suite, the engine-fault test and the distributed end-to-end pass below
# run against the RabbitMQ it made sure of.
export AWALA_TEST_AMQP_URL="${AWALA_TEST_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"
# The MongoDB metadata suite runs against secantusdb (or a real MongoDB given here).
export AWALA_TEST_MONGODB_URL="${AWALA_TEST_MONGODB_URL:-${MONGODB_URL:-mongodb://127.0.0.1:27017/?directConnection=true}}"

step "deployment manifests (deploy/: Dockerfile, compose, Helm chart, systemd unit)"
bash deploy/validate.sh

step "format and lints"
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings

step "tests"
cargo test --all-targets --locked

# Each distributed gateway namespace gets a PostgreSQL database (`awala_t…`, `awala_f…`,
# `awala_r…`); drop those of this run and of any earlier one, so they do not pile up on a
# machine that keeps its server.
drop_test_databases() {
  psql "$AWALA_TEST_POSTGRES_URL" -Atc \
    "SELECT datname FROM pg_database WHERE datname ~ '^awala_([t][0-9a-f]{16}|[fr][0-9a-f]{32})$'" </dev/null |
    while read -r name; do
      psql "$AWALA_TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" </dev/null
    done
}

step "end-to-end tests again, distributed: RabbitMQ, PostgreSQL, Redis and S3"
drop_test_databases
# Every gateway these tests spawn runs on the engines above, in a namespace of its own
# (tests/support/gateway.rs, `distributed`).
AWALA_TEST_DISTRIBUTED=1 cargo test --locked --test serve_interop --test serve_delivery \
  --test serve_relay --test serve_collection_volume --test serve_cogrpc \
  --test serve_cogrpc_collect --test serve_cogrpc_relay --test serve_poweb --test serve_admin \
  --test serve_status_page --test serve_revocation --test serve_peer_quotas

step "end-to-end collection and cargo tests once more, with the metadata on MongoDB"
AWALA_TEST_DISTRIBUTED=1 AWALA_TEST_DISTRIBUTED_DATABASE=mongodb cargo test --locked \
  --test serve_interop --test serve_collection_volume --test serve_cogrpc_relay --test serve_revocation
drop_test_databases
