#!/usr/bin/env bash
# Benchmark of the durable web form submission: POST /support/submit at 100
# concurrent connections against the gateway (`fte-api`, release build) with
# the local PostgreSQL and a standalone broker (`fte broker`), on loopback.
# Not a test: it prints figures to compare one change with the next —
# throughput, P50/P95/P99 (client and server side), the group commit's batch
# size, the gateway's peak RSS, and the CPU time per request of the gateway,
# of PostgreSQL and of the broker.
#
#   loadtest/bench-gateway.sh [duration_seconds=30] [connections=100]
#
# Each run starts from the same scratch database on the local server
# (created, migrated, given a history of BENCH_HISTORY=20000 earlier
# customers by loadtest/history.sql, dropped at the end), so two runs compare.
#
# BENCH_PERF=1 also samples the gateway with `perf record` during the
# measurement and prints its hottest functions (needs linux-perf).
# BENCH_API_BIN=path measures that gateway binary instead of building one,
# and BENCH_FTE_BIN=path migrates and hosts the broker with that `fte` (to
# compare two builds in one sitting).
# BENCH_KEEP=1 leaves the gateway, the broker and their addresses running
# afterwards (for a side-by-side run against another stack), until Ctrl-C.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$FTE_ROOT"

DURATION="${1:-30}"
CONNECTIONS="${2:-100}"
PORT="${BENCH_API_PORT:-8091}"

command -v wrk >/dev/null || {
  [ "$(id -u)" -eq 0 ] || die "wrk is missing (apt-get install wrk)"
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
}
if [ "${BENCH_PERF:-0}" = 1 ] && ! command -v perf >/dev/null; then
  [ "$(id -u)" -eq 0 ] || die "perf is missing (apt-get install linux-perf)"
  apt-get update -qq && apt-get install -y -qq linux-perf >/dev/null
fi
scripts/pg.sh start
log "building the gateway (release, unless BENCH_API_BIN) and the fte command"
api_bin="${BENCH_API_BIN:-}"
if [ -z "$api_bin" ]; then
  cargo build --release --locked -p fte-gateway --bin fte-api
  api_bin="$FTE_TARGET_DIR/release/fte-api"
fi
# The broker's work happens in librdkafka (C, always optimised); a debug
# `fte` is enough to host it and saves a release build of the agent stack.
fte_bin="${BENCH_FTE_BIN:-}"
if [ -z "$fte_bin" ]; then
  cargo build --locked -p fte-cli --bin fte
  fte_bin="$FTE_TARGET_DIR/debug/fte"
fi

