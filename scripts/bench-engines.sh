#!/usr/bin/env bash
# Embedded against distributed, side by side in one run: `awala-gateway bench` (PoHTTP ingest,
# then PoWeb collection) against
#   embedded     one process on a data directory (SQLite, local files, embedded queue);
#   distributed  one process on RabbitMQ + PostgreSQL + Redis + S3 (s3s-fs, the fastest S3
#                server that installs here; moto is far slower);
#   s3-bodies    the same with every body in the bucket (`inline_max=0`), none in PostgreSQL;
#   replicas     two processes on the same engines, the load spread over both.
# Prints each round's figures and the gateway CPU per parcel (utime + stime of every gateway
# process, from /proc, over ingest and collection), then the medians. Not part of the tests.
#
#   scripts/bench-engines.sh [ROUNDS] [PARCELS]      (defaults 3 and 5000)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
parcels="${2:-5000}"
work="$(mktemp -d /tmp/awala-bench.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

bash scripts/services.sh >/dev/null
amqp="${AWALA_TEST_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"
postgres="${AWALA_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
redis="${AWALA_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"

# s3s-fs: an S3 server over a directory, from crates.io, installed inside the clone.
s3s=.services/s3s/bin/s3s-fs
if [ ! -x "$s3s" ]; then
  cargo install s3s-fs@0.14.1 --features binary --locked --root .services/s3s
fi
mkdir -p "$work/s3/awala-bench"
"$s3s" --host 127.0.0.1 --port 9100 --access-key "$AWS_ACCESS_KEY_ID" \
  --secret-key "$AWS_SECRET_ACCESS_KEY" "$work/s3" >"$work/s3s.log" 2>&1 &
pids+=($!)

cargo build --release --locked --quiet
gateway=target/release/awala-gateway
hz="$(getconf CLK_TCK)"

# CPU ticks (utime + stime) of the given processes.
ticks() {
  local total=0 pid
  for pid in "$@"; do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}

# CPU ticks of every process of each engine, space-separated: postgres rabbitmq redis s3s.
engine_ticks() {
  local group pids
  for group in "-x postgres" "-f beam.smp" "-x redis-server" "-x s3s-fs"; do
    # shellcheck disable=SC2086
    pids="$(pgrep $group | tr '\n' ' ')"
    if [ -n "$pids" ]; then
      # shellcheck disable=SC2086
      printf '%s ' "$(ticks_alive $pids)"
    else
      printf '0 '
    fi
  done
}

# Like `ticks`, skipping processes that exit meanwhile (PostgreSQL forks per connection).
ticks_alive() {
  local total=0 pid stat
  for pid in "$@"; do
    stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || continue
    total=$((total + $(awk '{print $14 + $15}' <<<"$stat")))
  done
  echo "$total"
}

# Busy and total ticks of the whole machine (all cores), from /proc/stat.
machine_ticks() {
  awk '/^cpu / {busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, busy + $5 + $6}' /proc/stat
}

# The bench client's CPU ticks so far: the shell's finished children, from `times`, which must
# run in this shell (a subshell has no children's times), hence the file.
client_ticks() {
  times >"$work/times"
  awk -v hz="$hz" 'NR == 2 {
    split($1, u, /[ms]/); split($2, s, /[ms]/)
    printf "%.0f", ((u[1] * 60 + u[2]) + (s[1] * 60 + s[2])) * hz
  }' "$work/times"
}

wait_ready() {
  for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$1/ready" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "gateway on admin port $1 never became ready" >&2
  return 1
}

# start NAME INDEX [backend flags...]: one gateway process, ports 18x80.. by index; prints its pid.
start() {
  local name="$1" index="$2"
  shift 2
  local base=$((18000 + index * 10))
  "$gateway" serve --data-dir "$work/$name-$index" --kek-file "$work/$name.kek" \
    --poweb-listen "127.0.0.1:$((base + 0))" --pohttp-listen "127.0.0.1:$((base + 1))" \
    --cogrpc-listen "127.0.0.1:$((base + 2))" --admin-listen "127.0.0.1:$((base + 3))" \
    "$@" >"$work/$name-$index.log" 2>&1 &
  echo $!
}

