#!/usr/bin/env bash
# Runs every test of the project on this machine, installing what is missing:
# the local PostgreSQL with pgvector, the local embedding model, the web
# form's npm packages and Chromium for its browser test, and the deployment
# validators. Idempotent and safe to re-run; the second run reuses every
# install and the cargo build cache.
#
#   scripts/test.sh            everything
#   scripts/test.sh --quick    Rust tests only (PostgreSQL and model still prepared)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_dotenv
cd "$FTE_ROOT"

QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1

# Tests must never reach a developer's running system or a real cluster.
unset KAFKA_BOOTSTRAP_SERVERS OPENAI_API_KEY || true
export FTE_PROFILE=dev
export FTE_BROKER_ADDRESS_FILE="$FTE_ROOT/.fte/test-broker.addr-unused"
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"

declare -a SUMMARY=()
stage() {
  local name="$1"; shift
  local started=$SECONDS
  log "── $name"
  # In a subshell with errexit on: a function called as an `if` condition
  # would run with errexit off, and a failing step inside it (say,
  # PostgreSQL not starting) would go unnoticed.
  local status=0
  set +e
  (set -e; "$@")
  status=$?
  set -e
  if [ "$status" -eq 0 ]; then
    SUMMARY+=("PASS  $name ($((SECONDS - started))s)")
  else
    SUMMARY+=("FAIL  $name ($((SECONDS - started))s)")
    print_summary
    die "$name failed"
  fi
}
print_summary() {
  printf '\n'
  printf '%s\n' "${SUMMARY[@]}"
}

