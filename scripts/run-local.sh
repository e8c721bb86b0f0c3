#!/usr/bin/env bash
# Runs the whole system locally in one command, installing what is missing:
# PostgreSQL with pgvector (scripts/pg.sh), the local embedding model
# (scripts/models.sh), the web form bundle, then `fte run` — gateway, worker
# and an embedded Kafka-protocol broker in one process. With no
# OPENAI_API_KEY the offline agent answers; with no provider credentials the
# channel senders record what they would send. Ctrl-C stops it; PostgreSQL
# keeps running (scripts/pg.sh stop).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_dotenv
cd "$FTE_ROOT"

command -v cargo >/dev/null || die "cargo is missing: this project needs the Rust toolchain (1.95)"
scripts/pg.sh start
scripts/models.sh >/dev/null

if command -v npm >/dev/null; then
  if [ ! -f web-form/dist/fte-support-form.js ] || [ -n "$(find web-form/src -newer web-form/dist/fte-support-form.js -print -quit)" ]; then
    log "building the web form"
    (cd web-form && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)
  fi
else
  warn "npm not found: the demo page at /demo will not have the form (install Node.js 20)"
fi

log "building fte"
cargo build --locked -p fte-cli --bin fte
FTE_BIN="$FTE_TARGET_DIR/debug/fte"

export LOG_FORMAT="${LOG_FORMAT:-pretty}"
# The binaries default to the production profile (fail closed); the local
# run is dev: embedded broker, provider fakes, unsigned webhooks with a warning.
export FTE_PROFILE=dev
"$FTE_BIN" migrate
# Idempotent: only new or changed articles are embedded again.
"$FTE_BIN" kb import

port="${API_PORT:-8000}"
log "starting: http://127.0.0.1:$port/health  ·  http://127.0.0.1:$port/demo  ·  http://127.0.0.1:$port/docs"
exec "$FTE_BIN" run
