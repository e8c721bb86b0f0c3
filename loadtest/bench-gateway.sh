#!/usr/bin/env bash
# Benchmark of the durable web form submission: POST /support/submit at 100
# concurrent connections against the gateway (`fte-api`, release build) with
# the local PostgreSQL and a standalone broker (`fte broker`), on loopback.
# Prints throughput, P50/P95/P99 and the gateway's peak RSS. Not a test: it
# reports figures.
#
#   loadtest/bench-gateway.sh [duration_seconds=30] [connections=100]
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
scripts/pg.sh start
log "building the gateway (release) and the fte command"
cargo build --release --locked -p fte-gateway --bin fte-api
# The broker's work happens in librdkafka (C, always optimised); a debug
# `fte` is enough to host it and saves a release build of the agent stack.
cargo build --locked -p fte-cli --bin fte

work="$(mktemp -d)"
cleanup() { kill "${api_pid:-}" "${broker_pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# The binaries default to the production profile; this is a local bench.
export FTE_PROFILE=dev FTE_BROKER_ADDRESS_FILE="$work/broker.addr" LOG_FORMAT=json RUST_LOG=warn
unset KAFKA_BOOTSTRAP_SERVERS
"$FTE_TARGET_DIR"/debug/fte broker >/dev/null 2>"$work/broker.log" &
broker_pid=$!
for _ in $(seq 1 100); do [ -s "$FTE_BROKER_ADDRESS_FILE" ] && break; sleep 0.1; done
[ -s "$FTE_BROKER_ADDRESS_FILE" ] || die "the broker did not start"
"$FTE_TARGET_DIR"/debug/fte migrate

API_PORT="$PORT" SUBMIT_RATE_LIMIT_PER_MINUTE=100000000 "$FTE_TARGET_DIR"/release/fte-api 2>"$work/api.log" &
api_pid=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "http://127.0.0.1:$PORT/ready" >/dev/null || die "the gateway did not become ready"

log "warm-up (5 s)"
wrk -t2 -c"$CONNECTIONS" -d5s -s loadtest/submit.lua "http://127.0.0.1:$PORT" >/dev/null
log "measuring (${DURATION} s, $CONNECTIONS connections)"
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s -s loadtest/submit.lua "http://127.0.0.1:$PORT" | tee "$work/wrk.txt"
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
rss_kib="$(awk '/VmHWM/ {print $2}' "/proc/$api_pid/status")"
echo "gateway peak RSS $((rss_kib / 1024)) MiB"
tickets="$(scripts/pg.sh psql -tAc "select count(*) from tickets")"
echo "tickets stored in total: $tickets"