# run NAME PROCESSES [backend flags...]: one measurement; appends "NAME rate p99 collect cpu".
run() {
  local name="$1" processes="$2"
  shift 2
  local ids=() urls="" index
  # One after the other: the first creates the shared KEK file and the identity.
  for index in $(seq 0 $((processes - 1))); do
    ids+=("$(start "$name" "$index" "$@")")
    pids+=("${ids[-1]}")
    urls+="${urls:+,}http://127.0.0.1:$((18000 + index * 10 + 1))"
    wait_ready $((18000 + index * 10 + 3)) || { tail -20 "$work/$name-$index.log" >&2; exit 1; }
  done
  local before after engines_before engines_after machine_before machine_after client_before
  before="$(ticks "${ids[@]}")"
  engines_before="$(engine_ticks)"
  machine_before="$(machine_ticks)"
  client_ticks >"$work/client-before"
  client_before="$(cat "$work/client-before")"
  "$gateway" bench --poweb-url http://127.0.0.1:18000 --pohttp-url "$urls" \
    --gateways 10 --concurrency 64 --parcels "$parcels" >"$work/$name.out" 2>&1 ||
    { cat "$work/$name.out" >&2; tail -20 "$work/$name-0.log" >&2; exit 1; }
  after="$(ticks "${ids[@]}")"
  engines_after="$(engine_ticks)"
  machine_after="$(machine_ticks)"
  client_ticks >"$work/client-after"
  local client=$(($(cat "$work/client-after") - client_before))
  kill "${ids[@]}"
  wait "${ids[@]}" 2>/dev/null || true
  local ingest collect
  ingest="$(grep '^pohttp ingest' "$work/$name.out")"
  collect="$(grep '^poweb collection' "$work/$name.out" || true)"
  local rate p99 collected cpu
  rate="$(awk '{for (i = 1; i <= NF; i++) if ($i ~ /\/s$/) {sub(/\/s$/, "", $i); print $i}}' <<<"$ingest")"
  p99="$(awk '{for (i = 1; i <= NF; i++) if ($i == "p99") print $(i + 1)}' <<<"$ingest")"
  collected="$(awk '{for (i = 1; i <= NF; i++) if ($i ~ /\/s$/) {sub(/\/s$/, "", $i); print $i}}' <<<"$collect")"
  cpu="$(awk -v t=$((after - before)) -v hz="$hz" -v n="$parcels" 'BEGIN {printf "%.0f", t / hz / n * 1e6}')"
  printf '%-12s ingest %7s/s  p99 %7s ms  collection %7s/s  gateway cpu %5s us/parcel\n' \
    "$name" "$rate" "$p99" "${collected:--}" "$cpu"
  echo "$name $rate $p99 ${collected:-0} $cpu" >>"$work/results"
  # Where the machine's CPU went, per parcel: which engine bounds a run on one machine.
  python3 - "$hz" "$parcels" "$((after - before))" "$client" "$engines_before" "$engines_after" \
    "$machine_before" "$machine_after" <<'PY'
import sys
hz, n, gateway, client = (float(v) for v in sys.argv[1:5])
before, after = (list(map(float, v.split())) for v in sys.argv[5:7])
(mb_busy, mb_all), (ma_busy, ma_all) = (list(map(float, v.split())) for v in sys.argv[7:9])
us = lambda ticks: ticks / hz / n * 1e6
parts = [("gateway", gateway), ("client", client)] + list(
    zip(["postgres", "rabbitmq", "redis", "s3s-fs"], (a - b for a, b in zip(after, before))))
print("             cpu us/parcel: " + ", ".join(f"{k} {us(v):.0f}" for k, v in parts if v > 0)
      + f"; machine busy {100 * (ma_busy - mb_busy) / (ma_all - mb_all):.0f}%")
PY
}

# on_engines NAME PROCESSES NAMESPACE [OBJECT-URL-QUERY]: `run` on RabbitMQ + PostgreSQL + Redis +
# S3 in a namespace of its own (a database, queue and key prefix), dropped afterwards.
on_engines() {
  local name="$1" processes="$2" namespace="$3" query="${4:-}"
  psql "$postgres" -qc "CREATE DATABASE awala_$namespace" </dev/null
  run "$name" "$processes" --database "${postgres%/*}/awala_$namespace" \
    --queue "$amqp?prefix=$namespace&queue_type=classic&queue_expires_seconds=600" \
    --pubsub "$redis" \
    --objects "s3://awala-bench?endpoint=http://127.0.0.1:9100&region=us-east-1&prefix=$namespace$query"
  psql "$postgres" -qc "DROP DATABASE awala_$namespace WITH (FORCE)" </dev/null
}

for round in $(seq 1 "$rounds"); do
  echo "=== round $round of $rounds ($parcels parcels, 10 private gateways, concurrency 64)"
  run embedded 1
  namespace="b$(date +%s%N | sha256sum | cut -c1-16)"
  on_engines distributed 1 "${namespace}d"
  # Every body in the bucket (`inline_max=0`): what keeping small ones in the database saves.
  on_engines s3-bodies 1 "${namespace}s" "&inline_max=0"
  on_engines replicas 2 "${namespace}r"
done

echo "=== medians over $rounds rounds"
for name in embedded distributed s3-bodies replicas; do
  awk -v name="$name" '$1 == name {print $2, $3, $4, $5}' "$work/results" |
    python3 -c '
import statistics, sys
rows = [list(map(float, line.split())) for line in sys.stdin]
med = [statistics.median(column) for column in zip(*rows)]
print(f"{sys.argv[1]:<12} ingest {med[0]:7.0f}/s  p99 {med[1]:7.2f} ms  collection {med[2]:7.0f}/s  gateway cpu {med[3]:5.0f} us/parcel")
' "$name"
done | tee "$work/medians"
python3 - "$work/medians" <<'EOF'
import sys
rows = {line.split()[0]: line.split() for line in open(sys.argv[1])}
cpu = {name: float(row[-2]) for name, row in rows.items()}
rate = {name: float(row[2].rstrip("/s")) for name, row in rows.items()}
print(f"distributed / embedded gateway cpu per parcel: {cpu['distributed'] / cpu['embedded']:.2f}x")
print(f"two replicas / one, ingest rate: {rate['replicas'] / rate['distributed']:.2f}x")
print(f"small bodies in PostgreSQL / all in S3, ingest rate: {rate['distributed'] / rate['s3-bodies']:.2f}x")
EOF