require_toolchain() {
  command -v cargo >/dev/null || die "cargo is missing: this project needs the Rust toolchain (1.95)"
  command -v python3 >/dev/null || die "python3 is missing"
  # The browser stage polls the gateway with curl.
  command -v curl >/dev/null || {
    [ "$(id -u)" -eq 0 ] || die "curl is missing (apt-get install curl)"
    apt-get update -qq && apt-get install -y -qq curl >/dev/null
  }
  # rdkafka builds its bundled librdkafka with make and a C compiler, and
  # links the system OpenSSL for TLS and SASL (its `ssl` feature).
  local missing=()
  command -v make >/dev/null && command -v cc >/dev/null || missing+=(build-essential)
  command -v pkg-config >/dev/null || missing+=(pkg-config)
  pkg-config --exists openssl 2>/dev/null || missing+=(libssl-dev)
  # The PostgreSQL TLS test runs Debian's server (the project's own is built
  # without OpenSSL) on a cluster of its own.
  compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
  if [ "${#missing[@]}" -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || die "missing system packages: ${missing[*]} (apt-get install ${missing[*]})"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

prepare_services() {
  scripts/pg.sh start
  scripts/models.sh >/dev/null
  # Databases left behind by earlier test runs (each test makes its own);
  # ones still in use by a concurrent run are left alone.
  scripts/pg.sh psql postgres -tAc \
    "select 'drop database if exists ' || quote_ident(datname) || ';' from pg_database where datname like 'fte\\_test\\_%'" \
    | scripts/pg.sh psql postgres -q >/dev/null 2>&1 || true
}

rust_tests() {
  cargo test --workspace --all-targets --locked --no-fail-fast -- --test-threads "${FTE_TEST_THREADS:-4}"
}

kb_check() {
  python3 scripts/check_kb.py
  # The evaluation tickets: facts cited exist, must-include strings are
  # verbatim, and the tuning/held-out split of each batch is the committed one.
  python3 context/eval/split.py
  python3 context/eval/split.py --batch 2
  python3 context/eval/split.py --batch 3
  python3 context/eval/split.py --batch 4
}

web_form_tests() {
  command -v npm >/dev/null || die "npm is missing: the web form needs Node.js 20 and npm"
  (cd web-form && npm ci --no-audit --no-fund --loglevel=error && npm run --silent typecheck && npm test --silent && npm run --silent build)
}

# Runs COMMAND against `fte run` (gateway, worker with the offline agent,
# embedded broker, provider fakes, /mcp) on its own fresh database DB with
# the knowledge base imported, listening on PORT. COMMAND sees
# FTE_RUN_BASE_URL, FTE_RUN_DATABASE_URL and FTE_RUN_STAFF_KEY_FILE (the
# local staff key, owner "dev"); FTE_RUN_CORS_ALLOWED_ORIGINS, when set, is
# the gateway's CORS allow-list. The log is shown when it fails.
with_fte_run() {
  local db="$1" port="$2"; shift 2
  local work url fte="$FTE_TARGET_DIR/debug/fte"
  work="$(mktemp -d)"
  scripts/pg.sh psql postgres -q -c "drop database if exists $db with (force)" -c "create database $db" >/dev/null
  url="$(scripts/pg.sh url | sed "s#/fte\$#/$db#")"
  cargo build --locked -p fte-cli --bin fte
  DATABASE_URL="$url" "$fte" migrate
  DATABASE_URL="$url" "$fte" kb import >/dev/null
  DATABASE_URL="$url" API_PORT="$port" LOG_FORMAT=json FTE_DEV_STAFF_KEY_FILE="$work/staff-key" \
    CORS_ALLOWED_ORIGINS="${FTE_RUN_CORS_ALLOWED_ORIGINS:-}" \
    "$fte" run >"$work/fte.log" 2>&1 &
  local pid=$!
  local ok=0
  for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1; then ok=1; break; fi
    sleep 0.5
  done
  local status=0
  if [ "$ok" -eq 1 ]; then
    FTE_RUN_BASE_URL="http://127.0.0.1:$port" FTE_RUN_DATABASE_URL="$url" \
      FTE_RUN_STAFF_KEY_FILE="$work/staff-key" "$@" || status=$?
  else
    warn "fte run did not become ready"; status=1
  fi
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ "$status" -ne 0 ]; then tail -n 40 "$work/fte.log" >&2; fi
  rm -rf "$work"
  return "$status"
}

# The web form in a real Chromium against the real system: the form's demo
# page served by the gateway, host pages of other origins served by the test
# (http://allowed.test:<port> is allow-listed, refused.test is not), and the
# local staff key to resolve the escalation.
web_form_e2e() {
  if [ ! -x /usr/bin/chromium ] && [ -z "${CHROMIUM_PATH:-}" ]; then
    [ "$(id -u)" -eq 0 ] || die "Chromium is missing (apt-get install chromium)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  local host_port="${FTE_E2E_HOST_PORT:-18081}"
  FTE_E2E_HOST_PORT="$host_port" FTE_RUN_CORS_ALLOWED_ORIGINS="http://allowed.test:$host_port" \
    with_fte_run "${FTE_E2E_DB:-fte_e2e}" "${FTE_E2E_PORT:-18080}" web_form_e2e_run
}
web_form_e2e_run() {
  (cd web-form && FTE_BASE_URL="$FTE_RUN_BASE_URL" \
    FTE_E2E_STAFF_KEY="$(cat "$FTE_RUN_STAFF_KEY_FILE")" npm run --silent e2e)
}

# The official MCP Python SDK (`mcp` on PyPI), pinned, in a project-local
# folder; installed once, reused afterwards.
MCP_PYTHON_VERSION=2.3.0
mcp_python_sdk() {
  local dir="$FTE_ROOT/.local/py-mcp-$MCP_PYTHON_VERSION"
  if [ ! -f "$dir/.complete" ]; then
    rm -rf "$dir.partial"
    pip_install_target "$dir.partial" "mcp==$MCP_PYTHON_VERSION" 2>&1 | grep -v "dependency resolver\|requires pydantic" >&2 || true
    [ -d "$dir.partial/mcp" ] || die "installing mcp==$MCP_PYTHON_VERSION failed"
    touch "$dir.partial/.complete"
    rm -rf "$dir" && mv "$dir.partial" "$dir"
  fi
  printf '%s' "$dir"
}

# The MCP server with the official Python SDK client (scripts/mcp_interop.py):
# it searches the knowledge base through fte run's /mcp, takes a WhatsApp
# customer's escalation, replies (checked in the fake Twilio's outbox) and
# resolves it; then it drives `fte mcp` over stdio.
mcp_interop() {
  local sdk
  sdk="$(mcp_python_sdk)"
  MCP_PYTHON_PATH="$sdk" with_fte_run fte_mcp_e2e "${FTE_MCP_E2E_PORT:-18082}" mcp_interop_run
}
mcp_interop_run() {
  PYTHONPATH="$MCP_PYTHON_PATH" FTE_DEV_STAFF_KEY_FILE="$FTE_RUN_STAFF_KEY_FILE" \
    python3 scripts/mcp_interop.py --base-url "$FTE_RUN_BASE_URL" \
    --key-file "$FTE_RUN_STAFF_KEY_FILE" --fte "$FTE_TARGET_DIR/debug/fte" \
    --database-url "$FTE_RUN_DATABASE_URL"
}

# schemathesis (PyPI), pinned, in a project-local folder; installed once,
# reused afterwards.
SCHEMATHESIS_VERSION=4.32.5
schemathesis_install() {
  local dir="$FTE_ROOT/.local/py-schemathesis-$SCHEMATHESIS_VERSION"
  if [ ! -f "$dir/.complete" ]; then
    rm -rf "$dir.partial"
    pip_install_target "$dir.partial" "schemathesis==$SCHEMATHESIS_VERSION" >&2 || true
    [ -d "$dir.partial/schemathesis" ] || die "installing schemathesis==$SCHEMATHESIS_VERSION failed"
    touch "$dir.partial/.complete"
    rm -rf "$dir" && mv "$dir.partial" "$dir"
  fi
  printf '%s' "$dir"
}

# The OpenAPI document is the truth: schemathesis reads fte run's
# /openapi.json, sends valid and invalid requests to every operation (the
# staff ones with the local staff key) and fails on any failure of any
# check — a 5xx, an undocumented status or body, valid data refused, invalid
# data accepted. The webhooks are left out: their requests are signed by the
# providers, and their own tests cover them. The per-client rate limits are
# raised so that the generated burst is not answered 429. One worker:
# hypothesis describes its filters with ast.parse, which CPython 3.11 does
# not allow from concurrent threads (a SystemError, not a finding). The
# seed is fixed so that a run checks the same cases as the run before it
# (a finding is reproducible, and CI fails on a change, not on luck);
# FTE_API_CONTRACT_SEED=random explores new cases, with
# FTE_API_CONTRACT_EXAMPLES for more of them.
api_contract() {
  local st
  st="$(schemathesis_install)"
  SCHEMATHESIS_PATH="$st" STAFF_RATE_LIMIT_PER_MINUTE=1000000 STATUS_RATE_LIMIT_PER_MINUTE=1000000 \
    SUBMIT_RATE_LIMIT_PER_MINUTE=1000000 \
    with_fte_run fte_api_contract "${FTE_API_CONTRACT_PORT:-18083}" api_contract_run
}
api_contract_run() {
  local seed=(--seed "${FTE_API_CONTRACT_SEED:-20261206}")
  [ "${FTE_API_CONTRACT_SEED:-}" = random ] && seed=()
  PYTHONPATH="$SCHEMATHESIS_PATH" python3 -m schemathesis.cli run "$FTE_RUN_BASE_URL/openapi.json" \
    --checks all --exclude-path-regex '^/webhooks/' "${seed[@]}" \
    -H "Authorization: Bearer $(cat "$FTE_RUN_STAFF_KEY_FILE")" \
    --max-examples "${FTE_API_CONTRACT_EXAMPLES:-40}" --workers 1 \
    --generation-database none --no-color --continue-on-failure
}

deploy_validation() {
  scripts/validate-deploy.sh
}

# The short scale profile: separate processes on loopback under chaos, every
# accepted message reconciled to exactly one outcome (scripts/scale.sh).
scale_short() {
  FTE_SCALE_SKIP_BUILD=1 scripts/scale.sh --short
}

stage "toolchain" require_toolchain
stage "PostgreSQL + pgvector, embedding model" prepare_services
stage "knowledge base and evaluation tickets check" kb_check
stage "Rust tests (real PostgreSQL and Kafka-protocol broker)" rust_tests
if [ "$QUICK" -eq 0 ]; then
  stage "binaries for the scale profile" cargo build --locked -p fte-cli -p fte-gateway -p fte-worker -p fte-fakes
  stage "proof at scale: short profile under chaos" scale_short
  stage "web form: typecheck, unit tests, build" web_form_tests
  stage "web form in Chromium against fte run (end to end)" web_form_e2e
  stage "MCP interoperability: the official Python SDK client over HTTP and stdio" mcp_interop
  stage "API contract: schemathesis, every check, against fte run's OpenAPI document" api_contract
  stage "deployment manifests: yamllint, kubernetes schemas, checkov" deploy_validation
fi
print_summary
log "all tests passed"
