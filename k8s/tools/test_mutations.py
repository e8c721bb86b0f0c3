#!/usr/bin/env python3
"""Proves that check_manifests.py fails when a production requirement is missing.

    python k8s/tools/test_mutations.py --repo . [--kubernetes-version 1.30]

Each mutation copies the deploy files (k8s/, docker/, the Dockerfiles, docker-compose.yml,
LICENSE, docs/runbook.md, the crates' manifests and sources the checks read) to a throwaway
folder, breaks ONE requirement of the production deployment there, runs every check on the copy
and expects the named check to fail. A mutation the checks do not catch fails this script: a
check that cannot fail proves nothing. Run by scripts/validate-deploy.sh.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from typing import Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_manifests as cm  # noqa: E402

COPIED = ["k8s", "docker", "docs", "crates", "Cargo.toml", "Cargo.lock", "Dockerfile.api", "Dockerfile.worker",
          "docker-compose.yml", "LICENSE", ".env.example"]


def edit(rel: str, old: str, new: str, count: int = 1) -> Callable[[str], None]:
    def apply(root: str) -> None:
        path = os.path.join(root, rel)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if old not in text:
            raise AssertionError(f"mutation target not found in {rel}: {old!r}")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(old, new, count))
    return apply


def regex(rel: str, pattern: str, new: str) -> Callable[[str], None]:
    def apply(root: str) -> None:
        path = os.path.join(root, rel)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        changed, n = re.subn(pattern, new, text, count=1, flags=re.S | re.M)
        if not n:
            raise AssertionError(f"mutation pattern not found in {rel}: {pattern!r}")
        with open(path, "w", encoding="utf-8") as f:
            f.write(changed)
    return apply


def remove(rel: str) -> Callable[[str], None]:
    return lambda root: os.remove(os.path.join(root, rel))


# (what is broken, the mutation, a word of the check that must fail, whether it needs cargo)
MUTATIONS: list[tuple[str, Callable[[str], None], str, bool]] = [
    ("the api's liveness probe calls /health", regex("k8s/base/api/deployment.yaml",
        r"(livenessProbe:\n\s+httpGet:\n\s+path: )/live", r"\1/health"), "probes", False),
    ("the worker's readiness probe calls /live", regex("k8s/base/worker/deployment.yaml",
        r"(readinessProbe:\n\s+httpGet:\n\s+path: )/ready", r"\1/live"), "probes", False),
    ("the worker has no startup probe", regex("k8s/base/worker/deployment.yaml",
        r"          startupProbe:\n.*?failureThreshold: 36\n", ""), "probes", False),
    ("TRUST_PROXY is not set", edit("k8s/base/configmap.yaml", '  TRUST_PROXY: "true"\n', ""), "fte-config", False),
    ("production runs without FTE_PROFILE=production", edit("k8s/overlays/production/patches/configmap.yaml",
        "FTE_PROFILE: production", "FTE_PROFILE: dev"), "fte-config", False),
    ("production Kafka is plaintext", edit("k8s/overlays/production/patches/configmap.yaml",
        "KAFKA_SECURITY_PROTOCOL: SASL_SSL", "KAFKA_SECURITY_PROTOCOL: PLAINTEXT"), "fte-config", False),
    ("PostgreSQL TLS is not verified", edit("k8s/overlays/production/patches/configmap.yaml",
        "DATABASE_SSLMODE: verify-full", "DATABASE_SSLMODE: require"), "fte-config", False),
    ("a ConfigMap key no code reads", edit("k8s/base/configmap.yaml", "  LOG_FORMAT: json\n",
        '  LOG_FORMAT: json\n  MAX_EMAIL_WORDS: "500"\n'), "fte-config", False),
    ("/metrics is routed publicly", edit("k8s/base/ingress.yaml", "          - path: /docs\n",
        "          - path: /metrics\n            pathType: Prefix\n            backend:\n              service:\n"
        "                name: fte-api\n                port:\n                  name: http\n          - path: /docs\n"),
        "Ingress", False),
    ("the staff API has no rate limit of its own", edit("k8s/base/ingress.yaml",
        '    nginx.ingress.kubernetes.io/limit-rpm: "120"\n', ""), "Ingress", False),
    ("/mcp is not routed", regex("k8s/base/ingress.yaml",
        r"          - path: /mcp\n.*?name: http\n", ""), "Ingress", False),
    ("the widget is not routed", regex("k8s/base/ingress.yaml",
        r"          - path: /widget\n.*?name: http\n", ""), "Ingress", False),
    ("an Ingress without a cert-manager annotation", edit("k8s/base/ingress.yaml",
        "    cert-manager.io/cluster-issuer: letsencrypt-production\n", ""), "Ingress", False),
    ("any pod in ingress-nginx reaches the API", regex("k8s/base/networkpolicies.yaml",
        r"(kubernetes.io/metadata.name: ingress-nginx\n)          podSelector:\n.*?component: controller\n", r"\1"),
        "NetworkPolicies", False),
    ("the worker scales on CPU only", regex("k8s/overlays/production/keda.yaml",
        r"    # One worker per 100.*?tls: enable\n", ""), "KEDA", False),
    ("KEDA watches another consumer group", edit("k8s/overlays/production/keda.yaml",
        "consumerGroup: fte-message-processor", "consumerGroup: fte-metrics-collector"), "KEDA", False),
    ("no dead-letter alert", regex("k8s/monitoring/prometheusrule.yaml",
        r"        - alert: FteDeadLettersGrowing\n.*?(?=        - alert:)", ""), "alerts", False),
    ("no alert on a channel in recording", regex("k8s/monitoring/prometheusrule.yaml",
        r"        - alert: FteChannelRecording\n.*\Z", ""), "alerts", False),
    ("an alert's runbook section is missing", edit("docs/runbook.md", "## FteTargetDown", "## Target down"),
        "alerts", False),
    ("no memory panel", edit("k8s/monitoring/grafana-dashboard.json", "container_memory_working_set_bytes",
        "container_memory_usage_bytes", 10), "dashboard", False),
    ("an unpinned base image", regex("Dockerfile.api", r"^FROM (debian:bookworm-slim)@sha256:[0-9a-f]{64}", r"FROM \1"),
        "Dockerfiles", False),
    ("the api image does not serve the web form", regex("Dockerfile.api",
        r"^COPY --from=web-form .*?\n", ""), "Dockerfiles", False),
    ("the images build with a fake linked", edit("Dockerfile.worker", "--release --locked --no-default-features -p",
        "--release --locked --features fte-worker/recording-senders -p", 2), "Dockerfiles", False),
    ("the dependency layer is cooked with a fake", edit("Dockerfile.api", "--release --locked --no-default-features -p",
        "--release --locked -p"), "Dockerfiles", False),
    ("fte-worker links fte-fakes", edit("crates/fte-worker/Cargo.toml",
        'fte-fakes = { path = "../fte-fakes", optional = true }', 'fte-fakes = { path = "../fte-fakes" }'),
        "fte-fakes", True),
    ("compose runs a binary without FTE_PROFILE", edit("docker-compose.yml",
        "  FTE_PROFILE: ${FTE_PROFILE:-dev}\n", ""), "compose", False),
    ("no LICENSE", remove("LICENSE"), "LICENSE", False),
    ("/mcp is routed to the gateway, which does not serve it", regex("k8s/base/ingress.yaml",
        r"(- path: /mcp\n\s+pathType: Prefix\n\s+backend:\n\s+service:\n\s+name: )fte-mcp", r"\1fte-api"),
        "/mcp is served", False),
    ("an Ingress path goes to a port no pod serves", edit("k8s/base/mcp/service.yaml",
        "targetPort: http", "targetPort: 8080"), "references", False),
    ("the MCP server misses the PostgreSQL CA", regex("k8s/overlays/production/patches/db-ca.yaml",
        r"---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: fte-mcp\n.*", ""),
        "mount the CA", False),
    ("nothing lets the ingress controller reach fte-mcp", regex("k8s/base/networkpolicies.yaml",
        r"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: fte-mcp-from-ingress-controller\n.*?(?=---)", ""),
        "NetworkPolicies", False),
]


def copy_repo(repo: str, dest: str) -> None:
    for rel in COPIED:
        src = os.path.join(repo, rel)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(dest, rel), ignore=shutil.ignore_patterns("target", "node_modules"))
        elif os.path.exists(src):
            shutil.copy2(src, os.path.join(dest, rel))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", default=".")
    ap.add_argument("--kubernetes-version", default="1.30")
    args = ap.parse_args()
    repo = os.path.abspath(args.repo)
    missed = []
    for what, mutate, check_word, cargo in MUTATIONS:
        with tempfile.TemporaryDirectory(prefix="fte-mutation-") as tmp:
            root = os.path.join(tmp, "repo")
            os.makedirs(root)
            copy_repo(repo, root)
            mutate(root)
            report = cm.Report(quiet=True)
            cm.run_checks(root, os.path.join(tmp, "rendered"), args.kubernetes_version, report, cargo=cargo)
            caught = [name for name in report.failures if check_word.lower() in name.lower()]
            if caught:
                print(f"caught  {what}: {caught[0]}")
            else:
                missed.append(what)
                print(f"MISSED  {what}: no failing check mentions {check_word!r} (failing: {report.failures})")
    print(f"mutations: {len(MUTATIONS) - len(missed)} caught, {len(missed)} missed")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
