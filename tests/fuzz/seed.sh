#!/bin/sh
# Fill tests/fuzz/corpus/<target>/ from real interop vectors: relaynet-core (Node) and Bouncy
# Castle (JVM). Either producer may be missing (no node or no java): the other still seeds.
# Safe to rerun; corpus files are named by content hash. Usage: tests/fuzz/seed.sh [VECTOR_DIR]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VECTORS=${1:-$(mktemp -d)}
mkdir -p "$VECTORS"

dirs=""
if command -v node >/dev/null 2>&1; then
  sh "$ROOT/tests/interop/setup.sh"
  node "$ROOT/tests/interop/vectors/generate.mjs" "$VECTORS/node"
  dirs="$dirs $VECTORS/node"
else
  echo "seed.sh: node not found, skipping relaynet-core vectors" >&2
fi
if command -v java >/dev/null 2>&1; then
  sh "$ROOT/tests/jvm/run.sh" gen "$VECTORS/jvm"
  dirs="$dirs $VECTORS/jvm"
else
  echo "seed.sh: java not found, skipping Bouncy Castle vectors" >&2
fi
[ -n "$dirs" ] || { echo "seed.sh: no vector producer available" >&2; exit 1; }

# shellcheck disable=SC2086 # word splitting of $dirs is intended
python3 "$HERE/seed.py" "$HERE/corpus" $dirs
