# The Python packages of the load test and the scale harness, installed
# into .local/py (idempotent). Sourced after scripts/lib.sh.

FTE_PY_DEPS="$FTE_ROOT/.local/py"
FTE_PY_PINS=(locust==2.47.0 twilio==9.13.0 google-auth==2.62.2 cryptography==50.0.2
  confluent-kafka==2.16.1 requests==2.34.2)

ensure_python_deps() {
  local stamp="$FTE_PY_DEPS/.installed-$(printf '%s ' "${FTE_PY_PINS[@]}" | sha256sum | cut -c1-12)"
  [ -f "$stamp" ] && return 0
  log "installing the load test's Python packages into $FTE_PY_DEPS"
  rm -rf "$FTE_PY_DEPS.tmp"
  pip_install_target "$FTE_PY_DEPS.tmp" "${FTE_PY_PINS[@]}"
  rm -rf "$FTE_PY_DEPS"
  mv "$FTE_PY_DEPS.tmp" "$FTE_PY_DEPS"
  touch "$stamp"
}
