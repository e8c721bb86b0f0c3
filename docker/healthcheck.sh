#!/bin/bash
# Container HEALTHCHECK for the fte images.
#
#   fte-healthcheck api      GET http://127.0.0.1:${API_PORT:-8000}/live
#   fte-healthcheck worker   GET http://127.0.0.1:${WORKER_METRICS_PORT:-9090}/live
#   fte-healthcheck api /ready   (or any PATH; or PORT PATH)
#
# /live checks only the process, so a database outage never makes the runtime restart containers;
# docker-compose.yml asks /ready to order start-up.
#
# The runtime images carry no curl or wget on purpose (less to patch, nothing for an attacker to
# fetch with). Bash's /dev/tcp speaks enough HTTP/1.0 for a loopback probe: send one request, read
# the status line, succeed only on 200.
set -euo pipefail

case "${1:-api}" in
  api) port="${API_PORT:-8000}"; path="${2:-/live}" ;;
  worker) port="${WORKER_METRICS_PORT:-9090}"; path="${2:-/live}" ;;
  *) port="$1"; path="${2:-/live}" ;;
esac

exec 3<>"/dev/tcp/127.0.0.1/${port}"
printf 'GET %s HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n' "${path}" >&3
IFS= read -r -t 3 status_line <&3 || exit 1
exec 3>&-
case "${status_line}" in
  "HTTP/1."?" 200 "*) exit 0 ;;
  *) echo "unhealthy: ${status_line%$'\r'}" >&2; exit 1 ;;
esac
