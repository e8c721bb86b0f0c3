# Shared helpers for the project's scripts. Sourced, not executed.

FTE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export FTE_ROOT

# Where cargo puts binaries (CARGO_TARGET_DIR when set).
FTE_TARGET_DIR="${CARGO_TARGET_DIR:-$FTE_ROOT/target}"
export FTE_TARGET_DIR

log() { printf '\033[1;34m[fte]\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33m[fte]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[fte]\033[0m %s\n' "$*" >&2; exit 1; }

# Loads .env when present (without overriding variables already set).
load_dotenv() {
  local file="$FTE_ROOT/.env"
  [ -f "$file" ] || return 0
  local line key
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in ''|'#'*) continue ;; esac
    key="${line%%=*}"
    [ -n "${!key:-}" ] || export "$line"
  done < "$file"
}

# pip with the quiet flags every script uses.
pip_install_target() {
  local target="$1"; shift
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --root-user-action=ignore --target "$target" "$@"
}
