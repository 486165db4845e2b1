#!/usr/bin/env bash
# Starts the backing services the test suite talks to, when they are not already running.
# Everything binds to loopback. Services are only started here if a test uses them.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# PostgreSQL: the metadata conformance suite runs against it when AWALA_TEST_POSTGRES_URL is set.
if ! port_open 5432; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql >/dev/null \
      || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql >/dev/null; }
  fi
  cluster=$(ls /etc/postgresql)
  pg_ctlcluster --skip-systemctl-redirect "$cluster" main start
  for _ in $(seq 1 50); do port_open 5432 && break; sleep 0.2; done
fi
echo "postgresql: up on 127.0.0.1:5432"

# --- rabbitmq ---
# RabbitMQ: the queue conformance suite and the distributed end-to-end pass use it
# (AWALA_TEST_AMQP_URL). Started only when 5672 does not answer: starting a second broker would
# delete the running one's pid file.
if ! port_open 5672; then
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rabbitmq-server >/dev/null \
      || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rabbitmq-server >/dev/null; }
  fi
  RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 ERL_EPMD_ADDRESS=127.0.0.1 \
    rabbitmq-server -detached
  for _ in $(seq 1 150); do port_open 5672 && break; sleep 0.2; done
  port_open 5672 || { echo "rabbitmq: did not start" >&2; exit 1; }
fi
echo "rabbitmq: up on 127.0.0.1:5672"

# --- redis ---
# Redis: the notifier tests run against it when AWALA_TEST_REDIS_URL is set.
if ! port_open 6379; then
  if ! command -v redis-server >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server >/dev/null \
      || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server >/dev/null; }
  fi
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no >/dev/null
  for _ in $(seq 1 50); do port_open 6379 && break; sleep 0.2; done
fi
echo "redis: up on 127.0.0.1:6379"

# --- s3 (moto) ---
# An S3 server for the object-store tests (AWALA_TEST_S3_URL): moto from PyPI, in a venv inside
# the repository (.services/, gitignored), bucket `awala-test`.
services_dir="$(cd "$(dirname "$0")/.." && pwd)/.services"
if ! port_open 9000; then
  if [ ! -x "$services_dir/venv-moto/bin/moto_server" ]; then
    mkdir -p "$services_dir"
    python3 -m venv "$services_dir/venv-moto" \
      || { DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv >/dev/null \
           && python3 -m venv "$services_dir/venv-moto"; }
    "$services_dir/venv-moto/bin/pip" install --quiet 'moto[s3]==5.2.5' flask flask-cors
  fi
  nohup "$services_dir/venv-moto/bin/moto_server" -H 127.0.0.1 -p 9000 >"$services_dir/moto.log" 2>&1 &
  for _ in $(seq 1 100); do port_open 9000 && break; sleep 0.2; done
fi
# Creating an existing bucket is fine: moto answers 200 (or 409, ignored), and the data is gone
# with the process anyway.
curl -s -o /dev/null -X PUT http://127.0.0.1:9000/awala-test || true
echo "s3 (moto): up on 127.0.0.1:9000, bucket awala-test"

# --- mongodb (secantusdb) ---
# A MongoDB wire-protocol server for the MongoDB metadata suite (AWALA_TEST_MONGODB_URL): no real
# mongod installs from the registries this project reaches, so secantusdb from PyPI (on
# WiredTiger), in a venv inside the repository, its data in .services/mongodb (emptied at each
# start: only tests use it). Set AWALA_TEST_MONGODB_URL to a real MongoDB to use that instead.
if ! port_open 27017; then
  if [ ! -x "$services_dir/venv-mongo/bin/secantusd-py" ]; then
    mkdir -p "$services_dir"
    python3 -m venv "$services_dir/venv-mongo"
    "$services_dir/venv-mongo/bin/pip" install --quiet 'secantusdb==0.7.0b3'
  fi
  rm -rf "$services_dir/mongodb" && mkdir -p "$services_dir/mongodb"
  nohup "$services_dir/venv-mongo/bin/secantusd-py" --host 127.0.0.1 --port 27017 \
    --storage-path "$services_dir/mongodb" >"$services_dir/mongodb.log" 2>&1 &
  for _ in $(seq 1 100); do port_open 27017 && break; sleep 0.2; done
  port_open 27017 || { echo "mongodb (secantusdb): did not start" >&2; exit 1; }
fi
echo "mongodb (secantusdb): up on 127.0.0.1:27017"
