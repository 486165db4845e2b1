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
