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
