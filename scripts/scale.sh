#!/usr/bin/env bash
# Proof at scale: the whole system as separate processes on loopback (its
# own PostgreSQL cluster on FTE_SCALE_PG_PORT, 54339 — never the developer's
# — a standalone broker, the provider fakes with a model of 1 s latency, one
# gateway, two workers), driven with the sample tickets' mix on every
# channel while chaos runs: workers killed with -9 and restarted, Twilio down
# (60 s; 20 s in the short profile), broker faults, one PostgreSQL restart.
# Then every accepted message is reconciled to exactly one outcome, and a
# report is written to results/<timestamp>/ (report.json, report.html).
# Exits non-zero when an enforced criterion fails.
#
#   scripts/scale.sh --short           about 3 minutes (scripts/test.sh runs it)
#   scripts/scale.sh                   the compressed 24-hour profile (10 minutes)
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
  cargo build --locked -p fte-cli -p fte-gateway -p fte-worker -p fte-fakes
fi
export PYTHONPATH="$FTE_PY_DEPS${PYTHONPATH:+:$PYTHONPATH}"
# The harness's own logic first (signing, plan, criteria): a second.
python3 -m unittest discover -s loadtest/harness -p 'test_*.py' 2>&1 | tail -n 1
exec python3 loadtest/harness/run.py "$@"
