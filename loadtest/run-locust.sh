#!/usr/bin/env bash
# Locust, headless, against the system on loopback (its own PostgreSQL
# cluster, a standalone broker, the provider fakes, one gateway, two
# workers): 100 users by default — web form, health checks, and WhatsApp and
# Gmail users whose webhooks are signed as Twilio and Pub/Sub sign them.
# Prints P50/P95/P99 and failures per request; exits non-zero on failures.
#
#   loadtest/run-locust.sh [--users 100] [--spawn-rate 20] [--time 60s]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$FTE_ROOT"
source loadtest/python-deps.sh
ensure_python_deps
scripts/pg.sh install
cargo build --locked -p fte-cli -p fte-gateway -p fte-worker -p fte-fakes
export PYTHONPATH="$FTE_PY_DEPS${PYTHONPATH:+:$PYTHONPATH}"
exec python3 loadtest/harness/serve.py "$@"
