#!/bin/sh
# Prepare the Bouncy Castle interop harness: install Debian's BC 1.72 jars (and gson, for
# manifest.json) when missing, then compile src/ into build/ when a source is newer than the
# last build. Idempotent and non-interactive, so CI and a fresh Debian 12 clone can call it
# every time (run.sh does).
set -eu
cd "$(dirname "$0")"

JAVA_DIR=/usr/share/java
JARS="$JAVA_DIR/bcprov.jar $JAVA_DIR/bcpkix.jar $JAVA_DIR/bcutil.jar $JAVA_DIR/gson.jar"
PACKAGES="libbcprov-java libbcpkix-java libbcutil-java libgoogle-gson-java"

need_install=no
for jar in $JARS; do
    [ -f "$jar" ] || need_install=yes
done
command -v javac >/dev/null 2>&1 || { need_install=yes; PACKAGES="$PACKAGES openjdk-17-jdk-headless"; }

if [ "$need_install" = yes ]; then
    export DEBIAN_FRONTEND=noninteractive
    # Try without refreshing the index first: a fresh `apt-get update` is only needed when the
    # local package lists are missing or stale.
    # shellcheck disable=SC2086
    if ! apt-get install -y --no-install-recommends $PACKAGES >/dev/null; then
        apt-get update -q >/dev/null
        apt-get install -y --no-install-recommends $PACKAGES >/dev/null
    fi
fi

CLASSPATH_JARS=$(echo "$JARS" | tr ' ' ':')
STAMP=build/.stamp
# Rebuild when any file or directory under src/ changed since the last build (directory
# mtimes catch deleted sources too).
if [ ! -f "$STAMP" ] || [ -n "$(find src -newer "$STAMP" | head -n 1)" ]; then
    rm -rf build
    mkdir -p build
    # shellcheck disable=SC2046
    javac -encoding UTF-8 --release 17 -Xlint:unchecked -cp "$CLASSPATH_JARS" -d build $(find src -name '*.java')
    touch "$STAMP"
fi
