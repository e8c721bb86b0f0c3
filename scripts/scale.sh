#!/usr/bin/env bash
# Proof at scale: the whole system as separate processes on loopback (its
# own PostgreSQL cluster on FTE_SCALE_PG_PORT, 54339 — never the developer's
# — a three-broker cluster, the provider fakes with a model of 1 s latency,
# one gateway, two workers), driven through a compressed day
# (loadtest/harness/day.py): traffic with a day's shape and a realistic
# question mix, and faults compressed by the same factor — a worker pod
# killed every two compressed hours (SIGTERM, every fourth kill -9), Twilio
# down for an hour, one broker stopped for two hours, a 3 s cluster blip, one
# PostgreSQL restart. Then every accepted message is reconciled to exactly
# one outcome, and a report is written to results/<timestamp>/ (report.json,
# report.html). Exits non-zero when an enforced criterion fails.
#
#   scripts/scale.sh --short           about 3 minutes on a debug build (scripts/test.sh runs it)
#   scripts/scale.sh                   the 24-hour day in 10 minutes on a release build
#   scripts/scale.sh --duration 30m    any length; see --help for the counts
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_dotenv
cd "$FTE_ROOT"
source loadtest/python-deps.sh

ensure_python_deps
scripts/pg.sh install
scripts/models.sh >/dev/null
if [ -z "${FTE_SCALE_SKIP_BUILD:-}" ]; then
  # The short profile runs where the tests were just built (debug); the day
  # runs what production runs (release).
  profile=(--release)
  for arg in "$@"; do [ "$arg" = "--short" ] && profile=(); done
  cargo build --locked "${profile[@]}" -p fte-cli -p fte-gateway -p fte-worker -p fte-fakes
fi
export PYTHONPATH="$FTE_PY_DEPS${PYTHONPATH:+:$PYTHONPATH}"
# The harness's own logic first (signing, plan, criteria): a second.
python3 -m unittest discover -s loadtest/harness -p 'test_*.py' 2>&1 | tail -n 1
exec python3 loadtest/harness/run.py "$@"
