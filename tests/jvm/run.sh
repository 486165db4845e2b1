#!/bin/sh
# Run the Bouncy Castle vector tool: `run.sh gen OUTDIR` or `run.sh check INDIR`.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
"$HERE/setup.sh"
JAVA_DIR=/usr/share/java
exec java -cp "$HERE/build:$JAVA_DIR/bcprov.jar:$JAVA_DIR/bcpkix.jar:$JAVA_DIR/bcutil.jar:$JAVA_DIR/gson.jar" \
    awalatest.Vectors "$@"