work="$(mktemp -d)"
database="fte_bench_$(date +%s)_$$"
cleanup() {
  kill "${api_pid:-}" "${broker_pid:-}" 2>/dev/null || true
  wait 2>/dev/null || true
  scripts/pg.sh psql -qc "drop database if exists $database" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
scripts/pg.sh psql -qc "create database $database" >/dev/null
export DATABASE_URL="$(scripts/pg.sh url | sed "s|/fte\$|/$database|")"

# The binaries default to the production profile; this is a local bench.
export FTE_PROFILE=dev FTE_BROKER_ADDRESS_FILE="$work/broker.addr" LOG_FORMAT=json RUST_LOG=warn
unset KAFKA_BOOTSTRAP_SERVERS
"$fte_bin" broker >/dev/null 2>"$work/broker.log" &
broker_pid=$!
for _ in $(seq 1 100); do [ -s "$FTE_BROKER_ADDRESS_FILE" ] && break; sleep 0.1; done
[ -s "$FTE_BROKER_ADDRESS_FILE" ] || die "the broker did not start"
"$fte_bin" migrate
history="${BENCH_HISTORY:-20000}"
log "writing a history of $history customers"
scripts/pg.sh psql "$database" -q -v ON_ERROR_STOP=1 -v customers="$history" -f loadtest/history.sql >/dev/null

API_PORT="$PORT" SUBMIT_RATE_LIMIT_PER_MINUTE=100000000 "$api_bin" 2>"$work/api.log" &
api_pid=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "http://127.0.0.1:$PORT/ready" >/dev/null || die "the gateway did not become ready"

# CPU time (user + system, in clock ticks) of a process, and of the
# PostgreSQL server: its live processes plus the children it has reaped
# (a backend that ended during the run is counted by the postmaster).
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pg_ticks() {
  local postmaster total=0 pid
  postmaster="$(ss -ltnpH "sport = :${FTE_PG_PORT:-54329}" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)"
  total="$(awk '{print $14 + $15 + $16 + $17}' "/proc/$postmaster/stat")"
  for pid in $(pgrep -P "$postmaster"); do
    total=$((total + $(ticks "$pid" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

log "warm-up (5 s)"
wrk -t2 -c"$CONNECTIONS" -d5s -s loadtest/submit.lua "http://127.0.0.1:$PORT" >/dev/null
[ "${BENCH_PERF:-0}" = 1 ] && {
  perf record -F 499 -g -p "$api_pid" -o "$work/perf.data" -- sleep "$DURATION" >/dev/null 2>&1 &
  perf_pid=$!
}
log "measuring (${DURATION} s, $CONNECTIONS connections)"
api0="$(ticks "$api_pid")" broker0="$(ticks "$broker_pid")" pg0="$(pg_ticks)"
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s -s loadtest/submit.lua "http://127.0.0.1:$PORT" | tee "$work/wrk.txt"
api1="$(ticks "$api_pid")" broker1="$(ticks "$broker_pid")" pg1="$(pg_ticks)"
curl -fsS "http://127.0.0.1:$PORT/metrics" >"$work/metrics.txt"
# The gateway's own view of the same requests (histogram buckets: upper
# bounds), to tell queueing in the server from queueing in the client.
awk -F'[{}" ]+' '
  /^fte_http_request_duration_seconds_bucket/ && /route="\/support\/submit"/ {
    for (i = 1; i <= NF; i++) if ($i ~ /le=$/) le = $(i + 1)
    bound[++n] = le; count[n] = $NF
  }
  END {
    total = count[n]
    split("50 95 99", ps, " ")
    for (k = 1; k <= 3; k++) {
      for (i = 1; i <= n; i++) if (count[i] >= total * ps[k] / 100) { printf "server-side p%s <= %s s\n", ps[k], bound[i]; break }
    }
  }' "$work/metrics.txt"
awk '/^fte_submit_batch_size_sum/ {s = $2} /^fte_submit_batch_size_count/ {c = $2}
  END { if (c > 0) printf "group commit: %d batches, %.1f submissions per batch on average\n", c, s / c }' "$work/metrics.txt"
requests="$(awk '/^requests/ {sub(",", "", $2); print $2}' "$work/wrk.txt")"
hz="$(getconf CLK_TCK)"
per_request() { awk -v t="$1" -v n="$requests" -v hz="$hz" 'BEGIN { printf "%.0f", t / hz * 1e6 / n }'; }
echo "CPU per request: gateway $(per_request $((api1 - api0))) µs, PostgreSQL $(per_request $((pg1 - pg0))) µs, broker $(per_request $((broker1 - broker0))) µs"
rss_kib="$(awk '/VmHWM/ {print $2}' "/proc/$api_pid/status")"
echo "gateway peak RSS $((rss_kib / 1024)) MiB"
tickets="$(scripts/pg.sh psql "$database" -tAc "select count(*) from tickets")"
echo "tickets stored: $tickets"
if [ "${BENCH_PERF:-0}" = 1 ]; then
  wait "$perf_pid" || true
  echo "gateway's hottest functions (self time, perf):"
  perf report -i "$work/perf.data" --no-children --sort symbol --stdio 2>/dev/null |
    grep -E "^ +[0-9.]+%" | sed -E "s/ +-? +-? *$//" | head -40
fi
if [ "${BENCH_KEEP:-0}" = 1 ]; then
  echo "gateway http://127.0.0.1:$PORT, broker $(cat "$FTE_BROKER_ADDRESS_FILE"); Ctrl-C to stop"
  wait "$api_pid"
fi
