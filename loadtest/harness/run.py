"""The scale harness: starts the system as separate processes, drives the
profile's traffic, runs the chaos schedule, probes /health every second,
then reconciles and reports (results/<timestamp>/report.json + report.html).

    python3 loadtest/harness/run.py [--short | --duration 10m] [--workers 2] ...

See README.md, "Proof at scale"."""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import day as daymod  # noqa: E402
import procs  # noqa: E402
import reconcile  # noqa: E402
import report  # noqa: E402
import traffic  # noqa: E402

ROOT = procs.ROOT
# The identity-verification secret the harness's gateway shares with the
# "embedding site" whose signed-in users are the cross-channel customers.
SCALE_IDENTITY_SECRET = "scale-harness-identity-secret"


def parse_duration(text: str) -> float:
    text = text.strip().lower()
    for suffix, factor in (("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)):
        if text.endswith(suffix) and text[: -len(suffix)].replace(".", "", 1).isdigit():
            return float(text[: -len(suffix)]) * factor
    return float(text)


def arguments() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--short", action="store_true",
                   help="the short profile (about 3 minutes in all), as scripts/test.sh runs it")
    p.add_argument("--duration", default=None,
                   help="traffic and chaos window, e.g. 10m (default 10m; 100s with --short)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--brokers", type=int, default=3,
                   help="brokers in the embedded cluster (one is stopped for a while when > 1)")
    p.add_argument("--mix", choices=("realistic", "samples"), default="realistic",
                   help="the questions: a realistic day's mix, or the sample tickets' own")
    p.add_argument("--web", type=int, default=None)
    p.add_argument("--email", type=int, default=None)
    p.add_argument("--whatsapp", type=int, default=None)
    p.add_argument("--cross", type=int, default=None,
                   help="customers writing on all three channels")
    p.add_argument("--model-latency-ms", type=int, default=1000)
    p.add_argument("--session-timeout-ms", type=int, default=3000,
                   help="KAFKA_SESSION_TIMEOUT_MS of the workers. The embedded cluster's group\n"
                        "coordinator holds every join for the session timeout less 1 s, where a\n"
                        "real broker goes on once the members have rejoined; 3 s keeps that\n"
                        "barrier (2 s) near a real broker's rejoin time. It is also how long a\n"
                        "kill -9 goes unnoticed (production default: 6 s). Not below 3 s: the\n"
                        "embedded coordinator holds the first join for 3 s, and members whose\n"
                        "session is shorter expire while they wait (at 2 s the group never forms)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--bin-dir", default=None,
                   help="where fte, fte-api, fte-worker, fte-fakes are (default target/release, "
                        "target/debug with --short)")
    p.add_argument("--pg-port", type=int, default=int(os.environ.get("FTE_SCALE_PG_PORT", 54339)))
    p.add_argument("--api-port", type=int, default=int(os.environ.get("FTE_SCALE_API_PORT", 18190)))
    p.add_argument("--results", default=str(ROOT / "results"))
    p.add_argument("--no-chaos", action="store_true")
    a = p.parse_args()
    if a.short:
        defaults = dict(duration=100.0, web=30, email=15, whatsapp=15, cross=10)
    else:
        defaults = dict(duration=600.0, web=110, email=60, whatsapp=60, cross=15)
    a.duration = parse_duration(a.duration) if a.duration else defaults["duration"]
    for key in ("web", "email", "whatsapp", "cross"):
        if getattr(a, key) is None:
            setattr(a, key, defaults[key])
    if a.seed is None:
        a.seed = int(time.time())
    return a


class Health:
    """GET /health every second; every answer kept."""

    def __init__(self, url: str):
        self.url = url
        self.samples: list[dict] = []
        self._stop = threading.Event()

    def run(self):
        import requests
        session = requests.Session()
        while not self._stop.is_set():
            started = time.time()
            try:
                r = session.get(self.url, timeout=2)
                ok, status = r.status_code == 200, r.status_code
            except requests.RequestException as error:
                ok, status = False, type(error).__name__
            self.samples.append({"t": started, "ok": ok, "status": status,
                                 "ms": round((time.time() - started) * 1000, 1)})
            self._stop.wait(max(0.0, 1.0 - (time.time() - started)))

    def start(self):
        threading.Thread(target=self.run, daemon=True).start()

    def stop(self):
        self._stop.set()


class System:
    def __init__(self, args, run_dir: Path):
        self.args = args
        self.run_dir = run_dir
        self.bin = Path(args.bin_dir) if args.bin_dir else Path(
            os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / (
            "debug" if args.short else "release")
        self.pg = procs.Postgres(args.pg_port, ROOT / ".local/scale-pg/data")
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("KAFKA_", "OPENAI_", "GMAIL_", "TWILIO_", "DATABASE_",
                                     "POSTGRES_", "API_", "WORKER_", "SMTP_"))}
        base.update(FTE_PROFILE="dev", LOG_FORMAT="json", RUST_LOG="info,sqlx=warn,rdkafka=warn")
        self.base_env = base
        self.api_url = f"http://127.0.0.1:{args.api_port}"
        self.workers: list[procs.Process] = []
        self.events: list[dict] = []

    def event(self, kind: str, **detail):
        self.events.append({"t": time.time(), "kind": kind, **detail})
        print(f"[scale] {time.strftime('%H:%M:%S')} {kind} {detail if detail else ''}", flush=True)

    def start(self):
        for name in ("fte", "fte-api", "fte-worker", "fte-fakes"):
            if not (self.bin / name).exists():
                raise SystemExit(f"{self.bin / name} is missing: cargo build --locked -p fte-cli "
                                 "-p fte-gateway -p fte-worker -p fte-fakes")
        self.pg.start()
        self.broker = procs.Broker(self.bin, self.base_env, self.run_dir, self.args.brokers)
        self.bootstrap = self.broker.start()
        self.fakes = procs.Fakes(self.bin, self.base_env, self.run_dir, self.args.model_latency_ms)
        cfg = self.fakes.start()
        env = dict(self.base_env, DATABASE_URL=self.pg.url,
                   FTE_BROKER_ADDRESS_FILE=str(self.broker.address_file),
                   KAFKA_SESSION_TIMEOUT_MS=str(self.args.session_timeout_ms))
        for key in ("GMAIL_API_BASE_URL", "GMAIL_TOKEN_URL", "GMAIL_MAILBOX", "GMAIL_CLIENT_ID",
                    "GMAIL_CLIENT_SECRET", "GMAIL_REFRESH_TOKEN", "GMAIL_PUBSUB_JWKS_URL",
                    "GMAIL_PUBSUB_AUDIENCE", "GMAIL_PUBSUB_SERVICE_ACCOUNT", "TWILIO_API_BASE_URL",
                    "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
            env[key] = str(cfg[key])
        env["GMAIL_PUBSUB_TOPIC"] = "projects/orbit-labs/topics/gmail"
        env["WEB_REPLY_NOTIFY"] = "none"
        env["WEB_IDENTITY_SECRET"] = SCALE_IDENTITY_SECRET
        env["TWILIO_WHATSAPP_NUMBER"] = traffic.signing.OUR_WHATSAPP_NUMBER.removeprefix("whatsapp:")
        self.env = env
        template = "fte_scale_template"
        self.pg.ensure_database(template)
        template_env = dict(env, DATABASE_URL=self.pg.url_of(template))
        started = time.time()
        for step in (["migrate"], ["kb", "import"]):
            with open(self.run_dir / "setup.log", "ab") as log:
                subprocess.run([str(self.bin / "fte"), *step], env=template_env, check=True,
                               cwd=ROOT, stdout=log, stderr=log)
        self.pg.recreate_database(template)
        self.event("database ready", seconds=round(time.time() - started, 1))
        api_env = dict(env, API_HOST="127.0.0.1", API_PORT=str(self.args.api_port),
                       PUBLIC_BASE_URL=self.api_url, SUBMIT_RATE_LIMIT_PER_MINUTE="100000",
                       WEBHOOK_RATE_LIMIT_PER_MINUTE="100000")
        self.api = procs.Process("api", [str(self.bin / "fte-api")], api_env, self.run_dir).start()
        for i in range(self.args.workers):
            worker_env = dict(env, WORKER_METRICS_HOST="127.0.0.1",
                              WORKER_METRICS_PORT=str(self.args.api_port + 11 + i))
            self.workers.append(
                procs.Process(f"worker-{i + 1}", [str(self.bin / "fte-worker")], worker_env,
                              self.run_dir).start())
        procs.wait_until(lambda: procs.http_ok(self.api_url + "/ready"), 60, "the gateway")
        for i, _ in enumerate(self.workers):
            port = self.args.api_port + 11 + i
            procs.wait_until(lambda: procs.http_ok(f"http://127.0.0.1:{port}/ready"), 90,
                             f"worker {i + 1}")
        self.wait_for_group()
        self.event("system ready", workers=len(self.workers), bootstrap=self.bootstrap)

    def wait_for_group(self, timeout: float = 60.0):
        """Waits until every worker holds a partition (fte_kafka_assigned_partitions),
        so the traffic does not start while the consumer group is still forming; the
        first messages would otherwise wait for its first assignment. With more workers
        than partitions some stay idle: the wait then ends at the timeout, reported."""
        ports = [self.args.api_port + 11 + i for i, _ in enumerate(self.workers)]
        started = time.time()
        try:
            procs.wait_until(lambda: all(procs.assigned_partitions(port) > 0 for port in ports),
                             timeout, "every worker to hold a partition", interval=0.25)
            self.event("consumer group formed", seconds=round(time.time() - started, 1))
        except RuntimeError:
            self.event("consumer group not formed", seconds=round(time.time() - started, 1))

    def stop(self):
        for process in [*self.workers, getattr(self, "api", None)]:
            if process:
                process.terminate()
        if hasattr(self, "fakes"):
            self.fakes.stop()
        if hasattr(self, "broker"):
            self.broker.stop()
        # The harness's own cluster; the developer's (FTE_PG_PORT) is never touched.
        self.pg.stop()


class Chaos:
    """Runs the compressed day's fault schedule (day.py)."""

    def __init__(self, system: System, faults: list[daymod.Fault], rng: random.Random):
        self.system = system
        self.faults = faults
        self.rng = rng
        self._stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def at(self, seconds: float, action):
        def run():
            if not self._stop.wait(seconds):
                try:
                    action()
                except Exception as error:  # a chaos step failing is reported, not fatal
                    self.system.event("chaos step failed", error=str(error))
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self.threads.append(thread)

    def action(self, fault: daymod.Fault):
        s = self.system

        def pod_kill():
            worker = s.workers[fault.detail["worker"] - 1]
            if not worker.alive():
                return
            if fault.detail["signal"] == "kill -9":
                s.event("kill -9 worker", worker=worker.name, pid=worker.pid)
                worker.kill9()
            else:
                s.event("SIGTERM worker", worker=worker.name, pid=worker.pid)
                worker.terminate(grace=30)
                s.event("worker drained and exited", worker=worker.name)
            # What a new pod takes to be scheduled and start: not compressed.
            self._stop.wait(self.rng.uniform(2, 6))
            worker.start()
            s.event("worker restarted", worker=worker.name, pid=worker.pid)

        def twilio():
            s.event("twilio down", seconds=round(fault.seconds, 1))
            s.fakes.twilio_down(fault.seconds)
            threading.Timer(fault.seconds, lambda: s.event("twilio back")).start()

        def broker_stopped():
            broker = fault.detail["broker"]
            s.event("broker stopped", broker=broker, seconds=round(fault.seconds, 1))
            s.broker.command(f"stop {broker}")
            self._stop.wait(fault.seconds)
            s.broker.command(f"start {broker}")
            s.event("broker started", broker=broker)

        def broker_blip():
            failed = fault.detail["failed_requests"]
            s.event("broker faults", **failed)
            for kind, count in failed.items():
                s.broker.command(f"fail {kind} {count}")
            s.event("broker down", seconds=fault.seconds)
            s.broker.command("down")
            time.sleep(fault.seconds)
            s.broker.command("up")
            s.event("broker up")

        def postgres():
            s.event("postgres restart")
            s.pg.restart()
            s.event("postgres back")

        return {"pod kill": pod_kill, "twilio down": twilio, "broker stopped": broker_stopped,
                "broker blip": broker_blip, "postgres restart": postgres}[fault.kind]

    def start(self):
        for fault in self.faults:
            self.at(fault.at_s, self.action(fault))

    def stop(self):
        self._stop.set()


def processed(pg: procs.Postgres, m: traffic.Planned) -> bool:
    if not m.accepted or not m.channel_message_id:
        return m.sent_at is not None
    rows = pg.psql(
        "select 1 from messages where direction = 'inbound' and channel = "
        f"'{m.channel}' and channel_message_id = '{m.channel_message_id}' "
        "and metadata ? 'processed_at'")
    return bool(rows.strip())


def drive(system: System, plan: list[traffic.Planned], duration: float):
    senders = traffic.Senders(system.api_url, system.fakes, system.api_url,
                              identity_secret=SCALE_IDENTITY_SECRET)
    start = time.monotonic()
    pending = list(plan)
    pool = ThreadPoolExecutor(max_workers=24)
    futures = {}
    while pending:
        now = time.monotonic() - start
        due = []
        for m in pending:
            if m.at > now:
                continue
            if m.after is not None:
                f = futures.get(id(m.after))
                if f is None or not f.done():
                    continue
                # The customer writes again once the previous message was answered.
                try:
                    if not processed(system.pg, m.after) and now < m.at + 120:
                        continue
                except Exception:
                    continue
            due.append(m)
        for m in due:
            pending.remove(m)
            futures[id(m)] = pool.submit(senders.send, m)
        time.sleep(0.2)
    pool.shutdown(wait=True)
    elapsed = time.monotonic() - start
    if elapsed < duration:
        time.sleep(duration - elapsed)


def main() -> int:
    args = arguments()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    run_dir = Path(args.results) / stamp
    run_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    profile = "short" if args.short else "full"
    print(f"[scale] {profile} profile: {args.duration:.0f} s of traffic and chaos, "
          f"{args.web} web, {args.email} email, {args.whatsapp} WhatsApp, {args.cross} "
          f"cross-channel customers, {args.workers} workers, model latency "
          f"{args.model_latency_ms} ms, seed {args.seed}; results in {run_dir}", flush=True)
    plan = traffic.plan(args.duration, args.web, args.email, args.whatsapp, args.cross, args.seed,
                        args.mix)
    day = daymod.Day(args.duration)
    # The short profile is a smoke test of every fault, not a faithful day:
    # a kill every six compressed hours instead of two.
    faults = day.faults(rng, args.workers, args.brokers,
                        kill_every_hours=6.0 if args.short else 2.0)
    print(f"[scale] compression factor {day.factor:.0f} (24 h in {day.window_s:.0f} s); "
          f"{args.brokers} brokers; {args.mix} mix; faults: "
          + "; ".join(f"h{f.hour:.1f} {f.kind}" + (f" {f.detail['signal']}" if f.kind == "pod kill" else "")
                      for f in faults), flush=True)
    system = System(args, run_dir)
    health = Health(system.api_url + "/health")
    started = time.time()
    try:
        system.start()
        health.start()
        chaos = Chaos(system, faults, rng)
        if not args.no_chaos:
            chaos.start()
        traffic_started = time.time()
        drive(system, plan, args.duration)
        chaos.stop()
        system.event("traffic done", sent=sum(1 for m in plan if m.sent_at))
        # Everything dead: restart what chaos left down, then let the system drain.
        for worker in system.workers:
            if not worker.alive():
                worker.start()
        drained = reconcile.wait_for_outcomes(system.pg, plan, timeout=90 if args.short else 180)
        system.event("drained" if drained else "drain timed out")
        health.stop()
        result = reconcile.reconcile(system, plan, health.samples, traffic_started)
        result["worker_phases"] = reconcile.worker_phases(
            sorted(run_dir.glob("worker-*.log")))
    finally:
        health.stop()
        system.stop()
    result["profile"] = {
        "name": profile, "duration_s": args.duration, "workers": args.workers,
        "brokers": args.brokers, "mix": args.mix, "binaries": str(system.bin),
        "compression_factor": round(day.factor, 1),
        "expected_escalation_rate": traffic.Mix(args.mix).expected_escalation_rate(),
        "model_latency_ms": args.model_latency_ms, "seed": args.seed,
        "kafka_session_timeout_ms": args.session_timeout_ms,
        "planned": {"web_form": args.web, "email": args.email, "whatsapp": args.whatsapp,
                    "cross_channel_customers": args.cross},
        "wall_clock_s": round(time.time() - started, 1),
    }
    result["faults"] = [f.as_json() for f in faults]
    result["events"] = [dict(e, t=round(e["t"] - traffic_started, 2)) for e in system.events]
    criteria = reconcile.criteria(result, short=args.short)
    result["criteria"] = criteria
    (run_dir / "report.json").write_text(json.dumps(result, indent=2, default=str))
    (run_dir / "report.html").write_text(report.html(result))
    print(report.summary(result))
    print(f"[scale] report: {run_dir / 'report.json'} and {run_dir / 'report.html'}")
    failed = [c for c in criteria if c["enforced"] and not c["pass"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
