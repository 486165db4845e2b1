#!/bin/sh
# Self-test of the harness: relaynet-core checks its own vectors (generator and checker agree).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
"$here/setup.sh"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
node "$here/vectors/generate.mjs" "$dir"
node "$here/vectors/check.mjs" "$dir"
