#!/bin/sh
# Install the pinned npm packages for the interop harness, only when needed: node_modules is
# missing, or package-lock.json changed after the last install. Safe to run repeatedly (the Rust
# tests call it before generating vectors).
set -eu
cd "$(dirname "$0")"

stamp=node_modules/.package-lock.json  # rewritten by every npm install/ci
if [ ! -d node_modules ] || [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
